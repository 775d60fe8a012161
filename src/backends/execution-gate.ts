import { UnavailableError } from '../errors/index.js';

/**
 * The in-flight count of an instance whose executions run on a native thread (TensorRT
 * context, TorchScript module): close() waits until the executions already started have
 * settled before the native object is released, since the native side refuses to dispose
 * while one runs, and no execution starts once closing began.
 */
export class ExecutionGate {
  readonly #label: string;
  #inFlight = 0;
  #drained: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  /** @param label names the instance in the closing error, e.g. "model 'm' version 1 instance 'm_0'". */
  constructor(label: string) {
    this.#label = label;
  }

  /**
   * Runs `execution`, counted as in flight until it settles.
   * @throws UnavailableError "<label> is closing" (as a rejection) once close() was called;
   *   otherwise whatever `execution` throws.
   */
  async run<T>(execution: () => Promise<T>): Promise<T> {
    if (this.#closing !== undefined) throw new UnavailableError(`${this.#label} is closing`);
    this.#inFlight++;
    try {
      return await execution();
    } finally {
      if (--this.#inFlight === 0) this.#drained?.();
    }
  }

  /**
   * Waits for the executions in flight, then calls `release` once. Idempotent: later calls
   * return the first call's promise (and never call their own `release`).
   */
  close(release: () => void): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#inFlight > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      release();
    })();
    return this.#closing;
  }
}
