/**
 * Cancellation of a request as the server uses it. Frontends pass a signal with each request
 * (the gRPC call was cancelled, its deadline passed, the stream ended); schedulers drop a
 * request that is still queued when it aborts.
 */

/**
 * The part of `AbortSignal` the server uses; an AbortSignal is one, and so is the cheaper
 * `Cancellation` below.
 */
export interface CancelSignal {
  readonly aborted: boolean;
  /** What `abort` was given; undefined before. */
  readonly reason: unknown;
  /** `listener` runs once, when the signal aborts; never when it has already aborted. */
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

/**
 * A CancelSignal and its controller in one small object, for frontends that need one per
 * request. Node's AbortController costs several microseconds per request on the hot path
 * (creating its AbortSignal, and EventTarget listeners); this is a flag and a listener list.
 * Listeners behave as on an AbortSignal: each added once (a second add of the same function
 * is ignored), run in order on abort with the signal aborted already, an exception in one
 * reported as uncaught without stopping the others.
 */
export class Cancellation implements CancelSignal {
  #aborted = false;
  #reason: unknown = undefined;
  #listeners: (() => void)[] | undefined;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  addEventListener(type: 'abort', listener: () => void): void {
    if (type !== 'abort' || this.#aborted) return;
    if (this.#listeners === undefined) this.#listeners = [listener];
    else if (!this.#listeners.includes(listener)) this.#listeners.push(listener);
  }

  removeEventListener(type: 'abort', listener: () => void): void {
    if (type !== 'abort' || this.#listeners === undefined) return;
    const i = this.#listeners.indexOf(listener);
    if (i >= 0) this.#listeners.splice(i, 1);
  }

  /** Aborts with `reason` and runs the listeners. Later calls do nothing. */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    const listeners = this.#listeners;
    if (listeners === undefined) return;
    for (const listener of [...listeners]) {
      // As on an EventTarget, a listener removed by an earlier one does not run.
      if (!listeners.includes(listener)) continue;
      try {
        listener();
      } catch (err) {
        process.nextTick(() => {
          throw err;
        });
      }
    }
    this.#listeners = undefined;
  }
}

/**
 * `signal` as a real AbortSignal, for code that needs one (a backend handing it to model
 * code): an AbortSignal is returned as it is; any other signal gets an AbortSignal that
 * follows it.
 */
export function toAbortSignal(signal: CancelSignal | undefined): AbortSignal | undefined {
  if (signal === undefined || signal instanceof AbortSignal) return signal;
  const controller = new AbortController();
  if (signal.aborted) controller.abort(signal.reason);
  else signal.addEventListener('abort', () => controller.abort(signal.reason), { once: true });
  return controller.signal;
}
