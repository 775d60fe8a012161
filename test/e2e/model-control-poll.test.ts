/**
 * Poll mode through the real CLI (`--repository-poll-secs 1`): while a client sends a steady
 * stream of small infers, the test rewrites a model's config, adds a model, adds a version and
 * removes a model. No request fails, and the index shows the expected states after each change.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HttpClient } from '../../src/client/index.js';
import { addSubModel, identityModel, writeModel } from '../fixtures/onnx-models.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const simpleConfig = (maxBatch: number, policy: string) => `backend: "onnxruntime"
max_batch_size: ${maxBatch}
version_policy: ${policy}
instance_group [ { kind: KIND_CPU count: 1 } ]
`;
const ONE_INSTANCE = 'backend: "onnxruntime"\ninstance_group [ { kind: KIND_CPU count: 1 } ]\n';

const repo = tempDir();
let server: RunningServer;
let client: HttpClient;

beforeAll(async () => {
  writeModel(repo.dir, 'simple', addSubModel(), { config: simpleConfig(8, '{ latest { num_versions: 1 } }') });
  writeModel(repo.dir, 'doomed', identityModel('FP32', ['batch', 4]), { config: ONE_INSTANCE });
  server = await startServer(['--model-repository', repo.dir, '--model-control-mode', 'poll', '--repository-poll-secs', '1']);
  client = new HttpClient({ url: server.url });
});

afterAll(async () => {
  await server?.stop();
  repo.cleanup();
});

/** Re-checks `condition` until it holds (bounded: a poll needs two ticks to accept a change). */
async function eventually(condition: () => Promise<boolean>, what: string, limitMs = 15_000): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`still not true after ${limitMs} ms: ${what}\nindex: ${JSON.stringify(await client.repositoryIndex())}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function indexHas(row: Record<string, string>): Promise<boolean> {
  return (await client.repositoryIndex()).some((r) => Object.entries(row).every(([k, v]) => (r as Record<string, unknown>)[k] === v));
}

describe('model control: poll', () => {
  test('a busy model is reconfigured, gains a version, models come and go: no request fails', async () => {
    let stop = false;
    let ok = 0;
    const errors: string[] = [];
    const a = Int32Array.from({ length: 16 }, (_, i) => i);
    const loop = (async () => {
      // Bounded: the steps below take a few poll intervals; this never runs past a minute.
      for (let i = 0; i < 20_000 && !stop; i++) {
        try {
          const res = await client.infer({
            model: 'simple',
            inputs: [
              { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: a },
              { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: a },
            ],
          });
          if ((res.output('OUTPUT0').data as Int32Array)[3] !== 6) errors.push(`wrong sum from version ${res.modelVersion}`);
          ok++;
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    })();

    try {
      // 1. Config change (max_batch_size and version policy): reloaded in the background.
      writeFileSync(path.join(repo.dir, 'simple', 'config.pbtxt'), simpleConfig(4, '{ all {} }'));
      await eventually(async () => (await client.modelConfig('simple')).max_batch_size === 4, 'config reloaded');
      expect(await client.repositoryIndex()).toEqual([
        { name: 'doomed', version: '1', state: 'READY' },
        { name: 'simple', version: '1', state: 'READY' },
      ]);

      // 2. A new model.
      writeModel(repo.dir, 'added', identityModel('FP32', ['batch', 4]), { config: ONE_INSTANCE });
      await eventually(() => indexHas({ name: 'added', version: '1', state: 'READY' }), 'new model loaded');

      // 3. A new version of the busy model (policy "all": both serve; requests go to the newest).
      writeModel(repo.dir, 'simple', addSubModel(), { versions: [2] });
      await eventually(() => indexHas({ name: 'simple', version: '2', state: 'READY' }), 'version 2 loaded');
      expect(await indexHas({ name: 'simple', version: '1', state: 'READY' })).toBe(true);
      expect((await client.modelMetadata('simple')).versions).toEqual(['1', '2']);

      // 4. A removed model.
      rmSync(path.join(repo.dir, 'doomed'), { recursive: true });
      await eventually(async () => !(await client.repositoryIndex()).some((r) => r.name === 'doomed'), 'removed model unloaded');
      expect(await client.isModelReady('doomed')).toBe(false);
    } finally {
      stop = true;
      await loop;
    }

    expect(errors).toEqual([]);
    expect(ok).toBeGreaterThan(0);
    expect(await client.repositoryIndex()).toEqual([
      { name: 'added', version: '1', state: 'READY' },
      { name: 'simple', version: '1', state: 'READY' },
      { name: 'simple', version: '2', state: 'READY' },
    ]);
    expect((await fetch(`${server.url}/v2/health/ready`)).status).toBe(200);
  });

  test('load and unload are refused in poll mode', async () => {
    const res = await fetch(`${server.url}/v2/repository/models/simple/load`, { method: 'POST' });
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: 'explicit model load / unload is not allowed if polling is enabled' });
  });
});
