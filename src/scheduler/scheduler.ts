import type { ComputeTiming } from '../infer/compute-timing.js';
import type { CancelSignal } from '../infer/cancellation.js';
import type { InferenceRequest, InferParameters, Tensor } from '../infer/tensor.js';
import type { ModelInstance } from '../backends/backend.js';
import type { ModelConfig } from '../generated/model_config_pb.js';
import type { Logger } from '../observability/logger.js';
import type { ModelStatsRecorder } from '../observability/stats-recorder.js';
import type { EnsembleHost } from './ensemble/ensemble-host.js';

/**
 * One unit of work for a scheduler: a validated request's inputs (with the batch dimension
 * when the model batches) and the model outputs to compute.
 */
export interface SchedulerPayload {
  inputs: Tensor[];
  outputNames: string[];
  /** Batch size of this request (1 for a model that does not batch). */
  batchSize: number;
  /** The decoded request, for its parameters (priority, timeout, sequence controls). */
  request?: InferenceRequest;
  /** Aborted when the client gave up (disconnect, cancelled call, deadline). */
  signal?: CancelSignal;
}

/** What a request got from its scheduler. */
export interface ScheduledResult {
  /** Outputs in `outputNames` order, sliced to this request's part of the batch. */
  outputs: Tensor[];
  /** Nanoseconds between enqueue and the start of its batch's execution. */
  queueNs: number;
  /** Compute split of the batch the request ran in. */
  timing: ComputeTiming;
  /** The response's own parameters, as the model set them (none: undefined). */
  parameters?: InferParameters;
}

/** Called for each response of a streamed request; `outputs` undefined = the final flag alone. */
export type ResponseListener = (outputs: Tensor[] | undefined, final: boolean, parameters?: InferParameters) => void;

/** How a streamed request ended. */
export interface StreamOutcome {
  /** Nanoseconds between enqueue and the start of its execution. */
  queueNs: number;
  /** Compute split of the execution it ran in. */
  timing: ComputeTiming;
}

/**
 * A model version's scheduler (Triton `Scheduler`): takes requests and runs them on the
 * model's instances, handing each instance the requests of one execution as a list
 * (`ModelInstance.executeRequests`). Every scheduler shares one lifecycle (SchedulerBase:
 * stop, drain, cancel); `createScheduler` picks the scheduler a config asks for.
 *
 * Ownership (as Triton's `Scheduler::Enqueue`): once `enqueue` is called the scheduler owns
 * the payload — its input buffers may be transferred to an instance and must not be read by
 * the caller again. The returned promise resolves with the request's outputs, or rejects with
 * a TritonError: UnavailableError when the scheduler is stopping (or a queue policy rejects
 * it), CancelledError when the client gave up before it reached an instance, or whatever the
 * instance raised. Schedulers report executions to their stats recorder; the caller reports
 * the request's own success or failure.
 */
export interface Scheduler {
  /**
   * A request that expects exactly one response: resolves with its (last) response's outputs.
   * @throws (rejects) as above; InternalError when the model completed it without a response.
   */
  enqueue(payload: SchedulerPayload): Promise<ScheduledResult>;
  /**
   * A request whose responses go to `onResponse` as the model sends them (a decoupled model:
   * zero, one or many). Resolves once its execution finished, after its final response;
   * rejects as `enqueue`, with the model's error response as soon as the model sends it.
   */
  enqueueStream(payload: SchedulerPayload, onResponse: ResponseListener): Promise<StreamOutcome>;
  /** Requests waiting for an instance. */
  readonly pendingCount: number;
  /** Requests executing on an instance. */
  readonly inflightCount: number;
  /** Stops accepting requests and resolves when queued and executing requests are done. */
  drain(): Promise<void>;
}

/** What every scheduler is built from. */
export interface SchedulerContext {
  config: ModelConfig;
  instances: readonly ModelInstance[];
  /** `<model>:<version>`, for messages. */
  label: string;
  stats: ModelStatsRecorder;
  logger: Logger;
  /** The model's folder (`<repository>/<model>`), for files a scheduler reads (initial_state). */
  modelDir?: string;
  /** How an ensemble reaches its composing models (required for `ensemble_scheduling`). */
  ensembleHost?: EnsembleHost;
}
