import { describe, expect, test } from 'vitest';
import { InvalidArgumentError } from '../../../src/errors/index.js';
import { ModelStatistics } from '../../../src/observability/model-statistics.js';
import { queryModelStatistics } from '../../../src/observability/statistics-query.js';
import { NO_STATS } from '../../../src/observability/stats-recorder.js';

const timing = (inputNs: number, inferNs: number, outputNs: number) => ({ inputNs, inferNs, outputNs });

describe('ModelStatistics', () => {
  test('a fresh recorder reports zeros in Triton\'s key order', () => {
    const json = new ModelStatistics().toJson('m', 3);
    expect(Object.keys(json)).toEqual([
      'name',
      'version',
      'last_inference',
      'inference_count',
      'execution_count',
      'inference_stats',
      'response_stats',
      'batch_stats',
      'memory_usage',
    ]);
    expect(Object.keys(json.inference_stats)).toEqual([
      'success',
      'fail',
      'queue',
      'compute_input',
      'compute_infer',
      'compute_output',
      'cache_hit',
      'cache_miss',
    ]);
    expect(json).toMatchObject({ name: 'm', version: '3', last_inference: 0, inference_count: 0, execution_count: 0 });
    expect(json.inference_stats.success).toEqual({ count: 0, ns: 0 });
    expect(json.response_stats).toEqual({});
    expect(json.batch_stats).toEqual([]);
    expect(json.memory_usage).toEqual([]);
  });

  test('success: end-to-end duration; queue and compute per request; executions per batch', () => {
    const s = new ModelStatistics();
    // One batch of 3 (two requests of 1 and 2) and one batch of 1.
    s.execution(3, timing(10, 100, 20));
    s.requestSuccess(1_000, 50, timing(10, 100, 20), 2_000);
    s.requestSuccess(1_100, 40, timing(10, 100, 20), 2_100);
    s.execution(1, timing(5, 50, 5));
    s.requestSuccess(5_000, 0, timing(5, 50, 5), 5_500);
    const json = s.toJson('m', 1);
    expect(json.inference_count).toBe(4);
    expect(json.execution_count).toBe(2);
    expect(json.last_inference).toBeGreaterThan(Date.now() - 60_000);
    expect(json.inference_stats).toMatchObject({
      success: { count: 3, ns: 1_000 + 1_000 + 500 },
      fail: { count: 0, ns: 0 },
      queue: { count: 3, ns: 90 },
      compute_input: { count: 3, ns: 25 },
      compute_infer: { count: 3, ns: 250 },
      compute_output: { count: 3, ns: 45 },
    });
    expect(json.batch_stats).toEqual([
      { batch_size: 1, compute_input: { count: 1, ns: 5 }, compute_infer: { count: 1, ns: 50 }, compute_output: { count: 1, ns: 5 } },
      { batch_size: 3, compute_input: { count: 1, ns: 10 }, compute_infer: { count: 1, ns: 100 }, compute_output: { count: 1, ns: 20 } },
    ]);
  });

  test('failures count with their duration and reason; no execution is reported for them', () => {
    const s = new ModelStatistics();
    s.requestFailure('BACKEND', 100, 400);
    s.requestFailure('CANCELED', 100, 150);
    expect(s.toJson('m', 1).inference_stats.fail).toEqual({ count: 2, ns: 350 });
    expect(s.failuresByReason).toEqual({ REJECTED: 0, CANCELED: 1, BACKEND: 1, OTHER: 0 });
    expect(s.toJson('m', 1).execution_count).toBe(0);
  });

  test('cache hits count as success and queue but not compute; misses add to the request time', () => {
    const s = new ModelStatistics();
    s.requestSuccess(0, 10, timing(1, 2, 3), 1_000);
    s.cacheMiss(200);
    s.cacheHit(0, 5, 30, 100);
    const st = s.toJson('m', 1).inference_stats;
    expect(st.success).toEqual({ count: 2, ns: 1_000 + 200 + 100 });
    expect(st.queue).toEqual({ count: 2, ns: 15 });
    expect(st.compute_infer).toEqual({ count: 1, ns: 2 });
    expect(st.cache_hit).toEqual({ count: 1, ns: 30 });
    expect(st.cache_miss).toEqual({ count: 1, ns: 200 });
  });

  test('µs totals truncate each request, as Triton\'s metric counters do', () => {
    const s = new ModelStatistics();
    s.requestSuccess(0, 1_999, timing(999, 1_500, 0), 2_999);
    s.requestSuccess(0, 1_999, timing(999, 1_500, 0), 2_999);
    expect(s.micros).toMatchObject({ request: 4, queue: 2, computeInput: 0, computeInfer: 2, computeOutput: 0 });
  });

  test('pending follows the scheduler and load duration is measured to loaded()', () => {
    const s = new ModelStatistics();
    s.pending(1);
    s.pending(1);
    s.pending(-1);
    expect(s.pendingCount).toBe(1);
    s.loaded();
    expect(s.loadDurationSecs).toBeGreaterThanOrEqual(0);
    expect(s.loadDurationSecs).toBeLessThan(60);
  });
});

describe('queryModelStatistics', () => {
  const a1 = { name: 'a', version: 1, stats: new ModelStatistics() };
  const a2 = { name: 'a', version: 2, stats: new ModelStatistics() };
  const b1 = { name: 'b', version: 1, stats: NO_STATS };

  test('lists every READY version sorted by name and version', () => {
    const all = queryModelStatistics([b1, a2, a1]);
    expect(all.model_stats.map((m) => `${m.name}:${m.version}`)).toEqual(['a:1', 'a:2', 'b:1']);
    expect(queryModelStatistics([b1, a2, a1], '').model_stats).toHaveLength(3);
  });

  test('one model, one version', () => {
    expect(queryModelStatistics([a1, a2, b1], 'a').model_stats.map((m) => m.version)).toEqual(['1', '2']);
    expect(queryModelStatistics([a1, a2, b1], 'a', 2).model_stats.map((m) => m.version)).toEqual(['2']);
  });

  test("unknown model and version errors are Triton's (400)", () => {
    expect(() => queryModelStatistics([a1], 'zzz')).toThrow(new InvalidArgumentError("requested model 'zzz' is not available"));
    expect(() => queryModelStatistics([a1], 'a', 7)).toThrow(
      new InvalidArgumentError("requested model version is not available for model 'a'"),
    );
  });
});
