import { appendFile, writeFile } from 'node:fs/promises';

/**
 * A trace output file (server `TraceManager::TraceFile`). Traces are written in two ways:
 *
 * - to `<path>.<n>` (n = 0, 1, ... per file), one JSON array per write, when a setting's
 *   `log_frequency` or `trace_count` says a batch is complete;
 * - to `<path>` itself, as one JSON array that grows: the first write truncates the file and
 *   opens the array, later writes append `,<traces>`, and `close()` appends the closing `]`.
 *
 * Writes are asynchronous but strictly ordered per file; a failed write is reported to
 * `onError` ("failed creating trace file: <reason>") and does not stop later ones.
 */
export class TraceFile {
  #index = 0;
  #mainOpen = false;
  #chain: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    private readonly onError?: (message: string) => void,
  ) {}

  /**
   * @param traces trace objects already serialised and joined with commas (no brackets).
   * @param toIndexFile true: a new `<path>.<n>`; false: append to `<path>`.
   */
  save(traces: string, toIndexFile: boolean): void {
    if (toIndexFile) {
      const file = `${this.path}.${this.#index++}`;
      this.#enqueue(() => writeFile(file, `[${traces}]`));
      return;
    }
    const first = !this.#mainOpen;
    this.#mainOpen = true;
    this.#enqueue(() => (first ? writeFile(this.path, `[${traces}`) : appendFile(this.path, `,${traces}`)));
  }

  /** Closes the array in `<path>` if one was opened; resolves when every write is done. */
  close(): Promise<void> {
    if (this.#mainOpen) {
      this.#mainOpen = false;
      this.#enqueue(() => appendFile(this.path, ']'));
    }
    return this.#chain;
  }

  /** Resolves when every write queued so far is done. */
  flushed(): Promise<void> {
    return this.#chain;
  }

  #enqueue(write: () => Promise<void>): void {
    this.#chain = this.#chain.then(write).catch((err: unknown) => {
      this.onError?.(`failed creating trace file: ${(err as Error).message}`);
    });
  }
}
