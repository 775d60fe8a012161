import type { ModelStatsRecorder } from '../observability/stats-recorder.js';
import { requestCancelledError, stoppingError } from './lifecycle-errors.js';
import { ScheduledRequest } from './scheduled-request.js';
import type { ResponseListener, ScheduledResult, Scheduler, SchedulerPayload, StreamOutcome } from './scheduler.js';

/**
 * The lifecycle every scheduler shares (Triton's schedulers each stop, drain and cancel the
 * same way): `enqueue` and `enqueueStream` wrap the payload in a ScheduledRequest and hand it
 * to the scheduler's `accept`; `drain` stops admission and resolves once nothing waits or
 * executes; `refusal` gives the admission errors; `cancelWhileQueued` drops a queued request
 * whose client gave up. A subclass implements `accept` (queueing, batching, dispatch) and the
 * two counts, and calls `checkDrained` whenever a request leaves its queue or an execution ends.
 */
export abstract class SchedulerBase implements Scheduler {
  #stopping = false;
  #drained: (() => void) | undefined;

  /**
   * @param label the model as messages name it (`<model>:<version>`).
   */
  protected constructor(
    protected readonly label: string,
    protected readonly stats: ModelStatsRecorder,
  ) {}

  abstract get pendingCount(): number;
  abstract get inflightCount(): number;

  /**
   * Takes a new request: queues it, runs it, or settles it at once (e.g. `request.reject`
   * with `refusal`'s error). Runs synchronously inside enqueue; a throw rejects the request.
   */
  protected abstract accept(request: ScheduledRequest): void;

  enqueue(payload: SchedulerPayload): Promise<ScheduledResult> {
    return new Promise<ScheduledResult>((resolve, reject) => this.#admit(new ScheduledRequest(payload, this.label, undefined, resolve, reject)));
  }

  enqueueStream(payload: SchedulerPayload, onResponse: ResponseListener): Promise<StreamOutcome> {
    return new Promise<StreamOutcome>((resolve, reject) => this.#admit(new ScheduledRequest(payload, this.label, onResponse, resolve, reject)));
  }

  drain(): Promise<void> {
    this.#stopping = true;
    if (this.checkDrained()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  /** Whether `drain` was called: new requests are refused. */
  protected get stopping(): boolean {
    return this.#stopping;
  }

  /**
   * Why a new request is refused before it queues, or undefined: UnavailableError (Triton's
   * "Server is stopping, scheduler for model ... has stopped accepting new inference
   * requests") while stopping; CancelledError "Request was cancelled" when its client already
   * gave up.
   */
  protected refusal(request: ScheduledRequest): Error | undefined {
    if (this.#stopping) return stoppingError(this.label);
    if (request.payload.signal?.aborted) return requestCancelledError();
    return undefined;
  }

  /**
   * Drops `request` from the queue when its client gives up while it waits: `remove` takes it
   * out (false when it already left for an instance); it then leaves the pending count and
   * rejects with CancelledError "Request was cancelled". Once it reaches an instance it runs
   * to its end (the instance may watch the signal itself); call `request.unwatch()` then.
   */
  protected cancelWhileQueued(request: ScheduledRequest, remove: () => boolean): void {
    if (request.payload.signal === undefined) return;
    request.watch(() => {
      if (!remove()) return;
      this.stats.pending(-1);
      request.reject(requestCancelledError());
      this.checkDrained();
    });
  }

  /**
   * Resolves a pending drain once nothing waits or executes, and calls `onDrained`.
   * @returns whether the scheduler is stopping and idle.
   */
  protected checkDrained(): boolean {
    if (!this.#stopping || this.pendingCount > 0 || this.inflightCount > 0) return false;
    this.onDrained();
    const drained = this.#drained;
    this.#drained = undefined;
    drained?.();
    return true;
  }

  /** Called when drained: release timers and the like. */
  protected onDrained(): void {}

  #admit(request: ScheduledRequest): void {
    try {
      this.accept(request);
    } catch (err) {
      request.reject(err);
    }
  }
}
