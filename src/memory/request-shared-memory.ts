import { NotFoundError } from '../errors/index.js';
import type { Tensor } from '../infer/tensor.js';
import type { SharedMemoryLease, SharedMemoryService } from './shared-memory-types.js';

/**
 * The shared-memory side of one inference request, for any frontend (HTTP and gRPC decode the
 * `shared_memory_region` / `shared_memory_offset` / `shared_memory_byte_size` parameters into
 * a SharedMemoryRef and hand it here). It holds a lease per tensor so the regions stay mapped
 * until `release()`, which the frontend calls once the response has been written (or the
 * request failed).
 *
 * ```ts
 * const shm = new RequestSharedMemory(core.sharedMemory?.());
 * try {
 *   input.data = shm.input(ref);             // zero-copy view (system) or host copy (CUDA)
 *   shm.output('OUTPUT0', outRef);           // bounds checked now, written after inference
 *   const response = await core.infer(request);
 *   shm.writeOutputs(response.outputs);      // then encode those outputs without data
 * } finally {
 *   shm.release();
 * }
 * ```
 */

/** Where a tensor's bytes live in a registered region. */
export interface SharedMemoryRef {
  region: string;
  /** Bytes from the region's start; 0 when the request gives none. */
  offset: number;
  byteSize: number;
}

export class RequestSharedMemory {
  readonly #service: SharedMemoryService | undefined;
  readonly #leases: SharedMemoryLease[] = [];
  readonly #outputs = new Map<string, SharedMemoryLease>();

  /** @param service the server's regions; undefined when the server has none. */
  constructor(service: SharedMemoryService | undefined) {
    this.#service = service;
  }

  /**
   * The bytes of an input held in shared memory.
   * @throws NotFoundError / InvalidArgumentError from `SharedMemoryService.acquire` (Triton's
   *   messages), NotFoundError when the server has no shared-memory support.
   */
  input(ref: SharedMemoryRef): Uint8Array {
    return this.#acquire(ref).read();
  }

  /** Reserves the output `name` to be written into `ref` (same errors as `input`). */
  output(name: string, ref: SharedMemoryRef): void {
    this.#outputs.set(name, this.#acquire(ref));
  }

  /** Whether output `name` goes to shared memory (and so carries no data in the response). */
  hasOutput(name: string): boolean {
    return this.#outputs.has(name);
  }

  /** Outputs reserved with `output`. */
  get outputCount(): number {
    return this.#outputs.size;
  }

  /**
   * Writes every output reserved with `output` into its region.
   * @throws InternalError with Triton's message when an output is larger than its region range.
   */
  writeOutputs(outputs: readonly Tensor[]): void {
    if (this.#outputs.size === 0) return;
    for (const t of outputs) this.#outputs.get(t.name)?.write(t.data, t.name);
  }

  /** Releases every lease. Idempotent. */
  release(): void {
    for (const lease of this.#leases) lease.release();
    this.#leases.length = 0;
    this.#outputs.clear();
  }

  #acquire(ref: SharedMemoryRef): SharedMemoryLease {
    if (this.#service === undefined) throw new NotFoundError(`Unable to find shared memory region: '${ref.region}'`);
    const lease = this.#service.acquire(ref.region, ref.offset, ref.byteSize);
    this.#leases.push(lease);
    return lease;
  }
}
