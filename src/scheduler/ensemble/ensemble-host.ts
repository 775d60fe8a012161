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
 * The version a step request is served by, looked up once per step: what the ensemble reads of
 * it, and the handle `infer` / `inferStream` take back so that the step's request is not looked
 * up again.
 */
export interface ComposingModel {
  /** The request-validation spec: input dims and `max_batch_size`, for the step's reshapes. */
  readonly spec: ModelSpec;
  /** `model_transaction_policy.decoupled`: its responses must be streamed (`inferStream`). */
  readonly decoupled: boolean;
}

/**
 * What an ensemble needs from the server around it (Triton's ensemble scheduler calls back
 * into `InferenceServer` the same way): the composing models are looked up and run through
 * the server's own infer path, so each keeps its scheduler (batching happens inside the
 * ensemble), its request validation, its statistics and its response cache.
 */
export interface EnsembleHost {
  /**
   * The version a step request would be served by.
   * @param version undefined = the highest-numbered READY version (step model_version -1).
   * @throws the repository's lookup errors (unknown model, version not ready).
   */
  model(name: string, version?: number): ComposingModel;
  /**
   * Runs one step request as a client request to the composing model would run: validated
   * against the model, queued on its scheduler, counted in its statistics.
   * @param model what `model()` returned for the request's model and version.
   * @throws whatever the composing model's infer throws (its message names the model).
   */
  infer(request: InferenceRequest, model: ComposingModel, signal?: CancelSignal): Promise<ComposingResult>;
  /**
   * Runs one step request to a decoupled model, as `infer` does: its responses as they come
   * (zero, one or many; `final` on the last, if it has outputs: a final flag sent alone ends the
   * iteration without a result).
   * @throws (from the iteration) whatever the composing model's stream throws.
   */
  inferStream(request: InferenceRequest, model: ComposingModel, signal?: CancelSignal): AsyncIterable<ComposingResult & { final: boolean }>;
}
