import type { ModelFileMetadata } from '../backend.js';
import type { ErrorCode } from '../../errors/index.js';
import type { Tensor } from '../../infer/tensor.js';
import type { GpuAccelerator } from './execution-accelerators.js';

/**
 * The messages between the main thread and an ONNX Runtime worker. Plain objects, sent by
 * structured clone with every tensor buffer in the transfer list: no JSON anywhere, and one
 * message each way per batch.
 */

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

/** Main → worker. */
export type ToWorker =
  | { kind: 'run'; id: number; inputs: Tensor[]; outputNames: string[] }
  | { kind: 'close' };

/** Worker → main. */
export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'metadata'; metadata: ModelFileMetadata }
  | { kind: 'failed'; error: WireError }
  | { kind: 'result'; id: number; outputs: Tensor[]; /** ns in the worker: inputs, run, outputs */ durations: [number, number, number] }
  | { kind: 'error'; id: number; error: WireError }
  | { kind: 'closed' };
