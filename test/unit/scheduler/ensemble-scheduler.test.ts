/**
 * EnsembleScheduler against a fake host: when steps start, what they receive, how failures,
 * backpressure (max_inflight_requests), cancellation and draining behave. No real models.
 */
import { create } from '@bufbuild/protobuf';
import { describe, expect, test } from 'vitest';
import { CancelledError, InternalError, InvalidArgumentError, UnavailableError } from '../../../src/errors/index.js';
import { DataType, ModelConfigSchema, type ModelConfig } from '../../../src/generated/model_config_pb.js';
import { makeModelSpec, type ModelSpec } from '../../../src/infer/model-spec.js';
import type { InferenceRequest, Tensor } from '../../../src/infer/tensor.js';
import { silentLogger } from '../../../src/observability/logger.js';
import type { ComposingResult, EnsembleHost } from '../../../src/scheduler/ensemble/ensemble-host.js';
import { EnsembleScheduler } from '../../../src/scheduler/ensemble/ensemble-scheduler.js';
import type { ComputeTiming } from '../../../src/infer/compute-timing.js';
import type { FailureReason, ModelStatsRecorder } from '../../../src/observability/stats-recorder.js';

interface Call {
  request: InferenceRequest;
  signal?: AbortSignal;
  resolve: (r: ComposingResult) => void;
  reject: (e: unknown) => void;
}

/**
 * A host whose composing models are all FP32 `[-1]` with max_batch_size 4 unless `specs`
 * says otherwise. Each step request waits until the test answers it.
 */
class FakeHost implements EnsembleHost {
  readonly calls: Call[] = [];
  constructor(private readonly specs: Record<string, ModelSpec> = {}) {}

  spec(model: string): ModelSpec {
    return this.specs[model] ?? makeModelSpec(model, 1, 4, [{ name: 'x', datatype: 'FP32', dims: [-1], optional: false }], []);
  }

  infer(request: InferenceRequest, signal?: AbortSignal): Promise<ComposingResult> {
    return new Promise((resolve, reject) => this.calls.push({ request, signal, resolve, reject }));
  }

  started(): string[] {
    return this.calls.map((c) => c.request.modelName);
  }

  call(model: string): Call {
    const c = this.calls.find((x) => x.request.modelName === model);
    if (c === undefined) throw new Error(`no call to ${model} (calls: ${this.started().join(', ')})`);
    return c;
  }

  /** Answers the step request to `model`: each requested output = its first input, renamed. */
  answer(model: string, timing?: ComputeTiming): void {
    const c = this.call(model);
    const first = c.request.inputs[0]!;
    c.resolve({ outputs: (c.request.outputs ?? []).map((o) => ({ ...first, name: o.name })), timing });
  }
}

class RecordingStats implements ModelStatsRecorder {
  readonly executions: { batchSize: number; timing: ComputeTiming }[] = [];
  readonly failures: FailureReason[] = [];
  requestSuccess(): void {}
  requestFailure(reason: FailureReason): void {
    this.failures.push(reason);
  }
  execution(batchSize: number, timing: ComputeTiming): void {
    this.executions.push({ batchSize, timing });
  }
  pending(): void {}
}

type StepDef = { model: string; version?: number; inputs: Record<string, string>; outputs: Record<string, string> };

function ensemble(steps: StepDef[], opts: { inputs?: string[]; outputs?: string[]; maxBatchSize?: number; maxInflight?: number } = {}): ModelConfig {
  const io = (name: string) => ({ name, dataType: DataType.TYPE_FP32, dims: [-1n] });
  return create(ModelConfigSchema, {
    name: 'ens',
    platform: 'ensemble',
    maxBatchSize: opts.maxBatchSize ?? 4,
    input: (opts.inputs ?? ['IN']).map(io),
    output: (opts.outputs ?? ['OUT']).map(io),
    schedulingChoice: {
      case: 'ensembleScheduling',
      value: {
        maxInflightRequests: opts.maxInflight ?? 0,
        step: steps.map((s) => ({ modelName: s.model, modelVersion: BigInt(s.version ?? -1), inputMap: s.inputs, outputMap: s.outputs })),
      },
    },
  });
}

function scheduler(config: ModelConfig, host: EnsembleHost, stats: ModelStatsRecorder = new RecordingStats()): EnsembleScheduler {
  return new EnsembleScheduler({ config, label: 'ens:1', stats, logger: silentLogger(), host });
}

function fp32(name: string, values: number[], shape = [1, values.length]): Tensor {
  return { name, datatype: 'FP32', shape, data: new Uint8Array(Float32Array.from(values).buffer) };
}

function values(t: Tensor): number[] {
  return Array.from(new Float32Array(t.data.slice().buffer));
}

/** Lets pending promise callbacks run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

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

  test('an output no step produced is Triton\'s "unexpected deadlock"', async () => {
    const host = new FakeHost();
    const s = scheduler(ensemble([{ model: 'a', inputs: { x: 'IN' }, outputs: { y: 'OUT' } }]), host);
    const done = s.enqueue({ inputs: [fp32('IN', [1])], outputNames: ['OUT'], batchSize: 1, request: { id: 'q', modelName: 'ens', inputs: [] } });
    await settle();
    host.call('a').resolve({ outputs: [] });
    await expect(done).rejects.toThrow(
      new InvalidArgumentError(
        "in ensemble 'ens', [request id: q] unexpected deadlock, at least one output is not set while no more ensemble steps can be made",
      ),
    );
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
