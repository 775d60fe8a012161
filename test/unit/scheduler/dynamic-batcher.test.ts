/**
 * The dynamic batcher against fake instances: how preferred sizes, the queue delay, priorities,
 * queue policies, shapes, cancellation and preserve_ordering shape the batches.
 */
import { describe, expect, test } from 'vitest';
import { CancelledError, UnavailableError } from '../../../src/errors/index.js';
import { BatchingInstance, batchingOptions } from '../../../src/backends/batching-instance.js';
import { DynamicBatchScheduler } from '../../../src/scheduler/dynamic-batch-scheduler.js';
import type { ScheduledResult } from '../../../src/scheduler/scheduler.js';
import { NO_STATS, type ModelStatsRecorder } from '../../../src/observability/stats-recorder.js';
import { FakeInstance, firstValue, fp32, fp32Config, payload, tick } from './dynamic-fakes.js';

function batcher(dynamic: Record<string, unknown>, instances: FakeInstance[], opts: Parameters<typeof fp32Config>[0] = {}, stats = NO_STATS) {
  const config = fp32Config({ ...opts, dynamic });
  return new DynamicBatchScheduler(config, instances.map((i) => new BatchingInstance(i, batchingOptions(config))), 'fake:1', stats);
}

const sizes = (inst: FakeInstance) => inst.batches.map((b) => b.shapes[0]![0]);

describe('batch formation', () => {
  test('a free instance takes the largest preferred size available; the rest goes next', async () => {
    const inst = new FakeInstance('fake_0', { hold: true });
    const s = batcher({ preferredBatchSize: [4, 6] }, [inst]);
    const results = [s.enqueue(payload(0))];
    await tick();
    for (let i = 1; i <= 7; i++) results.push(s.enqueue(payload(i)));
    expect(s.pendingCount).toBe(7);
    inst.release();
    await tick();
    inst.release();
    await tick();
    inst.release();
    const out = await Promise.all(results);
    expect(sizes(inst)).toEqual([1, 6, 1]);
    expect(inst.batches[1]!.firstValues).toEqual([1, 2, 3, 4, 5, 6]);
    // Every request gets its own row back.
    out.forEach((r, i) => {
      expect(r.outputs[0]!.shape).toEqual([1, 4]);
      expect(firstValue(r.outputs[0]!)).toBe(i);
    });
  });

  test('max_queue_delay holds a small batch for more requests; a preferred size goes at once', async () => {
    const inst = new FakeInstance('fake_0');
    const s = batcher({ preferredBatchSize: [4], maxQueueDelayMicroseconds: 30_000n }, [inst]);
    await Promise.all([s.enqueue(payload(1)), s.enqueue(payload(2))]);
    expect(sizes(inst)).toEqual([2]);

    // A delay far beyond the test timeout: only reaching the preferred size can send these.
    const long = batcher({ preferredBatchSize: [4], maxQueueDelayMicroseconds: 600_000_000n }, [inst]);
    const four = [1, 2, 3].map((v) => long.enqueue(payload(v)));
    await tick(5);
    expect(long.pendingCount).toBe(3);
    four.push(long.enqueue(payload(4)));
    await Promise.all(four);
    expect(sizes(inst)).toEqual([2, 4]);
  });

  test('a batch never exceeds max_batch_size, counting each request batch', async () => {
    const inst = new FakeInstance('fake_0', { hold: true });
    const s = batcher({ preferredBatchSize: [8] }, [inst], { maxBatchSize: 8 });
    const all = [s.enqueue(payload(0, { shape: [1, 4] }))];
    await tick();
    for (let i = 1; i <= 4; i++) all.push(s.enqueue(payload(i, { shape: [3, 4] })));
    for (let k = 0; k < 4; k++) {
      inst.release();
      await tick();
    }
    const out = await Promise.all(all);
    expect(sizes(inst)).toEqual([1, 6, 6]);
    expect(out.slice(1).map((r) => r.outputs[0]!.shape)).toEqual([[3, 4], [3, 4], [3, 4], [3, 4]]);
  });

  test('requests of different shapes in a variable dimension are not mixed', async () => {
    const inst = new FakeInstance('fake_0', { hold: true });
    const s = batcher({}, [inst], { dims: [-1] });
    const all = [s.enqueue(payload(0, { shape: [1, 3] }))];
    await tick();
    all.push(s.enqueue(payload(1, { shape: [1, 3] })), s.enqueue(payload(2, { shape: [1, 3] })));
    all.push(s.enqueue(payload(3, { shape: [1, 5] })), s.enqueue(payload(4, { shape: [1, 3] })));
    for (let k = 0; k < 4; k++) {
      inst.release();
      await tick();
    }
    await Promise.all(all);
    expect(inst.batches.map((b) => b.shapes[0])).toEqual([[1, 3], [2, 3], [1, 5], [1, 3]]);
  });

  test('allow_ragged_batch inputs batch across shapes, flattened to one dimension', async () => {
    const inst = new FakeInstance('fake_0', { hold: true });
    const s = batcher({}, [inst], { dims: [-1], ragged: true, inputs: 2 });
    // A ragged output has no batch dimension to split by, so these ask for OUTPUT1 only.
    const rows = (v: number, n: number) =>
      payload(v, { shape: [1, n], extraInputs: [fp32('INPUT1', [1, 1], v)], outputs: ['OUTPUT1'] });
    const all = [s.enqueue(rows(0, 2))];
    await tick();
    all.push(s.enqueue(rows(1, 3)), s.enqueue(rows(2, 5)));
    inst.release();
    await tick();
    inst.release();
    const out = await Promise.all(all);
    expect(inst.batches[1]!.shapes).toEqual([[8], [2, 1]]);
    expect(out.map((r) => firstValue(r.outputs[0]!))).toEqual([0, 1, 2]);
  });

  test('members asking for different outputs get exactly theirs, in their order', async () => {
    const inst = new FakeInstance('fake_0', { hold: true });
    const s = batcher({}, [inst], { inputs: 2 });
    const extra = (v: number) => [fp32('INPUT1', [1, 1], v + 100)];
    const first = s.enqueue(payload(0, { extraInputs: extra(0) }));
    await tick();
    const a = s.enqueue(payload(1, { extraInputs: extra(1), outputs: ['OUTPUT1'] }));
    const b = s.enqueue(payload(2, { extraInputs: extra(2), outputs: ['OUTPUT0', 'OUTPUT1'] }));
    inst.release();
    await tick();
    inst.release();
    await first;
    const [ra, rb] = await Promise.all([a, b]);
    expect(inst.batches[1]!.outputNames).toEqual(['OUTPUT1', 'OUTPUT0']);
    expect(ra.outputs.map((t) => t.name)).toEqual(['OUTPUT1']);
    expect(firstValue(ra.outputs[0]!)).toBe(101);
    expect(rb.outputs.map((t) => [t.name, firstValue(t)])).toEqual([['OUTPUT0', 2], ['OUTPUT1', 102]]);
  });
});

