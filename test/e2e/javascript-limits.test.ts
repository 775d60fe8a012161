/**
 * JavaScript instance limits through the real CLI over HTTP: a model that grows its heap
 * without bound fails its request (500) instead of aborting the server; a model that never
 * resolves is cut off by `unload` after --exit-timeout-secs (its request 503), the index shows
 * it UNAVAILABLE and it loads and serves again.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { writeJsModel } from '../fixtures/js-models/repo.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const tmp = tempDir('infera-js-limits-e2e-');
let server: RunningServer;

const config = (parameters: string): string => `
  backend: "javascript"
  input [{ name: "MODE", data_type: TYPE_INT32, dims: [1] }]
  output [{ name: "EXECUTIONS", data_type: TYPE_INT32, dims: [1] }]
  instance_group [{ count: 1, kind: KIND_CPU }]
  ${parameters}`;

beforeAll(async () => {
  writeJsModel(tmp.dir, 'heap', 'runaway.mjs', config('parameters { key: "MAX_HEAP_MB" value { string_value: "64" } }'));
  writeJsModel(tmp.dir, 'stuck', 'runaway.mjs', config(''));
  server = await startServer(['--model-repository', tmp.dir, '--model-control-mode', 'explicit', '--load-model', '*', '--exit-timeout-secs', '1']);
}, 60_000);

afterAll(async () => {
  expect(await server?.stop()).toBe(0);
  tmp.cleanup();
});

async function infer(model: string, mode: number): Promise<{ status: number; json: Record<string, unknown> }> {
  const body = { inputs: [{ name: 'MODE', datatype: 'INT32', shape: [1], data: [mode] }] };
  const res = await fetch(`${server.url}/v2/models/${model}/infer`, { method: 'POST', body: JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe('javascript instance limits over HTTP', () => {
  test('a model that grows its heap past MAX_HEAP_MB fails its request; the server and the model serve on', async () => {
    const grown = await infer('heap', 1);
    expect(grown).toEqual({
      status: 500,
      json: { error: expect.stringMatching(/^model 'heap' version 1 instance 'heap_0_0': .*JS heap out of memory \(MAX_HEAP_MB 64\); the instance is restarting$/) },
    });
    expect(await infer('heap', 0)).toMatchObject({ status: 200, json: { outputs: [{ data: [1] }] } });
    expect((await fetch(`${server.url}/v2/health/live`)).status).toBe(200);
  }, 30_000);

  test('unload of a never-resolving model returns after --exit-timeout-secs; load works after', async () => {
    const hung = infer('stuck', 4);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const unload = await fetch(`${server.url}/v2/repository/models/stuck/unload`, { method: 'POST' });
    expect(unload.status).toBe(200);
    expect(await hung).toEqual({
      status: 503,
      json: { error: "model 'stuck' version 1 instance 'stuck_0_0': unloading did not finish within the exit timeout of 1 s; its worker thread was terminated" },
    });
    const index = (await (await fetch(`${server.url}/v2/repository/index`, { method: 'POST' })).json()) as { name: string; state: string }[];
    expect(index.find((e) => e.name === 'stuck')).toMatchObject({ state: 'UNAVAILABLE' });
    expect((await fetch(`${server.url}/v2/repository/models/stuck/load`, { method: 'POST' })).status).toBe(200);
    expect(await infer('stuck', 0)).toMatchObject({ status: 200, json: { outputs: [{ data: [1] }] } });
  }, 30_000);
});
