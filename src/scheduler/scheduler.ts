import type { Tensor } from '../infer/tensor.js';

/**
 * One unit of work for a scheduler: a validated request's inputs (with the batch dimension
 * when the model batches) and the model outputs to compute.
 */
export interface SchedulerPayload {
  inputs: Tensor[];
  outputNames: string[];
  /** Batch size of this request (1 for a model that does not batch). */
  batchSize: number;
}

/**
 * A model version's scheduler (Triton `Scheduler`): takes requests and runs them on the
 * model's instances.
 *
 * Ownership (as Triton's `Scheduler::Enqueue`): once `enqueue` is called the scheduler owns
 * the payload — its input buffers may be transferred to an instance and must not be read by
 * the caller again. The returned promise resolves with the outputs in `outputNames` order, or
 * rejects with a TritonError: UnavailableError when the scheduler is stopping, or whatever the
 * instance raised.
 */
export interface Scheduler {
  enqueue(payload: SchedulerPayload): Promise<Tensor[]>;
  /** Requests waiting for an instance. */
  readonly pendingCount: number;
  /** Requests executing on an instance. */
  readonly inflightCount: number;
  /** Stops accepting requests and resolves when queued and executing requests are done. */
  drain(): Promise<void>;
}
