/**
 * Test doubles for the sequence batcher: an accumulator "model" instance that records every
 * batch (inputs, implicit state, control tensors) and answers OUTPUT = INPUT (+ STATE_IN unless
 * START), STATE_OUT = OUTPUT; and helpers to build configs and payloads.
 */
import { parseModelConfigText, normalizeModelConfig, type ModelConfig } from '../../../src/config/index.js';
import type { BatchRunner, ExecuteResult } from '../../../src/backends/backend.js';
import { BatchingInstance, batchingOptions } from '../../../src/backends/batching-instance.js';
import type { InferParameters, Tensor } from '../../../src/infer/tensor.js';
import type { SchedulerPayload } from '../../../src/scheduler/scheduler.js';
import { SequenceBatchScheduler } from '../../../src/scheduler/sequence/sequence-batch-scheduler.js';
import { NO_STATS } from '../../../src/observability/stats-recorder.js';
import { silentLogger, type Logger } from '../../../src/observability/logger.js';

/** One execution as the model saw it, one array entry per batch row. */
export interface SeenBatch {
  shapes: Record<string, number[]>;
  input: number[];
  state: number[];
  start: number[];
  end: number[];
  ready: number[];
  corrid: (bigint | string)[];
  outputNames: string[];
}

function read(t: Tensor | undefined): (number | bigint | string)[] {
  if (t === undefined) return [];
  const d = t.data;
  switch (t.datatype) {
    case 'FP32':
      return Array.from(new Float32Array(d.slice().buffer));
    case 'INT32':
      return Array.from(new Int32Array(d.slice().buffer));
    case 'BOOL':
      return Array.from(d);
    case 'UINT64':
      return Array.from(new BigUint64Array(d.slice().buffer));
    case 'UINT32':
      return Array.from(new Uint32Array(d.slice().buffer));
    case 'BYTES': {
      const out: string[] = [];
      for (let o = 0; o < d.byteLength; ) {
        const n = new DataView(d.buffer, d.byteOffset + o).getUint32(0, true);
        out.push(Buffer.from(d.subarray(o + 4, o + 4 + n)).toString('utf8'));
        o += 4 + n;
      }
      return out;
    }
    default:
      throw new Error(`fake cannot read ${t.datatype}`);
  }
}

/** The accumulator. `hold` makes each execution wait for `release()`. */
export class AccumulatorInstance implements BatchRunner {
  readonly seen: SeenBatch[] = [];
  readonly #waiting: (() => void)[] = [];
  failWith: Error | undefined;

  constructor(
    readonly name = 'acc_0',
    private readonly hold = false,
  ) {}

  async execute(inputs: Tensor[], outputNames: string[]): Promise<ExecuteResult> {
    const by = new Map(inputs.map((t) => [t.name, t]));
    const seen: SeenBatch = {
      shapes: Object.fromEntries(inputs.map((t) => [t.name, [...t.shape]])),
      input: read(by.get('INPUT')) as number[],
      state: read(by.get('STATE_IN')) as number[],
      start: (read(by.get('START')) as number[]).map(Number),
      end: (read(by.get('END')) as number[]).map(Number),
      ready: (read(by.get('READY')) as number[]).map(Number),
      corrid: read(by.get('CORRID')) as (bigint | string)[],
      outputNames: [...outputNames],
    };
    this.seen.push(seen);
    if (this.hold) await new Promise<void>((resolve) => this.#waiting.push(resolve));
    else await new Promise((resolve) => setTimeout(resolve, 1));
    if (this.failWith) throw this.failWith;
    const sum = seen.input.map((x, i) => (seen.start[i] === 1 || seen.state.length === 0 ? x : x + seen.state[i]!));
    const shape = by.get('INPUT')!.shape;
    const tensor = (name: string): Tensor => ({ name, datatype: 'FP32', shape: [...shape], data: new Uint8Array(Float32Array.from(sum).buffer) });
    return { outputs: outputNames.map(tensor), timing: { inputNs: 1, inferNs: 2, outputNs: 3 } };
  }

  /** Lets the oldest held execution finish. */
  release(): void {
    this.#waiting.shift()?.();
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  async close(): Promise<void> {}
}

export const CONTROLS = `
  control_input [
    { name: "START" control [{ kind: CONTROL_SEQUENCE_START int32_false_true: [0, 1] }] },
    { name: "END" control [{ kind: CONTROL_SEQUENCE_END fp32_false_true: [0, 1] }] },
    { name: "READY" control [{ kind: CONTROL_SEQUENCE_READY bool_false_true: [false, true] }] },
    { name: "CORRID" control [{ kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_UINT64 }] }
  ]`;

export const STATE = `
  state [{ input_name: "STATE_IN" output_name: "STATE_OUT" data_type: TYPE_FP32 dims: [1]
           initial_state { data_type: TYPE_FP32 dims: [1] zero_data: true name: "zero" } }]`;

/** A normalized accumulator config; `batching` is the text inside `sequence_batching { }`. */
export function accumulatorConfig(batching: string, maxBatchSize = 4): ModelConfig {
  const text = `
    name: "acc"
    backend: "onnxruntime"
    max_batch_size: ${maxBatchSize}
    input [{ name: "INPUT" data_type: TYPE_FP32 dims: [1] }]
    output [{ name: "OUTPUT" data_type: TYPE_FP32 dims: [1] }]
    sequence_batching { ${batching} }`;
  return normalizeModelConfig(parseModelConfigText(text, 'config.pbtxt'), { gpuCount: 0 });
}

export function scheduler(
  config: ModelConfig,
  instances: BatchRunner[],
  options: { logger?: Logger; modelDir?: string } = {},
): SequenceBatchScheduler {
  return new SequenceBatchScheduler({
    config,
    instances: instances.map((i) => new BatchingInstance(i, batchingOptions(config))),
    label: 'acc:1',
    stats: NO_STATS,
    logger: options.logger ?? silentLogger(),
    modelDir: options.modelDir,
  });
}

/** A request of batch 1 carrying `value`, with the given sequence parameters. */
export function payload(value: number, parameters: InferParameters, opts: { batching?: boolean; signal?: AbortSignal; id?: string } = {}): SchedulerPayload {
  const batching = opts.batching ?? true;
  return {
    inputs: [{ name: 'INPUT', datatype: 'FP32', shape: batching ? [1, 1] : [1], data: new Uint8Array(Float32Array.of(value).buffer) }],
    outputNames: ['OUTPUT'],
    batchSize: 1,
    request: { id: opts.id, modelName: 'acc', inputs: [], parameters },
    signal: opts.signal,
  };
}

/** The single FP32 value of a scheduled result's first output. */
export function valueOf(result: { outputs: Tensor[] }): number {
  return new Float32Array(result.outputs[0]!.data.slice().buffer)[0]!;
}

/** Lets timers and I/O callbacks run. */
export const tick = (ms = 5): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
