/**
 * The OCR example client (examples/ocr, compiled) against the real server on the example
 * repository: images rendered in the test with known text must be read back exactly.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const run = promisify(execFile);
const MAIN = path.resolve('examples/dist/ocr/src/main.js');
const tmp = tempDir('infera-ocr-');
let server: RunningServer;

/** Renders black text on a white background with padding, as a PNG file. */
async function render(file: string, text: string, dpi = 200): Promise<string> {
  const out = path.join(tmp.dir, file);
  await sharp({ text: { text, font: 'DejaVu Sans', dpi, rgba: true } })
    .flatten({ background: '#ffffff' })
    .extend({ top: 20, bottom: 20, left: 20, right: 20, background: '#ffffff' })
    .png()
    .toFile(out);
  return out;
}

beforeAll(async () => {
  server = await startServer(['--model-repository', path.resolve('examples/model_repository')]);
});

afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

const CASES = [
  ['hello.png', 'Hello World'],
  ['year.png', 'infera 2026'],
  ['triton.png', 'Triton on Node'],
] as const;

test('the OCR example prints the text of rendered images', async () => {
  const files = await Promise.all(CASES.map(([f, t]) => render(f, t)));
  for (let i = 0; i < files.length; i++) {
    const { stdout } = await run(process.execPath, [MAIN, '--url', server.url, files[i]!]);
    expect(stdout.trim()).toBe(CASES[i]![1]);
  }
});

test('two lines come back top to bottom', async () => {
  const file = await render('two-lines.png', 'The quick brown fox\njumps over the lazy dog');
  const { stdout } = await run(process.execPath, [MAIN, '--url', server.url, file]);
  expect(stdout.trim().split('\n')).toEqual(['The quick brown fox', 'jumps over the lazy dog']);
});
