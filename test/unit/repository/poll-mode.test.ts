/**
 * Poll mode through the repository manager: each change is picked up once two polls read the
 * same files (`pollNow` twice), a changed model keeps serving while it reloads, a failed
 * reload keeps the old one, removed models unload at once.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import type { ModelRepositoryManager } from '../../../src/repository/model-repository-manager.js';
import { identityModel } from '../../fixtures/onnx-models.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';
import { ONE_INSTANCE, configFile, createManager, infer, nextTick, writeIdentity } from './helpers.js';

const tmp = tempDir('infera-poll-');
afterAll(() => tmp.cleanup());

let manager: ModelRepositoryManager | undefined;
afterEach(async () => {
  await manager?.unloadAll();
  manager = undefined;
});

let n = 0;
async function start(): Promise<{ dir: string; m: ModelRepositoryManager }> {
  const dir = path.join(tmp.dir, `r${n++}`);
  writeIdentity(dir, 'a', [1]);
  writeIdentity(dir, 'b');
  // The timer is far away: the tests drive the polls.
  manager = createManager(dir, { controlMode: 'poll', pollSecs: 3600 });
  await manager.loadAll();
  return { dir, m: manager };
}

async function pollTwice(m: ModelRepositoryManager): Promise<void> {
  await m.pollNow();
  await m.pollNow();
}

describe('poll mode', () => {
  test('a config change is loaded after the files stay unchanged for one poll, without downtime', async () => {
    const { dir, m } = await start();
    const old = m.getReady('a');
    let stop = false;
    let served = 0;
    const failures: unknown[] = [];
    const client = (async () => {
      while (!stop) {
        try {
          await infer(m, 'a', [served, 1]);
          served++;
        } catch (err) {
          failures.push(err);
        }
      }
    })();

    await nextTick();
    writeFileSync(configFile(dir, 'a'), `${ONE_INSTANCE}max_batch_size: 2\n`);
    await m.pollNow();
    expect(m.getReady('a')).toBe(old); // seen, not loaded yet
    await m.pollNow();
    stop = true;
    await client;

    expect(failures).toEqual([]);
    expect(served).toBeGreaterThan(0);
    expect(m.getReady('a')).not.toBe(old);
    expect(m.config('a').maxBatchSize).toBe(2);
    expect(old.state).toBe('UNAVAILABLE'); // unloaded once the new one served
    expect(m.index()).toEqual([
      { name: 'a', version: '1', state: 'READY' },
      { name: 'b', version: '1', state: 'READY' },
    ]);
  });

  test('added version, added model, removed model', async () => {
    const { dir, m } = await start();
    await nextTick();
    writeIdentity(dir, 'a', [2]);
    writeIdentity(dir, 'c');
    await pollTwice(m);
    expect(await infer(m, 'a', [5, 6])).toEqual({ version: 2, output: [5, 6] });
    expect(m.index()).toEqual([
      { name: 'a', version: '1', state: 'UNAVAILABLE', reason: 'unloaded' },
      { name: 'a', version: '2', state: 'READY' },
      { name: 'b', version: '1', state: 'READY' },
      { name: 'c', version: '1', state: 'READY' },
    ]);

    rmSync(path.join(dir, 'b'), { recursive: true });
    await m.pollNow(); // removal needs no second look
    expect(m.index().map((r) => r.name)).toEqual(['a', 'a', 'c']);
    expect(() => m.getReady('b')).toThrow("'b' has no available versions");
    expect(m.allModelsReady()).toBe(true);
  });

  test('a half-written model is not loaded and the old one keeps serving', async () => {
    const { dir, m } = await start();
    const old = m.getReady('a');
    await nextTick();
    mkdirSync(path.join(dir, 'a', '2'));
    writeFileSync(path.join(dir, 'a', '2', 'model.onnx'), identityModel('INT32', ['batch', 2]).subarray(0, 20));
    await pollTwice(m);
    expect(m.getReady('a')).toBe(old);
    expect(await infer(m, 'a', [1, 1])).toMatchObject({ version: 1 });
    expect(m.index().find((r) => r.name === 'a' && r.version === '2')).toMatchObject({ state: 'UNAVAILABLE' });

    // The copy completes: the model loads.
    await nextTick();
    writeFileSync(path.join(dir, 'a', '2', 'model.onnx'), identityModel('INT32', ['batch', 2]));
    await pollTwice(m);
    expect(await infer(m, 'a', [1, 1])).toMatchObject({ version: 2 });
    expect(m.allModelsReady()).toBe(true);
  });

  test('a config that does not parse keeps the old config serving', async () => {
    const { dir, m } = await start();
    const old = m.getReady('b');
    await nextTick();
    writeFileSync(configFile(dir, 'b'), 'max_batch_size: "');
    await pollTwice(m);
    expect(m.getReady('b')).toBe(old);
    expect(m.index().find((r) => r.name === 'b')).toEqual({ name: 'b', version: '1', state: 'READY' });
  });

  test('load and unload are refused; pollNow is refused outside poll mode', async () => {
    const { m } = await start();
    await expect(m.load('a')).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    const none = createManager(path.join(tmp.dir, 'r0'));
    await expect(none.pollNow()).rejects.toMatchObject({ code: 'UNAVAILABLE', message: 'polling is disabled' });
    expect(() => createManager(tmp.dir, { controlMode: 'poll', pollSecs: 0 })).toThrow(/greater than 0/);
  });

  test('the poll timer stops when the manager closes', async () => {
    const dir = path.join(tmp.dir, `r${n++}`);
    writeIdentity(dir, 'a');
    const m = createManager(dir, { controlMode: 'poll', pollSecs: 0.02 });
    await m.loadAll();
    await m.unloadAll();
    writeIdentity(dir, 'late');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(m.index().find((r) => r.name === 'late')).toEqual({ name: 'late' });
  });
});
