import { RequestSharedMemory, type SharedMemoryRef, type SharedMemoryService } from '../memory/index.js';
import type { Tensor } from '../infer/tensor.js';

/** What the frontends use of a request's shared-memory holder (`RequestSharedMemory`). */
export type RequestRegions = Pick<RequestSharedMemory, 'input' | 'output' | 'hasOutput' | 'writeOutputs' | 'release'>;

/**
 * A request's `RequestSharedMemory`, created only once the request names a region. Almost no
 * request does, and the holder (its lease list and output map) would otherwise be built and
 * released for every one. Behaves exactly as the holder it stands for.
 */
export class LazySharedMemory implements RequestRegions {
  readonly #core: { sharedMemory(): SharedMemoryService | undefined };
  #shm: RequestSharedMemory | undefined;

  /** @param core where the server's regions come from (none when `sharedMemory()` is undefined). */
  constructor(core: { sharedMemory(): SharedMemoryService | undefined }) {
    this.#core = core;
  }

  /** See `RequestSharedMemory.input`. */
  input(ref: SharedMemoryRef): Uint8Array {
    return this.#holder().input(ref);
  }

  /** See `RequestSharedMemory.output`. */
  output(name: string, ref: SharedMemoryRef): void {
    this.#holder().output(name, ref);
  }

  hasOutput(name: string): boolean {
    return this.#shm !== undefined && this.#shm.hasOutput(name);
  }

  /** See `RequestSharedMemory.writeOutputs`. */
  writeOutputs(outputs: readonly Tensor[]): void {
    this.#shm?.writeOutputs(outputs);
  }

  /** Releases every lease. Idempotent. */
  release(): void {
    this.#shm?.release();
  }

  #holder(): RequestSharedMemory {
    this.#shm ??= new RequestSharedMemory(this.#core.sharedMemory());
    return this.#shm;
  }
}
