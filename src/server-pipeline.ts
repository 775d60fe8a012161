import type { CacheProbe, ResponseCache } from './cache/response-cache.js';
import { CancelledError, UnavailableError, UnsupportedError } from './errors/index.js';
import type { CancelSignal } from './infer/cancellation.js';
import { classify } from './infer/classification.js';
import type { ComputeTiming } from './infer/compute-timing.js';
import { validateRequest } from './infer/request-validation.js';
import type { InferenceRequest, InferenceResponse, InferParameters, Tensor } from './infer/tensor.js';
import type { RequestTrace } from './observability/request-trace.js';
import { nowNs, type FailureReason } from './observability/stats-recorder.js';
import type { TraceManager } from './observability/trace-manager.js';
import { isEnsembleConfig } from './repository/model-loader.js';
import type { ModelVersion } from './repository/model-version.js';
import { requestCancelledError } from './scheduler/lifecycle-errors.js';
import type { ScheduledResult, SchedulerPayload } from './scheduler/scheduler.js';
import { ResponseQueue } from './server-response-queue.js';
import type { ReadyModel } from './server-types.js';

/**
 * The request pipeline of the server facade: the one way every infer request goes through
 * the server, whichever protocol decoded it and however its responses are delivered. In order:
 * model lookup (once; a `ReadyModel` the protocol already looked up is reused), the
 * transaction-policy check of the delivery, validation, trace sampling, response cache,
 * scheduling, statistics, then per response classification and response shaping.
 *
 * Two deliveries: unary (`runInference`, one response: HTTP /infer, gRPC ModelInfer, embedded
 * `infer`, ensemble steps, BLS) and stream (`streamInference`: gRPC ModelStreamInfer, HTTP
 * infer_stream, embedded `inferStream`). A streamed request to a model that is not decoupled
 * is the unary path with its one response marked final, so it is traced and cached as any.
 * A decoupled model's requests are traced too; they never meet the cache, which Triton
 * refuses for decoupled models at config validation (core `model_config_utils.cc`,
 * DLIS-3916), as `usesResponseCache` does.
 */

/** The request parameter that asks for the final flag as an empty response (reference §2.3). */
export const ENABLE_EMPTY_FINAL_RESPONSE = 'triton_enable_empty_final_response';
/** The response parameter that marks a request's last response (reference §2.3). */
export const FINAL_RESPONSE = 'triton_final_response';

/** What the pipeline needs of the server. */
export interface PipelineContext {
  /** The version a request is served by (`ModelRepositoryManager.getReady` and its errors). */
  getReady(name: string, version?: number): ModelVersion;
  traces: TraceManager;
  cache: ResponseCache | undefined;
  /** The server is stopping: new requests are refused (ensemble steps excepted). */
  stopping(): boolean;
}

/** Options of both deliveries. */
export interface PipelineOptions {
  /** The model as the protocol already looked it up (`ServerCore.model`): no second lookup. */
  model?: ReadyModel;
  /**
   * A step of an ensemble request already accepted: it runs while the server stops, and
   * `onTiming` receives the compute timing of the batch it ran in (never for a cache hit),
   * which the ensemble adds up.
   */
  step?: { onTiming(timing: ComputeTiming): void };
}

/** Options of the stream delivery. */
export interface StreamPipelineOptions extends PipelineOptions {
  /** See `InferStreamOptions.emptyFinalResponse`. */
  emptyFinalResponse?: boolean;
}

const STOPPING = 'Server is stopping, no new inference requests are accepted';

/** The handle of each version handed out, and back: a handle is made once per version. */
const handles = new WeakMap<ModelVersion, ReadyModel>();
const versions = new WeakMap<ReadyModel, ModelVersion>();

/** The `ReadyModel` of a READY version (`ServerCore.model`). */
export function readyModelOf(mv: ModelVersion): ReadyModel {
  let handle = handles.get(mv);
  if (handle === undefined) {
    handle = Object.freeze({ name: mv.name, version: mv.version, spec: mv.spec!, decoupled: isDecoupled(mv) });
    handles.set(mv, handle);
    versions.set(handle, mv);
  }
  return handle;
}

/**
 * Runs one request and resolves with its one response. Every error, the lookup and
 * validation ones included, is a rejection: UnavailableError while stopping; the lookup
 * errors of `getReady`; UnsupportedError for a decoupled model (its responses can only be
 * streamed); InvalidArgumentError from validation; then the scheduler's and model's errors.
 */
export function runInference(
  ctx: PipelineContext,
  request: InferenceRequest,
  signal?: CancelSignal,
  options: PipelineOptions = {},
): Promise<InferenceResponse> {
  try {
    return runUnary(admit(ctx, request, signal, options, 'unary'), options.step?.onTiming, undefined);
  } catch (err) {
    return Promise.reject(err);
  }
}

