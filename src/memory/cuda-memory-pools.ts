import { InvalidArgumentError } from '../errors/index.js';
import { callNative, type NativeAddon, type NativeCudaMemoryPool } from '../native/binding.js';
import type { MemoryPoolUsage } from './pinned-memory-pool.js';

/** Triton's `--cuda-memory-pool-byte-size` default per GPU: 64 MiB. */
export const DEFAULT_CUDA_MEMORY_POOL_BYTE_SIZE = 67_108_864;

/**
 * Parses one `--cuda-memory-pool-byte-size <gpu>:<bytes>` value (repeatable; one per GPU).
 * @throws InvalidArgumentError naming the value and the expected form.
 */
export function parseCudaMemoryPoolByteSize(value: string): { device: number; byteSize: number } {
  const m = /^(\d+):(\d+)$/.exec(value.trim());
  const device = m ? Number(m[1]) : NaN;
  const byteSize = m ? Number(m[2]) : NaN;
  if (!m || !Number.isSafeInteger(device) || !Number.isSafeInteger(byteSize)) {
    throw new InvalidArgumentError(
      `--cuda-memory-pool-byte-size expects <integer GPU device id>:<integer pool byte size>, got '${value}'`,
    );
  }
  return { device, byteSize };
}

/**
 * The CUDA memory pools (`--cuda-memory-pool-byte-size`; Triton CudaMemoryManager): one
 * device allocator with reuse per usable GPU. On a machine without a GPU there are none, and
 * `pool(device)` says so.
 */
export class CudaMemoryPools {
  readonly #pools = new Map<number, NativeCudaMemoryPool>();

  private constructor() {}

  /**
   * Creates a pool on every usable GPU: `sizes[device]` bytes, else 64 MiB. A size of 0 leaves
   * that GPU without a pool. Nothing happens without a GPU.
   * @throws the native error when a pool cannot be allocated (InternalError naming the GPU).
   */
  static create(addon: NativeAddon | undefined, sizes: ReadonlyMap<number, number> = new Map()): CudaMemoryPools {
    const pools = new CudaMemoryPools();
    const count = addon?.deviceQuery().deviceCount ?? 0;
    for (let device = 0; device < count; device++) {
      const byteSize = sizes.get(device) ?? DEFAULT_CUDA_MEMORY_POOL_BYTE_SIZE;
      if (byteSize === 0) continue;
      pools.#pools.set(device, callNative(() => new addon!.CudaMemoryPool(device, byteSize)));
    }
    return pools;
  }

  /** The pool of GPU `device`, or undefined when that GPU has none. */
  pool(device: number): NativeCudaMemoryPool | undefined {
    return this.#pools.get(device);
  }

  /** Per GPU, its pool's totals. */
  usage(): Map<number, MemoryPoolUsage> {
    const out = new Map<number, MemoryPoolUsage>();
    for (const [device, pool] of this.#pools) {
      const s = pool.stats();
      out.set(device, { totalBytes: s.totalBytes, usedBytes: s.usedBytes });
    }
    return out;
  }
}
