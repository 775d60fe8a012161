/**
 * The response cache on its own: keys, LRU eviction bounded by bytes, copies, and which models
 * use it; and the `--cache-config` flag.
 */
import { create } from '@bufbuild/protobuf';
import { describe, expect, test } from 'vitest';
import { responseCacheKey } from '../../../src/cache/cache-key.js';
import { collectCacheConfig, responseCacheSize } from '../../../src/cache/cache-config.js';
import { ResponseCache, usesResponseCache } from '../../../src/cache/response-cache.js';
import { ModelConfigSchema } from '../../../src/generated/model_config_pb.js';
import type { InferenceRequest, Tensor } from '../../../src/infer/tensor.js';

const cached = create(ModelConfigSchema, { name: 'm', responseCache: { enable: true } });

function request(values: number[], extra: Partial<InferenceRequest> = {}): InferenceRequest {
  const data = new Uint8Array(Int32Array.from(values).buffer);
  return { modelName: 'm', inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, values.length], data }], ...extra };
}

function output(bytes: number, fill = 1): Tensor[] {
  return [{ name: 'OUTPUT0', datatype: 'UINT8', shape: [1, bytes], data: new Uint8Array(bytes).fill(fill) }];
}

describe('cache key', () => {
  test('same request, same key; any difference in model, version, inputs or outputs changes it', () => {
    const base = responseCacheKey('m', 1, request([1, 2, 3]));
    expect(responseCacheKey('m', 1, request([1, 2, 3]))).toBe(base);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    const others = [
      responseCacheKey('n', 1, request([1, 2, 3])),
      responseCacheKey('m', 2, request([1, 2, 3])),
      responseCacheKey('m', 1, request([1, 2, 4])),
      responseCacheKey('m', 1, { ...request([1, 2, 3]), inputs: [{ ...request([1, 2, 3]).inputs[0]!, shape: [3, 1] }] }),
      responseCacheKey('m', 1, { ...request([1, 2, 3]), inputs: [{ ...request([1, 2, 3]).inputs[0]!, datatype: 'FP32' }] }),
      responseCacheKey('m', 1, request([1, 2, 3], { outputs: [{ name: 'OUTPUT0' }] })),
      responseCacheKey('m', 1, request([1, 2, 3], { outputs: [{ name: 'OUTPUT0', classification: 2 }] })),
    ];
    expect(new Set([base, ...others]).size).toBe(others.length + 1);
  });

  test('input order does not matter (inputs are hashed by name), the request id does not either', () => {
    const a: Tensor = { name: 'A', datatype: 'UINT8', shape: [1, 1], data: Uint8Array.of(1) };
    const b: Tensor = { name: 'B', datatype: 'UINT8', shape: [1, 1], data: Uint8Array.of(2) };
    expect(responseCacheKey('m', 1, { modelName: 'm', inputs: [a, b], id: 'x' })).toBe(
      responseCacheKey('m', 1, { modelName: 'm', inputs: [b, a], id: 'y' }),
    );
  });
});

describe('ResponseCache', () => {
  test('a miss, a store, then a hit with equal but separate bytes', () => {
    const cache = new ResponseCache(10_000);
    const miss = cache.lookup('m', 1, cached, request([1]))!;
    expect(miss.outputs).toBeUndefined();
    const out = output(16, 7);
    expect(cache.store(miss, out).result).toBe('stored');
    out[0]!.data.fill(0); // the caller's later writes do not reach the cache
    const hit = cache.lookup('m', 1, cached, request([1]))!;
    expect(hit.key).toBe(miss.key);
    expect([...hit.outputs![0]!.data]).toEqual(new Array(16).fill(7));
    hit.outputs![0]!.data.fill(9);
    expect([...cache.lookup('m', 1, cached, request([1]))!.outputs![0]!.data]).toEqual(new Array(16).fill(7));
    expect(cache.store(miss, out).result).toBe('exists');
  });

  test('evicts least recently used entries to stay within its byte size', () => {
    const cache = new ResponseCache(1000);
    const probe = (v: number) => cache.lookup('m', 1, cached, request([v]))!;
    for (const v of [1, 2, 3]) cache.store(probe(v), output(200, v));
    const perEntry = cache.usedBytes / 3;
    expect(perEntry).toBeGreaterThan(200);
    expect(probe(1).outputs).toBeDefined(); // 1 is now the most recent; 2 is the oldest
    cache.store(probe(4), output(200, 4));
    expect(cache.usedBytes).toBeLessThanOrEqual(1000);
    expect(cache.entryCount).toBe(3);
    expect(probe(2).outputs).toBeUndefined();
    expect(probe(1).outputs).toBeDefined();
    expect(probe(3).outputs).toBeDefined();
    expect(probe(4).outputs).toBeDefined();
    // An entry larger than the whole cache is not stored and evicts nothing.
    expect(cache.store(probe(5), output(2000)).result).toBe('too-large');
    expect(cache.entryCount).toBe(3);
    // A big entry pushes out as many old ones as it needs.
    cache.store(probe(6), output(600, 6));
    expect(cache.usedBytes).toBeLessThanOrEqual(1000);
    expect(probe(6).outputs).toBeDefined();
    expect(cache.entryCount).toBe(1);
  });

  test('only models with response_cache enabled use it; never sequence-batched or decoupled ones', () => {
    const cache = new ResponseCache(1000);
    expect(cache.lookup('m', 1, create(ModelConfigSchema, { name: 'm' }), request([1]))).toBeUndefined();
    expect(usesResponseCache(cached)).toBe(true);
    const sequence = create(ModelConfigSchema, { responseCache: { enable: true }, schedulingChoice: { case: 'sequenceBatching', value: {} } });
    expect(usesResponseCache(sequence)).toBe(false);
    const decoupled = create(ModelConfigSchema, { responseCache: { enable: true }, modelTransactionPolicy: { decoupled: true } });
    expect(usesResponseCache(decoupled)).toBe(false);
  });
});

describe('--cache-config', () => {
  test('local,size=<bytes>', () => {
    expect(responseCacheSize(undefined)).toBeUndefined();
    expect(responseCacheSize(['local,size=1048576'])).toBe(1048576);
    expect(collectCacheConfig('local,size=5', { local: { other: 'x' } })).toEqual({ local: { other: 'x', size: '5' } });
  });

  test("Triton's format errors and infera's limits", () => {
    expect(() => responseCacheSize(['size=5'])).toThrow('No cache specified. --cache-config option format is <cache name>,<setting>=<value>. Got size=5');
    expect(() => responseCacheSize(['local,size'])).toThrow("--cache-config option format is '<cache name>,<setting>=<value>'. Got local,size");
    expect(() => responseCacheSize(['local,size='])).toThrow("Got local,size=");
    expect(() => responseCacheSize(['redis,host=localhost'])).toThrow(/cache 'redis' is not available/);
    expect(() => responseCacheSize(['local,size=0'])).toThrow(/positive number of bytes, got '0'/);
    expect(() => responseCacheSize(['local,size=1k'])).toThrow(/got '1k'/);
    expect(() => responseCacheSize(['local,other=1'])).toThrow(/needs a size/);
  });
});
