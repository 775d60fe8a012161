import { requestCancelledError } from '../lifecycle-errors.js';
import type { CancelSignal } from '../../infer/cancellation.js';

/** Triton's `kMutexTimeoutSeconds`: how long a step waits for room before going ahead anyway. */
export const STEP_WAIT_LIMIT_MS = 300_000;

interface Waiter {
  grant: () => void;
  timer?: NodeJS.Timeout;
}

/**
 * `ensemble_scheduling.max_inflight_requests` for one step (Triton's
 * `StepInflightRequestLimiter`): at most `max` requests of this step are in flight at once,
 * across every request of the ensemble; further ones wait in arrival order until one
 * finishes. This is backpressure: a fast upstream step cannot pile up work (and memory) in
 * front of a slow downstream one. `max` 0 = no limit, and nothing waits.
 *
 * As in Triton, a step that has waited `waitLimitMs` (300 s) goes ahead anyway, with an error
 * logged, rather than risk a deadlock; a cancelled request stops waiting at once.
 */
export class StepLimiter {
  #inflight = 0;
  readonly #waiters: Waiter[] = [];

  /**
   * @param onOverdue called when a waiter gives up waiting and proceeds (for the log).
   */
  constructor(
    readonly max: number,
    private readonly onOverdue: (inflight: number) => void = () => undefined,
    private readonly waitLimitMs = STEP_WAIT_LIMIT_MS,
  ) {}

  /** Requests of this step in flight now. */
  get inflight(): number {
    return this.#inflight;
  }

  /**
   * Resolves once the step may run; pair every resolved acquire with one `release`.
   * @throws CancelledError when `signal` aborts while waiting (nothing is then held).
   */
  acquire(signal?: CancelSignal): Promise<void> {
    if (this.max === 0 || (this.#inflight < this.max && this.#waiters.length === 0)) {
      this.#inflight++;
      return Promise.resolve();
    }
    if (signal?.aborted) return Promise.reject(requestCancelledError());
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.#remove(waiter);
        reject(requestCancelledError());
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          clearTimeout(waiter.timer);
          this.#inflight++;
          resolve();
        },
      };
      waiter.timer = setTimeout(() => {
        this.#remove(waiter);
        this.onOverdue(this.#inflight);
        waiter.grant();
      }, this.waitLimitMs);
      waiter.timer.unref();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Ends one in-flight request and lets the longest waiter in. */
  release(): void {
    if (this.max === 0) return;
    if (this.#inflight > 0) this.#inflight--;
    while (this.#inflight < this.max && this.#waiters.length > 0) this.#waiters.shift()!.grant();
  }

  #remove(waiter: Waiter): void {
    const i = this.#waiters.indexOf(waiter);
    if (i >= 0) this.#waiters.splice(i, 1);
    clearTimeout(waiter.timer);
  }
}
