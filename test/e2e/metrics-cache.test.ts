/**
 * /metrics of the real CLI with a response cache: Triton's nv_cache_* counters of a model with
 * `response_cache { enable: true }` move with hits and misses.
 */
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { addSubModel, writeModel } from '../fixtures/onnx-models.js';
import { startServer, type RunningServer } from './helpers/server-process.js';
import { tempDir } from './helpers/temp-repo.js';

const CONFIG = `
name: "simple"
backend: "onnxruntime"
max_batch_size: 8
input [ { name: "INPUT0", data_type: TYPE_INT32, dims: [ 16 ] }, { name: "INPUT1", data_type: TYPE_INT32, dims: [ 16 ] } ]
output [ { name: "OUTPUT0", data_type: TYPE_INT32, dims: [ 16 ] }, { name: "OUTPUT1", data_type: TYPE_INT32, dims: [ 16 ] } ]
response_cache { enable: true }
`;

const tmp = tempDir();
let server: RunningServer;

beforeAll(async () => {
  writeModel(path.join(tmp.dir, 'repo'), 'simple', addSubModel(), { config: CONFIG });
  server = await startServer(['--model-repository', path.join(tmp.dir, 'repo'), '--cache-config', 'local,size=1048576']);
});

afterAll(async () => {
  await server?.stop();
  tmp.cleanup();
});

async function scrape(family: string): Promise<number> {
  const text = await (await fetch(`${server.metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${family}{model="simple",version="1"} `));
  expect(line, `${family} in /metrics`).toBeDefined();
  return Number(line!.split(' ').at(-1));
}

test('nv_cache_num_hits/misses_per_model count the cached model on /metrics', async () => {
  expect(await scrape('nv_cache_num_hits_per_model')).toBe(0);
  expect(await scrape('nv_cache_num_misses_per_model')).toBe(0);
  const body = JSON.stringify({
    inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16], data: new Array(16).fill(3) })),
  });
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${server.url}/v2/models/simple/infer`, { method: 'POST', body });
    expect(res.status).toBe(200);
  }
  expect(await scrape('nv_cache_num_misses_per_model')).toBe(1);
  expect(await scrape('nv_cache_num_hits_per_model')).toBe(2);
  expect(await scrape('nv_cache_hit_duration_per_model')).toBeGreaterThanOrEqual(0);
  expect(await scrape('nv_cache_miss_duration_per_model')).toBeGreaterThanOrEqual(0);
});
