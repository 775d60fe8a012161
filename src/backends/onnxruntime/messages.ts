import type { ModelFileMetadata } from '../backend.js';
import type { ErrorCode } from '../../errors/index.js';
import type { Tensor } from '../../infer/tensor.js';
import type { PlacedTensor, RegionSpan, RegionTensor } from '../../memory/region-span.js';
import type { GpuAccelerator } from './execution-accelerators.js';

/**
 * The messages between the main thread and an ONNX Runtime worker. Plain objects, sent by
 * structured clone with every tensor buffer in the transfer list: no JSON anywhere, and one
 * message each way per group of executions (`runs`, `results`). The common runs and results
 * travel in one transferred ArrayBuffer instead (flat-buffer.ts). Tensors in shared memory travel as region spans, not bytes
 * (src/memory/region-io.ts).
 */

/** An input of a run: its bytes, or where to read them in a shared-memory region. */
export type WireInput = Tensor | RegionTensor;

/** An output of a run: its bytes, or how much of its region target the worker wrote. */
export type WireOutput = Tensor | PlacedTensor;

/** A TritonError reduced to what survives a thread hop; rebuilt with `errorFromCode`. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

/** `workerData` of a worker that only reads a model's I/O, replies once and exits. */
export interface MetadataWorkerData {
  mode: 'metadata';
  modelFile: string;
}

/** `workerData` of a worker that owns one instance's session. */
export interface InstanceWorkerData {
  mode: 'instance';
  modelFile: string;
  modelName: string;
  instanceName: string;
  kind: 'KIND_CPU' | 'KIND_GPU';
  gpu: number;
  intraOpThreads: number;
  interOpThreads: number;
  /** The config's GPU execution accelerators (KIND_GPU only; see execution-accelerators.ts). */
  gpuExecutionAccelerators: GpuAccelerator[];
  /** Test-only fault injection: the thread exits when asked to run (simulates a crash). */
  exitOnRun: boolean;
}

export type WorkerData = MetadataWorkerData | InstanceWorkerData;

/**
 * Main → worker. `targets`: outputs the worker may write straight into shared memory, by name
 * (it writes there when the output fits, and reports a PlacedTensor).
 * `flat`: the group's runs in the compact binary form (flat-runs.ts), transferred; `runs` then
 * holds only the runs that could not go so, each in its place as the buffer says. `names`:
 * names to append to the worker's table before reading `flat`.
 */
export type ToWorker = { kind: 'runs'; runs: WireRun[]; flat?: ArrayBuffer; names?: string[] } | { kind: 'close' };

/**
 * One execution of a `runs` message. The executions of one message run one at a time, in
 * order, and are answered by one `results` message (one thread hop each way per group).
 */
export interface WireRun {
  id: number;
  inputs: WireInput[];
  outputNames: string[];
  targets?: Record<string, RegionSpan>;
}

/** The answer to one WireRun: its outputs and ns in the worker (inputs, run, outputs), or its error. */
export type WireResult =
  | { id: number; outputs: WireOutput[]; durations: [number, number, number] }
  | { id: number; error: WireError };

/** Worker → main. */
export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'metadata'; metadata: ModelFileMetadata }
  | { kind: 'failed'; error: WireError }
  /** `flat`: the results in the compact binary form (flat-results.ts); `results` as for `runs`. */
  | { kind: 'results'; results: WireResult[]; flat?: ArrayBuffer }
  | { kind: 'closed' };
