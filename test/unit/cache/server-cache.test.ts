/**
 * The response cache inside the embedded server, on a real ONNX model: a repeated request is
 * answered from the cache (same bytes, no execution), a model without `response_cache` or a
 * server without `--cache-config` executes every time.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { InferenceServer } from '../../../src/index.js';
import { identityModel, writeModel } from '../../fixtures/onnx-models.js';
import { tempDir } from '../../e2e/helpers/temp-repo.js';

const config = (name: string, cache: boolean) => `
name: "${name}"
backend: "onnxruntime"
max_batch_size: 4
input [ { name: "INPUT0", data_type: TYPE_FP32, dims: [ 4 ] } ]
output [ { name: "OUTPUT0", data_type: TYPE_FP32, dims: [ 4 ] } ]
instance_group [ { kind: KIND_CPU, count: 1 } ]
dynamic_batching { }
${cache ? 'response_cache { enable: true }' : ''}
`;

const tmp = tempDir();
let withCache: InferenceServer;
let withoutCache: InferenceServer;

beforeAll(async () => {
  writeModel(tmp.dir, 'cached', identityModel('FP32', ['batch', 4]), { config: config('cached', true) });
  writeModel(tmp.dir, 'plain', identityModel('FP32', ['batch', 4]), { config: config('plain', false) });
  [withCache, withoutCache] = await Promise.all([
    InferenceServer.create({ modelRepositories: [tmp.dir], responseCacheByteSize: 1 << 20, cpuCount: 1 }),
    InferenceServer.create({ modelRepositories: [tmp.dir], cpuCount: 1 }),
  ]);
});

afterAll(async () => {
  await Promise.all([withCache?.close(), withoutCache?.close()]);
  tmp.cleanup();
});

const values = [1.5, -2, 3.25, 4];
const infer = (server: InferenceServer, model: string, v = values) =>
  server.infer({
    modelName: model,
    inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [1, 4], data: new Uint8Array(Float32Array.from(v).buffer) }],
  });

function stats(server: InferenceServer, model: string) {
  const s = server.modelStatistics(model).model_stats[0] as unknown as {
    execution_count: number;
    inference_stats: { success: { count: number }; cache_hit: { count: number }; cache_miss: { count: number } };
  };
  return {
    executions: s.execution_count,
    success: s.inference_stats.success.count,
    hits: s.inference_stats.cache_hit.count,
    misses: s.inference_stats.cache_miss.count,
  };
}

const floats = (data: Uint8Array) => [...new Float32Array(data.slice().buffer)];

describe('response cache in the server', () => {
  test('a repeated request is a hit: identical output, no execution', async () => {
    const first = await infer(withCache, 'cached');
    const second = await infer(withCache, 'cached');
    expect(floats(second.outputs[0]!.data)).toEqual(values);
    expect(second.outputs[0]).toMatchObject({ name: 'OUTPUT0', datatype: 'FP32', shape: [1, 4] });
    expect(floats(second.outputs[0]!.data)).toEqual(floats(first.outputs[0]!.data));
    expect(stats(withCache, 'cached')).toEqual({ executions: 1, success: 2, hits: 1, misses: 1 });
    // Different input bytes are a different entry.
    const other = await infer(withCache, 'cached', [0, 0, 0, 1]);
    expect(floats(other.outputs[0]!.data)).toEqual([0, 0, 0, 1]);
    expect(stats(withCache, 'cached').executions).toBe(2);
  });

  test('a model without response_cache executes every request', async () => {
    await infer(withCache, 'plain');
    await infer(withCache, 'plain');
    expect(stats(withCache, 'plain')).toMatchObject({ executions: 2, hits: 0 });
  });

  test('response_cache on a server without --cache-config: the model loads and runs uncached', async () => {
    expect(withoutCache.isModelReady('cached')).toBe(true);
    await infer(withoutCache, 'cached');
    await infer(withoutCache, 'cached');
    expect(stats(withoutCache, 'cached')).toMatchObject({ executions: 2, hits: 0, misses: 0 });
  });
});

describe('response cache metrics', () => {
  const sample = (text: string, family: string, model: string): number | undefined => {
    const line = text.split('\n').find((l) => l.startsWith(`${family}{model="${model}",version="1"}`));
    return line === undefined ? undefined : Number(line.split(' ').at(-1));
  };

  test("nv_cache_* counters move with hits and misses, only for models with the cache on (Triton's families)", async () => {
    const before = await withCache.metrics.text();
    const hits0 = sample(before, 'nv_cache_num_hits_per_model', 'cached');
    const misses0 = sample(before, 'nv_cache_num_misses_per_model', 'cached');
    expect(hits0).toBeTypeOf('number');
    expect(misses0).toBeTypeOf('number');
    await infer(withCache, 'cached', [7, 7, 7, 7]); // miss
    await infer(withCache, 'cached', [7, 7, 7, 7]); // hit
    await infer(withCache, 'cached', [7, 7, 7, 7]); // hit
    const after = await withCache.metrics.text();
    expect(sample(after, 'nv_cache_num_hits_per_model', 'cached')).toBe(hits0! + 2);
    expect(sample(after, 'nv_cache_num_misses_per_model', 'cached')).toBe(misses0! + 1);
    expect(sample(after, 'nv_cache_hit_duration_per_model', 'cached')).toBeTypeOf('number');
    expect(sample(after, 'nv_cache_miss_duration_per_model', 'cached')).toBeTypeOf('number');
    expect(after).toContain('# TYPE nv_cache_num_hits_per_model counter');
    // No series for a model without response_cache, nor on a server without a cache.
    expect(sample(after, 'nv_cache_num_hits_per_model', 'plain')).toBeUndefined();
    expect(await withoutCache.metrics.text()).not.toMatch(/^nv_cache_num_hits_per_model\{/m);
  });

  test('the pinned memory pool gauges are reported', async () => {
    const text = await withCache.metrics.text();
    expect(text).toMatch(/^nv_pinned_memory_pool_total_bytes \d+$/m);
    expect(text).toMatch(/^nv_pinned_memory_pool_used_bytes \d+$/m);
  });
});
