import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { folderBytes, modelMemoryOf } from '../../../src/repository/model-memory.js';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'infera-model-memory-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('modelMemoryOf', () => {
  it('counts the larger of the RSS and external deltas, never below the files', () => {
    const before = { rss: 1000, external: 100 };
    expect(modelMemoryOf(before, { rss: 5000, external: 300 }, 1200, 2, 12.5)).toEqual({
      bytes: 4000,
      rssDeltaBytes: 4000,
      externalDeltaBytes: 200,
      fileBytes: 1200,
      instances: 2,
      perInstanceBytes: 2000,
      loadMs: 12.5,
    });
    // Memory an earlier unload left behind was reused: the files are the floor.
    expect(modelMemoryOf(before, { rss: 900, external: 100 }, 1200, 1, 1).bytes).toBe(1200);
    // An ensemble has no instances: its whole figure is per "instance".
    expect(modelMemoryOf(before, { rss: 1000, external: 100 }, 300, 0, 1)).toMatchObject({ bytes: 300, perInstanceBytes: 300 });
  });
});

describe('folderBytes', () => {
  it('adds up the files under a folder, following links; 0 for a folder that is not there', async () => {
    mkdirSync(path.join(tmp, 'm', '1'), { recursive: true });
    writeFileSync(path.join(tmp, 'm', 'config.pbtxt'), 'x'.repeat(10));
    writeFileSync(path.join(tmp, 'm', '1', 'model.onnx'), Buffer.alloc(1000));
    writeFileSync(path.join(tmp, 'weights.bin'), Buffer.alloc(500));
    symlinkSync(path.join(tmp, 'weights.bin'), path.join(tmp, 'm', '1', 'weights.bin'));
    expect(await folderBytes(path.join(tmp, 'm'))).toBe(1510);
    expect(await folderBytes(path.join(tmp, 'absent'))).toBe(0);
  });
});
