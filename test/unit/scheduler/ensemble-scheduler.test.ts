/**
 * EnsembleScheduler against a fake host: when steps start, what they receive, how failures,
 * backpressure (max_inflight_requests), cancellation and draining behave. No real models.
 */
import { describe, expect, test } from 'vitest';
import { CancelledError, InternalError, InvalidArgumentError, UnavailableError } from '../../../src/errors/index.js';
import { makeModelSpec } from '../../../src/infer/model-spec.js';
import { ensemble, FakeHost, fp32, RecordingStats, scheduler, settle, values, type StepDef } from './ensemble-fake-host.js';

/** IN → a → (x) → b → OUT1 and (x) → c → OUT2: after `a`, `b` and `c` run side by side. */
const FORK: StepDef[] = [
  { model: 'a', inputs: { x: 'IN' }, outputs: { y: 'x' } },
  { model: 'b', inputs: { x: 'x' }, outputs: { y: 'OUT1' } },
  { model: 'c', inputs: { x: 'x' }, outputs: { y: 'OUT2' } },
];

describe('EnsembleScheduler', () => {
  test('a step starts once its inputs exist; independent branches run concurrently', async () => {
    const host = new FakeHost();
    const s = scheduler(ensemble(FORK, { outputs: ['OUT1', 'OUT2'] }), host);
    const done = s.enqueue({ inputs: [fp32('IN', [1, 2])], outputNames: ['OUT2', 'OUT1'], batchSize: 1 });
    await settle();
    expect(host.started()).toEqual(['a']);
    host.answer('a');
    await settle();
    expect(host.started()).toEqual(['a', 'b', 'c']);
    // c answers first; nothing waits for b to do so.
    host.answer('c');
    await settle();
    host.answer('b');
    const result = await done;
    expect(result.outputs.map((o) => [o.name, values(o)])).toEqual([
      ['OUT2', [1, 2]],
      ['OUT1', [1, 2]],
    ]);
    expect(s.inflightCount).toBe(0);
  });

  test('step requests carry the step model, version, mapped names, and the request id and parameters', async () => {
    const host = new FakeHost();
    const s = scheduler(ensemble([{ model: 'a', version: 3, inputs: { x: 'IN' }, outputs: { y: 'OUT' } }]), host);
    const request = { id: 'r7', modelName: 'ens', inputs: [], parameters: { priority: 2, sequence_id: 9 } };
    const done = s.enqueue({ inputs: [fp32('IN', [5])], outputNames: ['OUT'], batchSize: 1, request });
    await settle();
    expect(host.calls[0]!.request).toMatchObject({
      id: 'r7',
      modelName: 'a',
      modelVersion: 3,
      inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 1] }],
      outputs: [{ name: 'y' }],
      parameters: { priority: 2, sequence_id: 9 },
    });
    host.answer('a');
    expect((await done).outputs[0]!.name).toBe('OUT');
  });

  test('compute times of the steps are added up, and the request counts as one execution', async () => {
    const host = new FakeHost();
    const stats = new RecordingStats();
    const s = scheduler(ensemble(FORK, { outputs: ['OUT1', 'OUT2'] }), host, stats);
    const done = s.enqueue({ inputs: [fp32('IN', [1, 2, 3, 4], [2, 2])], outputNames: ['OUT1', 'OUT2'], batchSize: 2 });
    await settle();
    host.answer('a', { inputNs: 1, inferNs: 10, outputNs: 100 });
    await settle();
    host.answer('b', { inputNs: 2, inferNs: 20, outputNs: 200 });
    host.answer('c'); // a response-cache hit: no timing
    const result = await done;
    expect(result.timing).toEqual({ inputNs: 3, inferNs: 30, outputNs: 300 });
    expect(stats.executions).toEqual([{ batchSize: 2, timing: { inputNs: 3, inferNs: 30, outputNs: 300 } }]);
  });

  test('a failing step names itself, keeps its error code, lets running steps finish and starts no more', async () => {
    const host = new FakeHost();
    const stats = new RecordingStats();
    const steps: StepDef[] = [
      { model: 'a', inputs: { x: 'IN' }, outputs: { y: 'p' } },
      { model: 'b', inputs: { x: 'IN' }, outputs: { y: 'q' } },
      { model: 'c', inputs: { x: 'p' }, outputs: { y: 'OUT1' } },
      { model: 'd', inputs: { x: 'q' }, outputs: { y: 'OUT2' } },
    ];
    const s = scheduler(ensemble(steps, { outputs: ['OUT1', 'OUT2'] }), host, stats);
    let settled = false;
    const done = s.enqueue({ inputs: [fp32('IN', [1])], outputNames: ['OUT1', 'OUT2'], batchSize: 1 });
    done.catch(() => undefined).finally(() => (settled = true));
    await settle();
    host.call('b').reject(new UnavailableError("Request for unknown model: 'b' has no available versions"));
    await settle();
    expect(settled).toBe(false); // step a still runs
    host.answer('a');
    await expect(done).rejects.toThrow(
      new UnavailableError("in ensemble 'ens', step 1 (model 'b'): Request for unknown model: 'b' has no available versions"),
    );
    await expect(done).rejects.toBeInstanceOf(UnavailableError);
    expect(host.started().sort()).toEqual(['a', 'b']); // c never started
    expect(stats.failures).toEqual(['OTHER']);
    expect(stats.executions).toEqual([]);
  });

  test('plain errors from a step become INTERNAL', async () => {
    const host = new FakeHost();
    const s = scheduler(ensemble([{ model: 'a', inputs: { x: 'IN' }, outputs: { y: 'OUT' } }]), host);
    const done = s.enqueue({ inputs: [fp32('IN', [1])], outputNames: ['OUT'], batchSize: 1 });
    await settle();
    host.call('a').reject(new Error('boom'));
    await expect(done).rejects.toThrow(new InternalError("in ensemble 'ens', step 0 (model 'a'): boom"));
  });

  test('an output the step model left out is left out of the answer (Triton: "Composing models did not output tensor")', async () => {
    const host = new FakeHost();
    const s = scheduler(ensemble([{ model: 'a', inputs: { x: 'IN' }, outputs: { y: 'OUT' } }]), host);
    const done = s.enqueue({ inputs: [fp32('IN', [1])], outputNames: ['OUT'], batchSize: 1, request: { id: 'q', modelName: 'ens', inputs: [] } });
    await settle();
    host.call('a').resolve({ outputs: [] });
    expect((await done).outputs).toEqual([]);
  });

  test('shapes adapt between a non-batching producer and batching readers, and back', async () => {
    const nonBatching = makeModelSpec('flat', 1, 0, [{ name: 'x', datatype: 'FP32', dims: [2], optional: false }], []);
    const host = new FakeHost({ flat: nonBatching });
    const steps: StepDef[] = [
      { model: 'a', inputs: { x: 'IN' }, outputs: { y: 'batched' } },
      { model: 'flat', inputs: { x: 'batched' }, outputs: { y: 'plain' } },
      { model: 'b', inputs: { x: 'plain' }, outputs: { y: 'OUT' } },
    ];
    const s = scheduler(ensemble(steps), host);
    const done = s.enqueue({ inputs: [fp32('IN', [1, 2])], outputNames: ['OUT'], batchSize: 1 });
    await settle();
    host.answer('a');
    await settle();
    // Batch size 1 into a non-batching model whose dims do not match [1,2]: the batch dim goes.
    expect(host.call('flat').request.inputs[0]!.shape).toEqual([2]);
    host.answer('flat');
    await settle();
    // [2] from a non-batching producer matches b's dims [-1]: a batch dim of 1 comes back.
    expect(host.call('b').request.inputs[0]!.shape).toEqual([1, 2]);
    host.answer('b');
    expect((await done).outputs[0]!.shape).toEqual([1, 2]);
  });

  test('a tensor with several readers: only the last reader gets the original buffer', async () => {
    const host = new FakeHost();
    const s = scheduler(ensemble(FORK, { outputs: ['OUT1', 'OUT2'] }), host);
    const done = s.enqueue({ inputs: [fp32('IN', [7, 8])], outputNames: ['OUT1', 'OUT2'], batchSize: 1 });
    await settle();
    const original = new Uint8Array(Float32Array.from([7, 8]).buffer);
    host.call('a').resolve({ outputs: [{ name: 'y', datatype: 'FP32', shape: [1, 2], data: original }] });
    await settle();
    const [b, c] = [host.call('b').request.inputs[0]!.data, host.call('c').request.inputs[0]!.data];
    expect(b.buffer).not.toBe(original.buffer);
    expect(c).toBe(original);
    host.answer('b');
    host.answer('c');
    await done;
  });

  test('two outputs over one buffer: the original goes only to the last reader of either', async () => {
    const host = new FakeHost();
    const steps: StepDef[] = [
      { model: 'a', inputs: { x: 'IN' }, outputs: { y: 'p', z: 'q' } },
      { model: 'b', inputs: { x: 'p' }, outputs: { y: 'OUT1' } },
      { model: 'c', inputs: { x: 'q' }, outputs: { y: 'OUT2' } },
    ];
    const s = scheduler(ensemble(steps, { outputs: ['OUT1', 'OUT2'] }), host);
    const done = s.enqueue({ inputs: [fp32('IN', [1])], outputNames: ['OUT1', 'OUT2'], batchSize: 1 });
    await settle();
    const same = new Uint8Array(Float32Array.from([3]).buffer);
    host.call('a').resolve({
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [1, 1], data: same },
        { name: 'z', datatype: 'FP32', shape: [1, 1], data: same },
      ],
    });
    await settle();
    expect(host.call('b').request.inputs[0]!.data).not.toBe(same);
    expect(host.call('c').request.inputs[0]!.data).toBe(same);
    host.answer('b');
    host.answer('c');
    await done;
  });

  test('max_inflight_requests bounds each step across requests, in arrival order', async () => {
    const host = new FakeHost();
    const s = scheduler(ensemble([{ model: 'a', inputs: { x: 'IN' }, outputs: { y: 'OUT' } }], { maxInflight: 2 }), host);
    const runs = [1, 2, 3, 4].map((v) => s.enqueue({ inputs: [fp32('IN', [v])], outputNames: ['OUT'], batchSize: 1 }));
    await settle();
    expect(host.calls.map((c) => values(c.request.inputs[0]!))).toEqual([[1], [2]]);
    host.calls[0]!.resolve({ outputs: [fp32('y', [10])] });
    await settle();
    expect(host.calls.map((c) => values(c.request.inputs[0]!))).toEqual([[1], [2], [3]]);
    host.calls[1]!.resolve({ outputs: [fp32('y', [20])] });
    await settle();
    host.calls[2]!.resolve({ outputs: [fp32('y', [30])] });
    await settle();
    host.calls[3]!.resolve({ outputs: [fp32('y', [40])] });
    expect((await Promise.all(runs)).map((r) => values(r.outputs[0]!))).toEqual([[10], [20], [30], [40]]);
  });

  test('a request cancelled while waiting for a step slot fails with CancelledError', async () => {
    const host = new FakeHost();
    const s = scheduler(ensemble([{ model: 'a', inputs: { x: 'IN' }, outputs: { y: 'OUT' } }], { maxInflight: 1 }), host);
    const first = s.enqueue({ inputs: [fp32('IN', [1])], outputNames: ['OUT'], batchSize: 1 });
    const abort = new AbortController();
    const second = s.enqueue({ inputs: [fp32('IN', [2])], outputNames: ['OUT'], batchSize: 1, signal: abort.signal });
    await settle();
    abort.abort();
    await expect(second).rejects.toBeInstanceOf(CancelledError);
    expect(host.calls).toHaveLength(1);
    host.answer('a');
    await first;
  });

  test('drain waits for requests in flight, then refuses new ones', async () => {
    const host = new FakeHost();
    const s = scheduler(ensemble([{ model: 'a', inputs: { x: 'IN' }, outputs: { y: 'OUT' } }]), host);
    const running = s.enqueue({ inputs: [fp32('IN', [1])], outputNames: ['OUT'], batchSize: 1 });
    await settle();
    let drained = false;
    const draining = s.drain().then(() => (drained = true));
    await expect(s.enqueue({ inputs: [fp32('IN', [2])], outputNames: ['OUT'], batchSize: 1 })).rejects.toBeInstanceOf(UnavailableError);
    await settle();
    expect(drained).toBe(false);
    host.answer('a');
    await running;
    await draining;
    expect(drained).toBe(true);
  });
});
