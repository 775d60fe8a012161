/**
 * Runs at most `limit` tasks at once; the rest wait in arrival order. One limiter is shared by
 * every load of the repository manager, so `--model-load-thread-count` bounds how many model
 * versions start together whether they come from start-up, a poll or load requests (Triton's
 * load thread pool).
 */
export class Limiter {
  readonly #limit: number;
  #active = 0;
  readonly #waiting: (() => void)[] = [];

  /** @param limit tasks at once; values below 1 count as 1. */
  constructor(limit: number) {
    this.#limit = Math.max(1, Math.floor(limit));
  }

  /** Runs `fn` once a slot is free; resolves or rejects as `fn` does. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#active < this.#limit) this.#active++;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await fn();
    } finally {
      // The slot passes straight to the next waiter, so a late arrival cannot overtake it.
      const next = this.#waiting.shift();
      if (next !== undefined) next();
      else this.#active--;
    }
  }
}