describe('priorities and queue policies', () => {
  test('higher priority (lower level) requests are batched first; 0 and out of range get the default', async () => {
    const inst = new FakeInstance('fake_0', { hold: true });
    const s = batcher({ preferredBatchSize: [1], priorityLevels: 3n, defaultPriorityLevel: 2n }, [inst], { maxBatchSize: 1 });
    const all = [s.enqueue(payload(0))];
    await tick();
    all.push(s.enqueue(payload(1, { parameters: { priority: 3 } })));
    all.push(s.enqueue(payload(2, { parameters: { priority: 0 } })));
    all.push(s.enqueue(payload(3, { parameters: { priority: 1 } })));
    all.push(s.enqueue(payload(4, { parameters: { priority: 9 } })));
    for (let k = 0; k < 5; k++) {
      inst.release();
      await tick();
    }
    await Promise.all(all);
    expect(inst.batches.map((b) => b.firstValues[0])).toEqual([0, 3, 2, 4, 1]);
  });

  test('REJECT: a request that waits past its timeout fails with "Request timeout expired"', async () => {
    const inst = new FakeInstance('fake_0', { hold: true });
    const s = batcher({ defaultQueuePolicy: { timeoutAction: 0, defaultTimeoutMicroseconds: 5000n } }, [inst]);
    const running = s.enqueue(payload(0));
    await tick();
    const late = s.enqueue(payload(1));
    await expect(late).rejects.toThrow(UnavailableError);
    await expect(late).rejects.toThrow(/^Request timeout expired$/);
    expect(s.pendingCount).toBe(0);
    inst.release();
    await running;
    expect(inst.batches).toHaveLength(1);
  });

  test('allow_timeout_override: a request timeout may shorten the default, never lengthen it', async () => {
    const inst = new FakeInstance('fake_0', { hold: true });
    const policy = { timeoutAction: 0, defaultTimeoutMicroseconds: 600_000_000n, allowTimeoutOverride: true };
    const s = batcher({ defaultQueuePolicy: policy }, [inst]);
    const running = s.enqueue(payload(0));
    await tick();
    const short = s.enqueue(payload(1, { parameters: { timeout: 2000 } }));
    const keeps = s.enqueue(payload(2, { parameters: { timeout: 900_000_000 } }));
    await expect(short).rejects.toThrow(/Request timeout expired/);
    expect(s.pendingCount).toBe(1);
    inst.release();
    await tick();
    inst.release();
    await Promise.all([running, keeps]);

    // Without allow_timeout_override the parameter is ignored.
    const strict = batcher({ defaultQueuePolicy: { defaultTimeoutMicroseconds: 600_000_000n } }, [inst]);
    const first = strict.enqueue(payload(0));
    await tick();
    const ignored = strict.enqueue(payload(1, { parameters: { timeout: 1000 } }));
    await tick(10);
    expect(strict.pendingCount).toBe(1);
    inst.release();
    await tick();
    inst.release();
    await Promise.all([first, ignored]);
  });

  test('DELAY: an expired request moves behind the unexpired ones and still runs', async () => {
    const inst = new FakeInstance('fake_0', { hold: true });
    const policy = { timeoutAction: 1, defaultTimeoutMicroseconds: 600_000_000n, allowTimeoutOverride: true };
    const s = batcher({ preferredBatchSize: [1], defaultQueuePolicy: policy }, [inst], { maxBatchSize: 1 });
    const all = [s.enqueue(payload(0))];
    await tick();
    all.push(s.enqueue(payload(1, { parameters: { timeout: 1000 } })));
    all.push(s.enqueue(payload(2)));
    await tick(10);
    for (let k = 0; k < 3; k++) {
      inst.release();
      await tick();
    }
    await Promise.all(all);
    expect(inst.batches.map((b) => b.firstValues[0])).toEqual([0, 2, 1]);
  });

  test('max_queue_size refuses a request beyond the limit with "Exceeds maximum queue size"', async () => {
    const inst = new FakeInstance('fake_0', { hold: true });
    const s = batcher({ defaultQueuePolicy: { maxQueueSize: 2 } }, [inst]);
    const all = [s.enqueue(payload(0))];
    await tick();
    all.push(s.enqueue(payload(1)), s.enqueue(payload(2)));
    const refused = s.enqueue(payload(3, { id: 'r3' }));
    await expect(refused).rejects.toThrow(UnavailableError);
    await expect(refused).rejects.toThrow('[request id: r3] Exceeds maximum queue size');
    inst.release();
    await tick();
    inst.release();
    await Promise.all(all);
  });
});

