import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A temporary folder for a fixture model repository; `cleanup` removes it. */
export function tempDir(prefix = 'infera-repo-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Copies a model of `examples/model_repository` into `repo`: `files` are paths inside the
 * model's folder (by default its config, labels and version 1 ONNX file).
 */
export function copyExampleModel(repo: string, name: string, files = ['config.pbtxt', 'labels.txt', '1/model.onnx']): void {
  const src = path.resolve('examples/model_repository', name);
  for (const f of files) {
    const dest = path.join(repo, name, f);
    mkdirSync(path.dirname(dest), { recursive: true });
    copyFileSync(path.join(src, f), dest);
  }
}
