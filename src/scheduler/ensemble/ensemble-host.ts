import type { ComputeTiming } from '../../infer/compute-timing.js';
import type { CancelSignal } from '../../infer/cancellation.js';
import type { ModelSpec } from '../../infer/model-spec.js';
import type { InferenceRequest, Tensor } from '../../infer/tensor.js';

/** What a composing model answered to one step of an ensemble request. */
export interface ComposingResult {
  /** The step's outputs, in the order the step request named them. */
  outputs: Tensor[];
  /** Compute split of the batch the step ran in; absent for a response-cache hit. */
  timing?: ComputeTiming;
}

/**
 * What an ensemble needs from the server around it (Triton's ensemble scheduler calls back
 * into `InferenceServer` the same way): the composing models are looked up and run through
 * the server's own infer path, so each keeps its scheduler (batching happens inside the
 * ensemble), its request validation, its statistics and its response cache.
 */
export interface EnsembleHost {
  /**
   * The request-validation spec of the version a step request would be served by.
   * @param version undefined = the highest-numbered READY version (step model_version -1).
   * @throws the repository's lookup errors (unknown model, version not ready).
   */
  spec(model: string, version?: number): ModelSpec;
  /**
   * Runs one step request as a client request to the composing model would run: validated
   * against the model, queued on its scheduler, counted in its statistics.
   * @throws whatever the composing model's infer throws (its message names the model).
   */
  infer(request: InferenceRequest, signal?: CancelSignal): Promise<ComposingResult>;
  /**
   * Whether the version a step request would be served by is decoupled (its responses must be
   * streamed: `inferStream`). @throws the lookup errors of `spec`.
   */
  decoupled(model: string, version?: number): boolean;
  /**
   * Runs one step request to a decoupled model, as `infer` does: its responses as they come
   * (zero, one or many; `final` on the last, if it has outputs: a final flag sent alone ends the
   * iteration without a result).
   * @throws (from the iteration) whatever the composing model's stream throws.
   */
  inferStream(request: InferenceRequest, signal?: CancelSignal): AsyncIterable<ComposingResult & { final: boolean }>;
}