describe('cancellation, ordering, failures, stats', () => {
  test('a request aborted while queued is removed and rejects with CancelledError', async () => {
    const inst = new FakeInstance('fake_0', { hold: true });
    const s = batcher({}, [inst]);
    const running = s.enqueue(payload(0));
    await tick();
    const ac = new AbortController();
    const gone = s.enqueue(payload(1, { signal: ac.signal }));
    const stays = s.enqueue(payload(2));
    ac.abort();
    await expect(gone).rejects.toThrow(CancelledError);
    expect(s.pendingCount).toBe(1);
    inst.release();
    await tick();
    inst.release();
    await Promise.all([running, stays]);
    expect(inst.batches.map((b) => b.firstValues)).toEqual([[0], [2]]);

    const pre = new AbortController();
    pre.abort();
    await expect(s.enqueue(payload(3, { signal: pre.signal }))).rejects.toThrow(CancelledError);
    expect(inst.batches).toHaveLength(2);
  });

  test('preserve_ordering: responses leave in arrival order under random execution times', async () => {
    let seed = 7;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % 8) + 0;
    const instances = [0, 1, 2].map((i) => new FakeInstance(`fake_${i}`, { delayMs: random }));
    const s = batcher({ preferredBatchSize: [2], preserveOrdering: true }, instances, { maxBatchSize: 2 });
    const order: number[] = [];
    const all: Promise<ScheduledResult>[] = [];
    for (let i = 0; i < 30; i++) {
      all.push(s.enqueue(payload(i)).then((r) => (order.push(firstValue(r.outputs[0]!)), r)));
      if (i % 3 === 0) await tick();
    }
    await Promise.all(all);
    expect(order).toEqual(Array.from({ length: 30 }, (_, i) => i));
    expect(instances.filter((i) => i.batches.length > 0).length).toBeGreaterThan(1);
  });

  test('random arrivals, sizes and execution times: every request answered once with its own rows', async () => {
    let seed = 11;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    const instances = [0, 1].map((i) => new FakeInstance(`fake_${i}`, { delayMs: () => rand(3) }));
    const s = batcher({ preferredBatchSize: [4, 6], maxQueueDelayMicroseconds: 300n }, instances, { maxBatchSize: 6 });
    const all: Promise<[number, ScheduledResult]>[] = [];
    for (let i = 0; i < 200; i++) {
      const rows = 1 + rand(3);
      all.push(s.enqueue(payload(i, { shape: [rows, 4] })).then((r) => [rows, r]));
      if (rand(4) === 0) await tick(rand(2));
    }
    const out = await Promise.all(all);
    out.forEach(([rows, r], i) => {
      expect(r.outputs[0]!.shape).toEqual([rows, 4]);
      expect(firstValue(r.outputs[0]!)).toBe(i);
    });
    const batches = instances.flatMap((i) => i.batches.map((b) => b.shapes[0]![0]!));
    expect(Math.max(...batches)).toBeLessThanOrEqual(6);
    expect(batches.reduce((a, b) => a + b, 0)).toBe(out.reduce((n, [rows]) => n + rows, 0));
    expect(s.pendingCount + s.inflightCount).toBe(0);
  });

  test('an execution failure rejects every member; the scheduler keeps serving', async () => {
    const inst = new FakeInstance('fake_0', { hold: true });
    const s = batcher({}, [inst]);
    const first = s.enqueue(payload(0));
    await tick();
    const a = s.enqueue(payload(1));
    const b = s.enqueue(payload(2));
    inst.release();
    await first;
    await tick();
    inst.failWith = new Error('boom');
    inst.release();
    await expect(a).rejects.toThrow('boom');
    await expect(b).rejects.toThrow('boom');
    inst.failWith = undefined;
    const c = s.enqueue(payload(3));
    await tick();
    inst.release();
    expect(firstValue((await c).outputs[0]!)).toBe(3);
  });

  test('stats: one execution per batch with the summed batch size, pending back to zero, queue time', async () => {
    const executions: number[] = [];
    let pending = 0;
    const stats: ModelStatsRecorder = { ...NO_STATS, execution: (n) => executions.push(n), pending: (d) => (pending += d) };
    const inst = new FakeInstance('fake_0', { hold: true });
    const s = batcher({}, [inst], {}, stats);
    const all = [s.enqueue(payload(0, { shape: [2, 4] }))];
    await tick();
    all.push(s.enqueue(payload(1, { shape: [3, 4] })), s.enqueue(payload(2)));
    expect(pending).toBe(2);
    inst.release();
    await tick();
    inst.release();
    const out = await Promise.all(all);
    expect(executions).toEqual([2, 4]);
    expect(pending).toBe(0);
    expect(out.every((r) => r.queueNs >= 0)).toBe(true);
    expect(out[1]!.timing).toEqual({ inputNs: 1, inferNs: 2, outputNs: 3 });
  });

  test('drain refuses new requests and waits for queued and running ones', async () => {
    const inst = new FakeInstance('fake_0', { hold: true });
    const s = batcher({}, [inst]);
    const a = s.enqueue(payload(0));
    await tick();
    const b = s.enqueue(payload(1));
    let drained = false;
    const d = s.drain().then(() => (drained = true));
    await expect(s.enqueue(payload(2))).rejects.toThrow(/stopped accepting/);
    inst.release();
    await tick();
    expect(drained).toBe(false);
    inst.release();
    await Promise.all([a, b, d]);
    expect(drained).toBe(true);
  });
});
