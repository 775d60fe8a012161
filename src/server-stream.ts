import { CancelledError, UnavailableError } from './errors/index.js';
import type { CancelSignal } from './infer/cancellation.js';
import { classify } from './infer/classification.js';
import { validateRequest } from './infer/request-validation.js';
import type { InferenceRequest, InferenceResponse, Tensor } from './infer/tensor.js';
import type { ModelVersion } from './repository/model-version.js';
import type { InferStreamOptions } from './server-types.js';
import { isStreamingScheduler } from './scheduler/request-scheduler.js';
import { nowNs, type FailureReason } from './observability/stats-recorder.js';

/** The request parameter that asks for the final flag as an empty response (reference §2.3). */
export const ENABLE_EMPTY_FINAL_RESPONSE = 'triton_enable_empty_final_response';
/** The response parameter that marks a request's last response (reference §2.3). */
export const FINAL_RESPONSE = 'triton_final_response';

/** What streaming needs from the server facade. */
export interface StreamContext {
  /** The READY version a request goes to; throws the lookup errors of `InferenceServer.infer`. */
  version(name: string, version?: number): ModelVersion;
  /** The server's unary infer, for models that are not decoupled. */
  infer(request: InferenceRequest, signal?: CancelSignal): Promise<InferenceResponse>;
  stopping(): boolean;
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
 * response (validation: InvalidArgumentError, lookup errors as `infer`), or the model's error
 * response. Stopping the iteration early (`break`, `return()`) or aborting `signal` cancels the
 * request: the model is told and its further responses are dropped.
 */
export async function* streamInference(
  ctx: StreamContext,
  request: InferenceRequest,
  signal?: CancelSignal,
  options: InferStreamOptions = {},
): AsyncGenerator<InferenceResponse, void, undefined> {
  if (ctx.stopping()) throw new UnavailableError('Server is stopping, no new inference requests are accepted');
  const mv = ctx.version(request.modelName, request.modelVersion);
  const scheduler = mv.scheduler;
  if (mv.config?.modelTransactionPolicy?.decoupled !== true || !isStreamingScheduler(scheduler)) {
    const response = await ctx.infer(request, signal);
    yield { ...response, parameters: { ...response.parameters, [FINAL_RESPONSE]: true } };
    return;
  }
  const receivedNs = nowNs();
  const validated = validateRequest(request, mv.spec!);
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(signal?.reason);
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  const queue = new ResponseQueue();
  // The consumer stops waiting at once; the model learns of it through the same signal.
  controller.signal.addEventListener('abort', () => queue.fail(new CancelledError('Request was cancelled')), { once: true });
  scheduler.enqueueStream({ ...validated, request, signal: controller.signal }, (outputs, final) => queue.push({ outputs, final })).then(
    ({ queueNs, timing }) => {
      mv.stats.requestSuccess(receivedNs, queueNs, timing, nowNs());
      queue.end();
    },
    (err: unknown) => {
      mv.stats.requestFailure(failureReason(err), receivedNs, nowNs());
      queue.fail(err);
    },
  );
  const emptyFinal = options.emptyFinalResponse ?? request.parameters?.[ENABLE_EMPTY_FINAL_RESPONSE] === true;
  let complete = false;
  try {
    for await (const item of queue) {
      if (item.outputs !== undefined) yield responseOf(mv, request, item.outputs, item.final);
      else if (item.final && emptyFinal) yield responseOf(mv, request, [], true);
      if (item.final) break;
    }
    complete = true;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!complete) controller.abort(new CancelledError('Request was cancelled'));
  }
}

function responseOf(mv: ModelVersion, request: InferenceRequest, outputs: Tensor[], final: boolean): InferenceResponse {
  const wanted = request.outputs;
  const spec = mv.spec!;
  if (wanted !== undefined && wanted.some((o) => (o.classification ?? 0) > 0)) {
    outputs = outputs.map((t, i) => {
      const count = wanted[i]?.classification ?? 0;
      return count > 0 ? classify(t, count, spec.maxBatchSize > 0, spec.outputByName.get(t.name)?.labels) : t;
    });
  }
  const response: InferenceResponse = {
    modelName: mv.name,
    modelVersion: String(mv.version),
    parameters: { [FINAL_RESPONSE]: final },
    outputs,
  };
  if (request.id !== undefined && request.id !== '') response.id = request.id;
  return response;
}

/** As server.ts counts failures (reference §6): CANCELED, REJECTED or BACKEND. */
function failureReason(err: unknown): FailureReason {
  if (err instanceof CancelledError) return 'CANCELED';
  if (err instanceof UnavailableError) return 'REJECTED';
  return 'BACKEND';
}

interface QueuedResponse {
  outputs: Tensor[] | undefined;
  final: boolean;
}

/** Responses pushed by the scheduler, read by the generator in order; `fail` ends it with an error. */
class ResponseQueue implements AsyncIterable<QueuedResponse> {
  readonly #items: QueuedResponse[] = [];
  #ended = false;
  #error: unknown;
  #failed = false;
  #wake: (() => void) | undefined;

  push(item: QueuedResponse): void {
    this.#items.push(item);
    this.#notify();
  }

  end(): void {
    this.#ended = true;
    this.#notify();
  }

  /** Ends the iteration with `err` after the responses already queued; the first error wins. */
  fail(err: unknown): void {
    if (this.#failed) return;
    this.#failed = true;
    this.#error = err;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<QueuedResponse> {
    for (;;) {
      if (this.#items.length > 0) {
        yield this.#items.shift()!;
        continue;
      }
      if (this.#failed) throw this.#error;
      if (this.#ended) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
    }
  }
}
