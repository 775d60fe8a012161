import type { IncomingMessage } from 'node:http';
import { UnavailableError } from '../../errors/index.js';

/** The budget is spent: the request is refused with 503 and its connection closed. */
export class ReceiveBudgetError extends UnavailableError {}

/**
 * A cap on the memory held by request bodies still being received, across all connections
 * (`--http-max-receiving-size`). Triton has no such cap; infera adds it because each body is
 * held in memory while it arrives (a Content-Length body is allocated whole up front), so
 * clients that send part of a large body and go silent could otherwise pin memory without
 * bound until the receive timeouts end them.
 *
 * A body reserves its Content-Length when its reading starts, or, when chunked, each chunk as
 * it arrives; the reservation is returned when the body is complete or abandoned (a complete
 * body belongs to its request from then on and is not counted).
 *
 * The count lives in shared memory so that one cap holds across the protocol threads and the
 * core thread's frontend: budgets built on the same `counter` share it, and a reservation is
 * one compare-and-swap, so two threads can never both pass the last bytes.
 */
export class ReceiveBudget {
  readonly #used: BigInt64Array;

  /**
   * @param limit bytes; 0 or Infinity means no cap
   * @param counter the shared count of reserved bytes (8 bytes) of another budget with the
   *   same limit, when this one is to share it (a protocol thread's); a new count by default
   */
  constructor(
    readonly limit: number,
    readonly counter: SharedArrayBuffer = new SharedArrayBuffer(8),
  ) {
    this.#used = new BigInt64Array(counter, 0, 1);
  }

  /** Bytes reserved by bodies being received now, by every budget sharing the counter. */
  get reserved(): number {
    return Number(Atomics.load(this.#used, 0));
  }

  /**
   * Reserves `bytes` for a body being received.
   * @throws ReceiveBudgetError (UNAVAILABLE, HTTP 503) "request body of <bytes> bytes refused: request bodies
   *   being received already hold <used> bytes of the <limit> byte limit. Use
   *   --http-max-receiving-size to increase the limit." when the reservation would pass the cap
   */
  reserve(bytes: number): void {
    const add = BigInt(bytes);
    for (let used = Atomics.load(this.#used, 0); ; ) {
      if (this.limit > 0 && Number(used) + bytes > this.limit) {
        throw new ReceiveBudgetError(
          `request body of ${bytes} bytes refused: request bodies being received already hold ${used} bytes ` +
            `of the ${this.limit} byte limit. Use --http-max-receiving-size to increase the limit.`,
        );
      }
      const seen = Atomics.compareExchange(this.#used, 0, used, used + add);
      if (seen === used) return;
      used = seen;
    }
  }

  /** Returns a reservation made with `reserve`. */
  release(bytes: number): void {
    Atomics.sub(this.#used, 0, BigInt(bytes));
  }
}

const budgets = new WeakMap<IncomingMessage, ReceiveBudget>();

/**
 * Makes `budget` the one `readBody` charges for `req`'s body. The frontend attaches it when
 * the request arrives, so that every handler's body reads are counted without each handler
 * passing it along.
 */
export function attachReceiveBudget(req: IncomingMessage, budget: ReceiveBudget): void {
  budgets.set(req, budget);
}

/** The budget attached to `req`, if any. */
export function receiveBudgetOf(req: IncomingMessage): ReceiveBudget | undefined {
  return budgets.get(req);
}
