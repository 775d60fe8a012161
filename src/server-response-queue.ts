import type { InferParameters, Tensor } from './infer/tensor.js';

/** One response of a streamed request, as the scheduler handed it over. */
export interface QueuedResponse {
  /** undefined = the final flag alone, without a payload. */
  outputs: Tensor[] | undefined;
  final: boolean;
  /** The response's own parameters, as the model set them. */
  parameters?: InferParameters;
}

/**
 * Responses pushed by a streaming scheduler, read by the request pipeline's generator in
 * order; `fail` ends the iteration with an error after the responses already queued.
 */
export class ResponseQueue implements AsyncIterable<QueuedResponse> {
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
