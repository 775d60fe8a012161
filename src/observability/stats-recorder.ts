import type { ComputeTiming } from '../infer/compute-timing.js';

/** Why a request failed, as Triton's `nv_inference_request_failure{reason}` labels it. */
export type FailureReason = 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER';

/** Monotonic nanoseconds (process.hrtime), the clock of every duration in the statistics. */
export function nowNs(): number {
  return Number(process.hrtime.bigint());
}

/**
 * Where schedulers and the server facade report what happened to a model version, for the
 * statistics extension and Prometheus metrics (reference §6, §7). All times are monotonic
 * nanoseconds from `nowNs()`.
 */
export interface ModelStatsRecorder {
  /**
   * A request answered successfully: `receivedNs` when the server took it, `queueNs` time
   * spent waiting for an instance, `timing` the compute split of the batch it ran in,
   * `endNs` when its response was ready. `cacheHit` requests have no queue/compute part.
   */
  requestSuccess(receivedNs: number, queueNs: number, timing: ComputeTiming, endNs: number): void;
  /** A request failed; `queueNs`/`timing` when it got that far. */
  requestFailure(reason: FailureReason, receivedNs: number, endNs: number, queueNs?: number, timing?: ComputeTiming): void;
  /** One batch executed on an instance (`inference_count` += batchSize, `execution_count` += 1). */
  execution(batchSize: number, timing: ComputeTiming): void;
  /** Requests waiting in the scheduler's queue changed by `delta` (pending-request gauge). */
  pending(delta: number): void;
  /** The version finished loading and is READY (`nv_model_load_duration_secs`). */
  loaded?(): void;
  /**
   * The memory the version was measured to hold at its load, in bytes (model paging): the
   * statistics' `memory_usage` entry of type CPU.
   */
  memoryUsage?(bytes: number): void;
  /**
   * A request answered from the response cache (Triton `UpdateSuccessCacheHit`): counts as a
   * success; `queueNs` up to the cache lookup, `lookupNs` the lookup itself. No execution.
   */
  cacheHit?(receivedNs: number, queueNs: number, lookupNs: number, endNs: number): void;
  /**
   * A cacheable request missed and its response was inserted (Triton `UpdateSuccessCacheMiss`):
   * `lookupAndInsertNs` is added to the request's duration; call after requestSuccess.
   */
  cacheMiss?(lookupAndInsertNs: number): void;
}

/** A recorder that records nothing. */
export const NO_STATS: ModelStatsRecorder = {
  requestSuccess() {},
  requestFailure() {},
  execution() {},
  pending() {},
};
