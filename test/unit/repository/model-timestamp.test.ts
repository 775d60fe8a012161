/** Triton's ModelTimestamp: change detection over a model folder. */
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { ModelTimestamp, readModelTimestamp } from '../../../src/repository/model-timestamp.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';

const tmp = tempDir('infera-stamp-');
afterAll(() => tmp.cleanup());

/** Sets an mtime explicitly (seconds since the epoch), so the test never depends on the clock. */
function touch(file: string, seconds: number): void {
  utimesSync(file, seconds, seconds);
}

function model(name: string): { dir: string; config: string } {
  const dir = path.join(tmp.dir, name);
  mkdirSync(path.join(dir, '1'), { recursive: true });
  mkdirSync(path.join(dir, '2'), { recursive: true });
  const config = path.join(dir, 'config.pbtxt');
  for (const [f, t] of [[path.join(dir, '1', 'model.onnx'), 100], [path.join(dir, '2', 'model.onnx'), 100], [config, 100], [path.join(dir, 'labels.txt'), 100]] as const) {
    writeFileSync(f, 'x');
    touch(f, t);
  }
  for (const d of [path.join(dir, '1'), path.join(dir, '2'), dir]) touch(d, 100);
  return { dir, config };
}

describe('ModelTimestamp', () => {
  test('a newer file anywhere is a change; the newest time is taken recursively', async () => {
    const { dir, config } = model('m1');
    const before = await readModelTimestamp(dir, config);
    expect(before.newest).toBe(100_000_000_000n);
    expect(before.isModified(await readModelTimestamp(dir, config))).toBe(false);
    touch(path.join(dir, '2', 'model.onnx'), 200);
    const after = await readModelTimestamp(dir, config);
    expect(before.isModified(after)).toBe(true);
    expect(before.isVersionModified(after, 2)).toBe(true);
    expect(before.isVersionModified(after, 1)).toBe(false);
    expect(before.signature).not.toBe(after.signature);
  });

  test('a config-only change modifies the model, not its versions; a shared file modifies every version', async () => {
    const { dir, config } = model('m2');
    const before = await readModelTimestamp(dir, config);
    touch(config, 300);
    const configChanged = await readModelTimestamp(dir, config);
    expect(before.isModified(configChanged)).toBe(true);
    expect(before.isVersionModified(configChanged, 1)).toBe(false);
    touch(path.join(dir, 'labels.txt'), 400);
    expect(configChanged.isVersionModified(await readModelTimestamp(dir, config), 1)).toBe(true);
  });

  test('only newer counts, as in Triton; a deletion shows through the folder time', async () => {
    const { dir, config } = model('m3');
    const before = await readModelTimestamp(dir, config);
    touch(path.join(dir, '1', 'model.onnx'), 50);
    expect(before.isModified(await readModelTimestamp(dir, config))).toBe(false);
    rmSync(path.join(dir, 'labels.txt'));
    expect(before.isModified(await readModelTimestamp(dir, config))).toBe(true);
  });

  test('an unreadable folder reads as no times', async () => {
    expect(await readModelTimestamp(path.join(tmp.dir, 'missing'), 'x')).toBe(ModelTimestamp.NONE);
  });
});
