import type { InstanceRequest } from '../backends/request-instance.js';
import { InternalError } from '../errors/index.js';
import { toAbortSignal } from '../infer/cancellation.js';
import type { InferParameters, Tensor } from '../infer/tensor.js';
import { nowNs } from '../observability/stats-recorder.js';
import type { ResponseListener, ScheduledResult, SchedulerPayload, StreamOutcome } from './scheduler.js';

/**
 * A request inside a scheduler, from `enqueue`/`enqueueStream` to its settlement: its payload,
 * when it was enqueued, the responses the instance sent for it, and the caller's promise.
 *
 * Two kinds, fixed at creation:
 * - collecting (`enqueue`): responses are kept, the last one resolves the promise when the
 *   scheduler calls `complete`; an error response is kept too and rejects it then, so that a
 *   batcher that preserves ordering settles every request in its turn;
 * - streaming (`enqueueStream`): responses go to the listener as they come, and an error
 *   response rejects at once.
 * It settles once; later calls are ignored.
 */
export class ScheduledRequest {
  /** nowNs() at enqueue. */
  readonly enqueuedNs = nowNs();
  #settled = false;
  #last: Tensor[] | undefined;
  #lastParameters: InferParameters | undefined;
  #error: Error | undefined;
  #unlisten: (() => void) | undefined;

  /**
   * @param listener responses of a streaming request; undefined = collecting.
   * @param label the model as messages name it.
   */
  constructor(
    readonly payload: SchedulerPayload,
    private readonly label: string,
    private readonly listener: ResponseListener | undefined,
    private readonly onResolve: (result: ScheduledResult) => void,
    private readonly onReject: (err: unknown) => void,
  ) {}

  /** A response from the instance (see InstanceRequest.respond). */
  respond(outputs: Tensor[] | undefined, final: boolean, parameters?: InferParameters): void {
    if (this.#settled) return;
    if (this.listener !== undefined) this.listener(outputs, final, parameters);
    else if (outputs !== undefined) {
      this.#last = outputs;
      this.#lastParameters = parameters;
    }
  }

  /** An error response: rejects a streaming request now, a collecting one at `complete`. */
  fail(error: Error): void {
    if (this.#settled || this.#error !== undefined) return;
    if (this.listener !== undefined) this.reject(error);
    else this.#error = error;
  }

  /**
   * The execution it ran in finished (`outcome`: its queue time and the execution's timing):
   * resolves with the last response, or rejects with the error response, or with
   * InternalError when the model completed a collecting request without a response.
   */
  complete(outcome: StreamOutcome): void {
    if (this.#settled) return;
    if (this.#error !== undefined) return this.reject(this.#error);
    if (this.listener === undefined && this.#last === undefined) {
      return this.reject(new InternalError(`model '${this.label}' completed the request without a response`));
    }
    this.#settle();
    const result: ScheduledResult = { outputs: this.#last ?? [], queueNs: outcome.queueNs, timing: outcome.timing };
    if (this.#lastParameters !== undefined) result.parameters = this.#lastParameters;
    this.onResolve(result);
  }

  reject(err: unknown): void {
    if (this.#settled) return;
    this.#settle();
    this.onReject(err);
  }

  /** Calls `onAbort` once when the request's signal aborts, until `unwatch` or settlement. */
  watch(onAbort: () => void): void {
    const signal = this.payload.signal;
    if (signal === undefined) return;
    signal.addEventListener('abort', onAbort, { once: true });
    this.#unlisten = () => signal.removeEventListener('abort', onAbort);
  }

  /** Stops watching the signal (the request left the queue for an instance). */
  unwatch(): void {
    this.#unlisten?.();
    this.#unlisten = undefined;
  }

  /** The request as an instance receives it, answering into this one. */
  forInstance(): InstanceRequest {
    return new ForInstance(this);
  }

  #settle(): void {
    this.#settled = true;
    this.unwatch();
  }
}

/**
 * A ScheduledRequest as an instance sees it. A class rather than an object literal with
 * closures: it is made for every request on the hot path.
 */
class ForInstance implements InstanceRequest {
  inputs: Tensor[];
  readonly outputNames: string[];
  readonly batchSize: number;
  readonly id: string | undefined;
  readonly parameters: InferParameters | undefined;
  #signal: AbortSignal | undefined;

  constructor(private readonly scheduled: ScheduledRequest) {
    const p = scheduled.payload;
    this.inputs = p.inputs;
    this.outputNames = p.outputNames;
    this.batchSize = p.batchSize;
    this.id = p.request?.id;
    this.parameters = p.request?.parameters;
  }

  /** Made on first read: an AbortSignal costs microseconds, and only decoupled instances read it. */
  get signal(): AbortSignal | undefined {
    return (this.#signal ??= toAbortSignal(this.scheduled.payload.signal));
  }

  respond(outputs: Tensor[] | undefined, final: boolean, parameters?: InferParameters): void {
    this.scheduled.respond(outputs, final, parameters);
  }

  fail(error: Error): void {
    this.scheduled.fail(error);
  }
}
