import type { ComputeTiming } from './infer/compute-timing.js';
import type { ResponseCache } from './cache/response-cache.js';
import { CancelledError, UnavailableError, UnsupportedError } from './errors/index.js';
import type { CancelSignal } from './infer/cancellation.js';
import { classify } from './infer/classification.js';
import type { ModelSpec } from './infer/model-spec.js';
import { validateRequest } from './infer/request-validation.js';
import type { InferenceRequest, InferenceResponse, RequestedOutput, Tensor } from './infer/tensor.js';
import type { TraceManager } from './observability/trace-manager.js';
import { isEnsembleConfig } from './repository/model-loader.js';
import type { ModelVersion } from './repository/model-version.js';
import type { ScheduledResult, SchedulerPayload } from './scheduler/scheduler.js';
import { nowNs, type FailureReason } from './observability/stats-recorder.js';

/**
 * One request's way through the server facade (`InferenceServer.infer`): model lookup,
 * validation, trace sampling, response cache, scheduler, statistics, classification. It is
 * every request's path, so it is one promise chain rather than layers of async functions.
 */

/** What the request path needs of the server. */
export interface InferenceContext {
  /** The version a request is served by (`ModelRepositoryManager.getReady` and its errors). */
  getReady(name: string, version?: number): ModelVersion;
  traces: TraceManager;
  cache: ResponseCache | undefined;
}

/**
 * Runs one request. Every error, the lookup and validation ones included, is a rejection.
 * @param onTiming receives the compute timing of the batch the request ran in (never called
 *   for a cache hit), which an ensemble adds up.
 */
export function runInference(
  ctx: InferenceContext,
  request: InferenceRequest,
  signal?: CancelSignal,
  onTiming?: (timing: ComputeTiming) => void,
): Promise<InferenceResponse> {
  try {
    return start(ctx, request, signal, onTiming);
  } catch (err) {
    return Promise.reject(err);
  }
}

/** @throws the lookup and validation errors, synchronously. */
function start(
  ctx: InferenceContext,
  request: InferenceRequest,
  signal: CancelSignal | undefined,
  onTiming: ((timing: ComputeTiming) => void) | undefined,
): Promise<InferenceResponse> {
  const receivedNs = nowNs();
  const mv = ctx.getReady(request.modelName, request.modelVersion);
  if (mv.config!.modelTransactionPolicy?.decoupled === true) {
    throw new UnsupportedError(`model '${mv.name}' is decoupled: its responses can only be streamed (inferStream, gRPC ModelStreamInfer, HTTP infer_stream)`);
  }
  // Statistics count what reaches the scheduler: a request that fails validation is not
  // counted, as Triton rejects it in InferenceRequest::Normalize before statistics start.
  const validated = validateRequest(request, mv.spec!);
  const trace = ctx.traces.sample(mv.name, mv.version, request.id);
  trace?.started(receivedNs, validated.inputs);
  // A hit skips the scheduler; its outputs are the final ones (classification included).
  const cached = ctx.cache?.lookup(mv.name, mv.version, mv.config!, request);
  if (cached?.outputs !== undefined) {
    const hitNs = nowNs();
    mv.stats.cacheHit?.(receivedNs, 0, cached.lookupNs, hitNs);
    trace?.activity('REQUEST_END', hitNs);
    trace?.finish();
    return Promise.resolve(responseOf(mv, request, cached.outputs));
  }
  const payload: SchedulerPayload = {
    batchSize: validated.batchSize,
    inputs: validated.inputs,
    outputNames: validated.outputNames,
    request,
    signal,
  };
  let queued: Promise<ScheduledResult>;
  try {
    queued = mv.scheduler!.enqueue(payload);
  } catch (err) {
    queued = Promise.reject(err);
  }
  return queued.then(
    (scheduled) => {
      const endNs = nowNs();
      mv.stats.requestSuccess(receivedNs, scheduled.queueNs, scheduled.timing, endNs);
      trace?.succeeded(scheduled.queueNs, scheduled.timing, endNs, scheduled.outputs);
      const outputs = classifyOutputs(scheduled.outputs, request.outputs, mv.spec!);
      const response = responseOf(mv, request, outputs);
      if (cached !== undefined) {
        const { result, insertNs } = ctx.cache!.store(cached, outputs);
        if (result !== 'exists') mv.stats.cacheMiss?.(cached.lookupNs + insertNs);
      }
      onTiming?.(scheduled.timing);
      return response;
    },
    (err: unknown) => {
      const failedNs = nowNs();
      // Triton gives every failure of an ensemble the reason OTHER (metrics.md).
      mv.stats.requestFailure(isEnsembleConfig(mv.config!) ? 'OTHER' : failureReason(err), receivedNs, failedNs);
      trace?.failed(failedNs);
      throw err;
    },
  );
}

/**
 * The `reason` label of a request that failed after it reached the scheduler (reference §6):
 * CANCELED when the client gave up, REJECTED when a queue policy or a stopping scheduler
 * refused it, BACKEND when its execution failed. Requests that fail validation are not
 * counted at all, so nothing here is OTHER; an ensemble's failures are OTHER.
 */
function failureReason(err: unknown): FailureReason {
  if (err instanceof CancelledError) return 'CANCELED';
  if (err instanceof UnavailableError) return 'REJECTED';
  return 'BACKEND';
}

/** A response of `mv` to `request`: `id` echoed when non-empty. */
function responseOf(mv: ModelVersion, request: InferenceRequest, outputs: Tensor[]): InferenceResponse {
  const response: InferenceResponse = { modelName: mv.name, modelVersion: String(mv.version), outputs };
  if (request.id !== undefined && request.id !== '') response.id = request.id;
  return response;
}

/** The outputs with top-N classification applied where the request asked for it. */
function classifyOutputs(outputs: Tensor[], wanted: RequestedOutput[] | undefined, spec: ModelSpec): Tensor[] {
  if (wanted === undefined || !wanted.some((o) => (o.classification ?? 0) > 0)) return outputs;
  return outputs.map((t, i) => {
    const count = wanted[i]?.classification ?? 0;
    return count > 0 ? classify(t, count, spec.maxBatchSize > 0, spec.outputByName.get(t.name)?.labels) : t;
  });
}