/**
 * A request's responses as Triton's ModelStreamInfer delivers them (reference §2.3;
 * `stream_infer_handler.cc`): each response has the parameter `triton_final_response`, true on
 * the last. A decoupled model may answer zero, one or many times; when it completes without a
 * payload, an empty final response (no outputs) is yielded only if `options.emptyFinalResponse`
 * (default: the request parameter `triton_enable_empty_final_response` is `true`). A model
 * that is not decoupled yields its one response, final.
 *
 * An error ends the iteration (it is thrown from `next()`): a request error before any
 * response (the errors `runInference` rejects with, a decoupled model without a streaming
 * scheduler included), or the model's error response. Stopping the iteration early
 * (`break`, `return()`) or aborting `signal` cancels the request: the model is told and its
 * further responses are dropped.
 */
export async function* streamInference(
  ctx: PipelineContext,
  request: InferenceRequest,
  signal?: CancelSignal,
  options: StreamPipelineOptions = {},
): AsyncGenerator<InferenceResponse, void, undefined> {
  const admitted = admit(ctx, request, signal, options, 'stream');
  if (!isDecoupled(admitted.mv)) {
    yield await runUnary(admitted, options.step?.onTiming, true);
    return;
  }
  const emptyFinal = options.emptyFinalResponse ?? request.parameters?.[ENABLE_EMPTY_FINAL_RESPONSE] === true;
  yield* runDecoupled(admitted, signal, emptyFinal);
}

/** A request that passed lookup, validation and trace sampling, with its cache probe. */
interface Admitted {
  mv: ModelVersion;
  request: InferenceRequest;
  receivedNs: number;
  payload: SchedulerPayload;
  trace: RequestTrace | undefined;
  cache: ResponseCache | undefined;
  /** The cache probe: undefined when the model does not use the cache (or there is none). */
  cached: CacheProbe | undefined;
}

/** @throws the request errors of `runInference`, synchronously. */
function admit(
  ctx: PipelineContext,
  request: InferenceRequest,
  signal: CancelSignal | undefined,
  options: PipelineOptions,
  delivery: 'unary' | 'stream',
): Admitted {
  if (options.step === undefined && ctx.stopping()) throw new UnavailableError(STOPPING);
  const receivedNs = nowNs();
  const mv = versionOf(ctx, request, options.model);
  if (isDecoupled(mv) && delivery === 'unary') {
    throw new UnsupportedError(`model '${mv.name}' is decoupled: its responses can only be streamed (inferStream, gRPC ModelStreamInfer, HTTP infer_stream)`);
  }
  // Statistics count what reaches the scheduler: a request that fails validation is not
  // counted, as Triton rejects it in InferenceRequest::Normalize before statistics start.
  const validated = validateRequest(request, mv.spec!);
  const trace = ctx.traces.sample(mv.name, mv.version, request.id);
  trace?.started(receivedNs, validated.inputs);
  const cached = ctx.cache?.lookup(mv.name, mv.version, mv.config!, request);
  const payload: SchedulerPayload = {
    batchSize: validated.batchSize,
    inputs: validated.inputs,
    outputNames: validated.outputNames,
    request,
    signal,
  };
  return { mv, request, receivedNs, payload, trace, cache: ctx.cache, cached };
}

/** The version the request goes to: the protocol's `ReadyModel` while it still serves, else a lookup. */
function versionOf(ctx: PipelineContext, request: InferenceRequest, model: ReadyModel | undefined): ModelVersion {
  const mv = model === undefined ? undefined : versions.get(model);
  if (
    mv !== undefined &&
    mv.state === 'READY' &&
    mv.name === request.modelName &&
    (request.modelVersion === undefined || request.modelVersion === mv.version)
  ) {
    return mv;
  }
  return ctx.getReady(request.modelName, request.modelVersion);
}

function isDecoupled(mv: ModelVersion): boolean {
  return mv.config!.modelTransactionPolicy?.decoupled === true;
}

