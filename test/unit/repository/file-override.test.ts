/** `file:` load parameters: path checks (CVE-2023-31036) and what lands on disk. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { overrideRelativePath, removeOverrideFolder, writeOverrideFolder } from '../../../src/repository/file-override.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';

const privateTmp = tempDir('infera-tmpdir-');
process.env.TMPDIR = privateTmp.dir;
afterAll(() => privateTmp.cleanup());

const bytes = (s: string) => new TextEncoder().encode(s);

describe('overrideRelativePath', () => {
  const dir = '/tmp/folder/model';
  test.each([
    ['file:1/model.onnx', '1/model.onnx'],
    ['file:./1//model.onnx', '1/model.onnx'],
    ['labels.txt', 'labels.txt'],
  ])('%s → %s', (param, rel) => {
    expect(overrideRelativePath(param, dir)).toBe(rel);
  });

  test.each([
    ['file:../../escape', "Invalid file parameter 'file:../../escape' with normalized path '/tmp/escape' must stay within model directory."],
    ['file:1/../../x', 'must stay within model directory'],
    ['file:1/../1/model.onnx', "must not contain '..' segments"],
    ['file:/etc/passwd', 'must be relative'],
    ['file:1\\model.onnx', 'backslash'],
    ['file:1/a\0b', 'NUL'],
    ['file:', 'empty'],
    ['file:.', 'must stay within model directory'],
  ])('%s is refused', (param, message) => {
    expect(() => overrideRelativePath(param, dir)).toThrow(message);
  });
});

describe('writeOverrideFolder', () => {
  test('writes every file under <tmp>/infera-model-*/<model>/ and removes it on request', async () => {
    const folder = await writeOverrideFolder('m', new Map([
      ['file:1/model.onnx', bytes('onnx')],
      ['file:labels.txt', bytes('a\nb\n')],
    ]));
    expect(path.dirname(folder.root)).toBe(await import('node:fs/promises').then((fs) => fs.realpath(os.tmpdir())));
    expect(folder.dir).toBe(path.join(folder.root, 'm'));
    expect(readFileSync(path.join(folder.dir, '1', 'model.onnx'), 'utf8')).toBe('onnx');
    expect(readFileSync(path.join(folder.dir, 'labels.txt'), 'utf8')).toBe('a\nb\n');
    await removeOverrideFolder(folder.root);
    expect(existsSync(folder.root)).toBe(false);
  });

  test('one bad path writes nothing at all', async () => {
    const before = readdirSync(os.tmpdir());
    await expect(
      writeOverrideFolder('m', new Map([
        ['file:1/model.onnx', bytes('ok')],
        ['file:../../../escape.txt', bytes('x')],
      ])),
    ).rejects.toMatchObject({ code: 'INVALID_ARG' });
    expect(readdirSync(os.tmpdir())).toEqual(before);
    expect(existsSync(path.join(path.dirname(os.tmpdir()), 'escape.txt'))).toBe(false);
  });

  test('a file and a folder of the same name clash', async () => {
    await expect(
      writeOverrideFolder('m', new Map([
        ['file:1/model.onnx', bytes('a')],
        ['file:1', bytes('b')],
      ])),
    ).rejects.toThrow("Invalid file parameter 'file:1/model.onnx': directory has been created as a file");
  });
});
