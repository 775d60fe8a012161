/**
 * Test doubles for the schedulers: a BatchRunner (wrap it in BatchingInstance) that records every batch it receives and
 * answers with identity outputs (OUTPUT<i> = INPUT<i>) once released, and helpers to build
 * configs and payloads for a FP32 model.
 */
import { create } from '@bufbuild/protobuf';
import type { BatchRunner, ExecuteResult } from '../../../src/backends/backend.js';
import { ModelConfigSchema, type ModelConfig } from '../../../src/generated/model_config_pb.js';
import type { InferParameters, Tensor } from '../../../src/infer/tensor.js';
import type { SchedulerPayload } from '../../../src/scheduler/scheduler.js';

export interface RecordedBatch {
  instance: string;
  /** Shape of the first input (its dim 0 is the batch size unless ragged). */
  shapes: number[][];
  /** First element of each input row, for identifying requests. */
  firstValues: number[];
  outputNames: string[];
}

/**
 * A fake instance. `hold` true: each execution waits for `release()`; otherwise it answers
 * after `delayMs()` (0 = next macrotask).
 */
export class FakeInstance implements BatchRunner {
  readonly batches: RecordedBatch[] = [];
  running = 0;
  maxRunning = 0;
  readonly #waiting: (() => void)[] = [];
  failWith: Error | undefined;

  constructor(
    readonly name: string,
    private readonly opts: { hold?: boolean; delayMs?: () => number } = {},
  ) {}

  async execute(inputs: Tensor[], outputNames: string[]): Promise<ExecuteResult> {
    const first = inputs[0]!;
    const values = new Float32Array(first.data.buffer, first.data.byteOffset, first.data.byteLength / 4);
    const rowElems = first.shape.slice(1).reduce((a, b) => a * b, 1);
    const firstValues: number[] = [];
    if (first.shape.length > 1) for (let r = 0; r < first.shape[0]!; r++) firstValues.push(values[r * rowElems]!);
    this.batches.push({ instance: this.name, shapes: inputs.map((t) => [...t.shape]), firstValues, outputNames: [...outputNames] });
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (this.opts.hold) await new Promise<void>((resolve) => this.#waiting.push(resolve));
      else await new Promise((resolve) => setTimeout(resolve, this.opts.delayMs?.() ?? 0));
      if (this.failWith) throw this.failWith;
      const outputs = outputNames.map((name) => {
        const src = inputs.find((t) => t.name === name.replace('OUTPUT', 'INPUT'))!;
        return { name, datatype: src.datatype, shape: [...src.shape], data: src.data.slice() };
      });
      return { outputs, timing: { inputNs: 1, inferNs: 2, outputNs: 3 } };
    } finally {
      this.running--;
    }
  }

  /** Lets the oldest held execution finish. */
  release(): void {
    this.#waiting.shift()?.();
  }

  get held(): number {
    return this.#waiting.length;
  }

  async close(): Promise<void> {}
}

/** A FP32 model config; `extra` is merged in (e.g. schedulingChoice, input overrides). */
export function fp32Config(opts: {
  maxBatchSize?: number;
  dims?: number[];
  inputs?: number;
  ragged?: boolean;
  dynamic?: Record<string, unknown>;
}): ModelConfig {
  const n = opts.inputs ?? 1;
  const input = Array.from({ length: n }, (_, i) => ({
    name: `INPUT${i}`,
    dataType: 11,
    dims: (i === 0 ? (opts.dims ?? [4]) : [1]).map(BigInt),
    allowRaggedBatch: i === 0 && (opts.ragged ?? false),
  }));
  const output = input.map((t, i) => ({ name: `OUTPUT${i}`, dataType: 11, dims: t.dims }));
  return create(ModelConfigSchema, {
    name: 'fake',
    maxBatchSize: opts.maxBatchSize ?? 8,
    input,
    output,
    schedulingChoice: opts.dynamic ? { case: 'dynamicBatching', value: opts.dynamic } : { case: undefined },
  } as never);
}

/** One FP32 tensor of `shape` whose elements all equal `value`. */
export function fp32(name: string, shape: number[], value: number): Tensor {
  const count = shape.reduce((a, b) => a * b, 1);
  return { name, datatype: 'FP32', shape, data: new Uint8Array(new Float32Array(count).fill(value).buffer) };
}

/** A payload of batch size `shape[0]` whose INPUT0 elements all equal `value`. */
export function payload(
  value: number,
  opts: { shape?: number[]; parameters?: InferParameters; signal?: AbortSignal; outputs?: string[]; extraInputs?: Tensor[]; id?: string } = {},
): SchedulerPayload {
  const shape = opts.shape ?? [1, 4];
  const inputs = [fp32('INPUT0', shape, value), ...(opts.extraInputs ?? [])];
  return {
    inputs,
    outputNames: opts.outputs ?? inputs.map((t) => t.name.replace('INPUT', 'OUTPUT')),
    batchSize: shape[0]!,
    request: { id: opts.id, modelName: 'fake', inputs, parameters: opts.parameters },
    signal: opts.signal,
  };
}

/** Value of the first element of a result's first output. */
export function firstValue(t: Tensor): number {
  return new Float32Array(t.data.buffer, t.data.byteOffset, 1)[0]!;
}

/** Waits for pending promise callbacks and timers of 0 ms. */
export function tick(ms = 0): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