/** The one response of an admitted request; `final` marks it as a stream's last. */
function runUnary(
  admitted: Admitted,
  onTiming: ((timing: ComputeTiming) => void) | undefined,
  final: true | undefined,
): Promise<InferenceResponse> {
  const { mv, request, receivedNs, trace, cached } = admitted;
  // A hit skips the scheduler; its outputs are the final ones (classification included).
  if (cached?.outputs !== undefined) {
    const hitNs = nowNs();
    mv.stats.cacheHit?.(receivedNs, 0, cached.lookupNs, hitNs);
    trace?.activity('REQUEST_END', hitNs);
    trace?.finish();
    return Promise.resolve(responseOf(mv, request, cached.outputs, final));
  }
  let queued: Promise<ScheduledResult>;
  try {
    queued = mv.scheduler!.enqueue(admitted.payload);
  } catch (err) {
    queued = Promise.reject(err);
  }
  return queued.then(
    (scheduled) => {
      recordSuccess(admitted, scheduled.queueNs, scheduled.timing, scheduled.outputs);
      const outputs = classifyOutputs(mv, request, scheduled.outputs);
      if (cached !== undefined) {
        const { result, insertNs } = admitted.cache!.store(cached, outputs);
        if (result !== 'exists') mv.stats.cacheMiss?.(cached.lookupNs + insertNs);
      }
      onTiming?.(scheduled.timing);
      return responseOf(mv, request, outputs, final, scheduled.parameters);
    },
    (err: unknown) => {
      recordFailure(admitted, err);
      throw err;
    },
  );
}

/** A decoupled model's responses as they come (see `streamInference`). */
async function* runDecoupled(
  admitted: Admitted,
  signal: CancelSignal | undefined,
  emptyFinal: boolean,
): AsyncGenerator<InferenceResponse, void, undefined> {
  const { mv, request, trace } = admitted;
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const queue = new ResponseQueue();
  // The consumer stops waiting at once; the model learns of it through the same signal.
  controller.signal.addEventListener('abort', () => queue.fail(requestCancelledError()), { once: true });
  mv.scheduler!
    .enqueueStream({ ...admitted.payload, signal: controller.signal }, (outputs, final, parameters) => {
      if (outputs !== undefined) trace?.tensorActivity('TENSOR_BACKEND_OUTPUT', outputs);
      queue.push({ outputs, final, parameters });
    })
    .then(
      ({ queueNs, timing }) => {
        recordSuccess(admitted, queueNs, timing, []);
        queue.end();
      },
      (err: unknown) => {
        recordFailure(admitted, err);
        queue.fail(err);
      },
    );
  let complete = false;
  try {
    for await (const item of queue) {
      if (item.outputs !== undefined) yield responseOf(mv, request, classifyOutputs(mv, request, item.outputs), item.final, item.parameters);
      else if (item.final && emptyFinal) yield responseOf(mv, request, [], true);
      if (item.final) break;
    }
    complete = true;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!complete) controller.abort(requestCancelledError());
  }
}

/** Statistics and trace of a request whose execution succeeded; `outputs` go to the trace. */
function recordSuccess(admitted: Admitted, queueNs: number, timing: ComputeTiming, outputs: readonly Tensor[]): void {
  const endNs = nowNs();
  admitted.mv.stats.requestSuccess(admitted.receivedNs, queueNs, timing, endNs);
  admitted.trace?.succeeded(queueNs, timing, endNs, outputs);
}

/** Statistics and trace of a request that failed after it reached the scheduler. */
function recordFailure(admitted: Admitted, err: unknown): void {
  const failedNs = nowNs();
  const { mv } = admitted;
  // Triton gives every failure of an ensemble the reason OTHER (metrics.md).
  mv.stats.requestFailure(isEnsembleConfig(mv.config!) ? 'OTHER' : failureReason(err), admitted.receivedNs, failedNs);
  admitted.trace?.failed(failedNs);
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

/**
 * A response of `mv` to `request`: `id` echoed when non-empty; the model's own response
 * `parameters` (Triton sends them in the HTTP response's `parameters` object and gRPC's
 * `ModelInferResponse.parameters`); `final` (a streamed response) adds `triton_final_response`.
 */
function responseOf(
  mv: ModelVersion,
  request: InferenceRequest,
  outputs: Tensor[],
  final: boolean | undefined,
  parameters?: InferParameters,
): InferenceResponse {
  const response: InferenceResponse = { modelName: mv.name, modelVersion: String(mv.version), outputs };
  if (parameters !== undefined) response.parameters = { ...parameters };
  if (final !== undefined) response.parameters = { ...response.parameters, [FINAL_RESPONSE]: final };
  if (request.id !== undefined && request.id !== '') response.id = request.id;
  return response;
}

/** The outputs with top-N classification applied where the request asked for it. */
function classifyOutputs(mv: ModelVersion, request: InferenceRequest, outputs: Tensor[]): Tensor[] {
  const wanted = request.outputs;
  if (wanted === undefined || !wanted.some((o) => (o.classification ?? 0) > 0)) return outputs;
  const spec = mv.spec!;
  // By name, not position: an ensemble's answer may leave out an output a step model did not return.
  const counts = new Map(wanted.map((o) => [o.name, o.classification ?? 0]));
  return outputs.map((t) => {
    const count = counts.get(t.name) ?? 0;
    return count > 0 ? classify(t, count, spec.maxBatchSize > 0, spec.outputByName.get(t.name)?.labels) : t;
  });
}
