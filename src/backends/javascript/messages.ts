import type { ErrorCode } from '../../errors/index.js';
import type { Datatype } from '../../infer/datatype.js';
import type { InferParameters, Tensor } from '../../infer/tensor.js';
import type { InstanceLimits } from './instance-limits.js';
import type { InitializeArgs } from './model-api.js';

/**
 * The messages between the main thread and a JavaScript model's worker thread: plain objects
 * sent by structured clone, tensor buffers in the transfer list (src/infer/transfer.ts), one
 * message each way per execution for default models.
 */

/** A TritonError reduced to what survives a thread hop; rebuilt with `errorFromCode`. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

/** What the worker checks each response against: the config's outputs and batching. */
export interface OutputRule {
  name: string;
  datatype: Datatype;
  /** Config dims without the batch dimension; -1 = any. */
  dims: number[];
}

/** `workerData` of an instance's worker. */
export interface InstanceWorkerData {
  mode: 'instance';
  modelFile: string;
  init: InitializeArgs;
  decoupled: boolean;
  maxBatchSize: number;
  outputs: OutputRule[];
  /** MAX_HEAP_MB (the worker's resourceLimits), MAX_EXTERNAL_MB (sampled in the worker), EXECUTION_TIMEOUT_MS. */
  limits: InstanceLimits;
}

/** `workerData` of a short-lived worker that runs the class's `autoCompleteConfig` and exits. */
export interface AutoCompleteWorkerData {
  mode: 'autocomplete';
  modelFile: string;
  /** The config so far, as Triton's JSON. */
  config: Record<string, unknown>;
}

export type WorkerData = InstanceWorkerData | AutoCompleteWorkerData;

/** One request of an execution, as it crosses to the worker. */
export interface WireRequest {
  inputs: Tensor[];
  outputNames: string[];
  batchSize: number;
  id: string;
  parameters: InferParameters;
}

/** One response (outputs in the request's `outputNames` order), an error, or the final flag alone. */
export interface WireResponse {
  index: number;
  outputs?: Tensor[];
  error?: WireError;
  final: boolean;
}

/** A BLS request from the model, to be run by the server. */
export interface WireBlsRequest {
  modelName: string;
  modelVersion?: number;
  id?: string;
  parameters?: InferParameters;
  inputs: Tensor[];
  outputs?: string[];
}

/** Main → worker. */
export type ToWorker =
  | { kind: 'execute'; id: number; requests: WireRequest[] }
  /** The client gave up on request `index` of execution `id`. */
  | { kind: 'cancel'; id: number; index: number }
  | { kind: 'bls-result'; callId: number; modelName: string; modelVersion: string; outputs: Tensor[] }
  | { kind: 'bls-error'; callId: number; error: WireError }
  | { kind: 'close' };

/** Worker → main. */
export type FromWorker =
  | { kind: 'ready' }
  | { kind: 'failed'; error: WireError }
  | { kind: 'autocompleted'; config: Record<string, unknown> }
  /** Decoupled models: one response as soon as the model produced it. */
  | { kind: 'response'; id: number; response: WireResponse }
  /**
   * The execution is over: every request is final. Default models carry their responses
   * here (one message per execution). `durations` are ns in the worker: inputs, execute,
   * outputs.
   */
  | { kind: 'done'; id: number; responses: WireResponse[]; durations: [number, number, number] }
  | { kind: 'bls'; callId: number; request: WireBlsRequest }
  /** The worker's memory outside the V8 heap (`external_memory`, bytes) passed MAX_EXTERNAL_MB. */
  | { kind: 'memory-exceeded'; externalBytes: number }
  | { kind: 'closed' };
