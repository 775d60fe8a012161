import { callNative, loadNativeAddon, type NativeAddon, type NativePinnedMemoryPool, type NativePinnedMemoryPoolStats } from '../native/binding.js';

/** Totals of a memory pool, in bytes (the `nv_pinned_memory_pool_*_bytes` gauges, reference §6). */
export interface MemoryPoolUsage {
  totalBytes: number;
  usedBytes: number;
}

/** Triton's `--pinned-memory-pool-byte-size` default: 256 MiB. */
export const DEFAULT_PINNED_MEMORY_POOL_BYTE_SIZE = 268_435_456;

/**
 * The pinned host memory pool (`--pinned-memory-pool-byte-size`; Triton PinnedMemoryManager):
 * one block reserved at start-up, page-locked with cudaHostAlloc when a GPU is usable and plain
 * 64-byte-aligned memory otherwise, handed out for batch buffers and returned to the pool when
 * the buffer is garbage-collected. When the pool is full, allocations come from the heap
 * (counted as fallbacks), so a full pool slows nothing down but host-to-device copies.
 */
export class PinnedMemoryPool {
  readonly #native: NativePinnedMemoryPool;

  private constructor(native: NativePinnedMemoryPool) {
    this.#native = native;
  }

  /**
   * @param byteSize 0 disables the pool (every allocation is a heap fallback)
   * @throws UnavailableError when the native addon cannot be loaded (message lists the fix);
   *   InternalError when the block cannot be allocated.
   */
  static create(byteSize: number, addon: NativeAddon = loadNativeAddon()): PinnedMemoryPool {
    return new PinnedMemoryPool(callNative(() => new addon.PinnedMemoryPool(byteSize)));
  }

  /**
   * `byteLength` bytes, 64-byte aligned, from the pool. The memory is an external buffer:
   * worker threads receive a copy of it, never the buffer itself.
   * @throws InternalError only when the heap is exhausted too.
   */
  allocate(byteLength: number): Uint8Array {
    return new Uint8Array(callNative(() => this.#native.allocate(byteLength)));
  }

  /** Pool totals for the metrics gauges. */
  usage(): MemoryPoolUsage {
    const s = this.#native.stats();
    return { totalBytes: s.totalBytes, usedBytes: s.usedBytes };
  }

  /** All counters, including heap fallbacks and whether the block is page-locked. */
  stats(): NativePinnedMemoryPoolStats {
    return this.#native.stats();
  }

  /** The native pool, for native consumers (TensorRT contexts put their outputs in it). */
  get native(): NativePinnedMemoryPool {
    return this.#native;
  }

  /**
   * An allocator for `gatherBatch` (backends/batch-gather.ts) that takes batch buffers from
   * this pool, falling back to an ordinary ArrayBuffer if the pool refuses (e.g. a runtime that
   * forbids external buffers). Worth it where batches go to a GPU; a CPU backend in a worker
   * thread would copy the external buffer once more on its way over.
   */
  batchAllocator(): (byteLength: number) => Uint8Array {
    return (byteLength) => {
      try {
        return this.allocate(byteLength);
      } catch {
        return new Uint8Array(byteLength);
      }
    };
  }
}
