import { nativeAddonLoadError, tryLoadNativeAddon, type NativeAddon } from '../native/binding.js';
import { CudaMemoryPools } from './cuda-memory-pools.js';
import { DEFAULT_PINNED_MEMORY_POOL_BYTE_SIZE, PinnedMemoryPool, type MemoryPoolUsage } from './pinned-memory-pool.js';
import { SharedMemoryManager } from './shared-memory-manager.js';

/** The memory flags of reference §5. */
export interface ServerMemoryOptions {
  /** `--allow-client-shm`, default false. */
  allowClientShm?: boolean;
  /** `--pinned-memory-pool-byte-size`, default 256 MiB; 0 disables the pool. */
  pinnedMemoryPoolByteSize?: number;
  /** `--cuda-memory-pool-byte-size`: bytes per GPU id; unlisted GPUs get 64 MiB. */
  cudaMemoryPoolByteSize?: ReadonlyMap<number, number>;
  /** The addon, for tests; by default loaded if it can be. */
  addon?: NativeAddon | null;
}

/** Pool totals for the metrics gauges (`nv_pinned_memory_pool_total_bytes`, `..._used_bytes`). */
export interface ServerMemoryUsage {
  /** Zeros when the pool is disabled or the addon is missing. */
  pinned: MemoryPoolUsage;
  /** Per GPU id; empty without a GPU. */
  cuda: Map<number, MemoryPoolUsage>;
}

interface WarnLogger {
  warn(obj: object, msg?: string): void;
}

/**
 * What one server owns in memory: the client shared-memory registry, the pinned host pool and
 * the CUDA pools. Without the native addon the server still runs: no pools (usage reports 0),
 * and registering a region fails with the addon's load error, which says how to fix it.
 */
export class ServerMemory {
  readonly sharedMemory: SharedMemoryManager;
  /** Undefined when the addon is missing or the pool could not be reserved. */
  readonly pinned: PinnedMemoryPool | undefined;
  readonly cuda: CudaMemoryPools;

  private constructor(sharedMemory: SharedMemoryManager, pinned: PinnedMemoryPool | undefined, cuda: CudaMemoryPools) {
    this.sharedMemory = sharedMemory;
    this.pinned = pinned;
    this.cuda = cuda;
  }

  /**
   * Reserves the pools. Failures to reserve them are logged (warn) and leave the server
   * without that pool, as Triton continues without pinned memory when it cannot allocate it.
   */
  static create(options: ServerMemoryOptions, logger: WarnLogger): ServerMemory {
    const addon = options.addon === undefined ? tryLoadNativeAddon() : (options.addon ?? undefined);
    const sharedMemory = new SharedMemoryManager({
      allowClientShm: options.allowClientShm ?? false,
      addon: addon !== undefined ? () => addon : undefined,
    });
    if (addon === undefined) {
      if (options.addon === undefined) logger.warn({ err: nativeAddonLoadError() }, 'native addon unavailable: no memory pools');
      return new ServerMemory(sharedMemory, undefined, CudaMemoryPools.create(undefined));
    }
    let pinned: PinnedMemoryPool | undefined;
    try {
      pinned = PinnedMemoryPool.create(options.pinnedMemoryPoolByteSize ?? DEFAULT_PINNED_MEMORY_POOL_BYTE_SIZE, addon);
    } catch (err) {
      logger.warn({ err }, 'pinned memory pool unavailable');
    }
    let cuda: CudaMemoryPools;
    try {
      cuda = CudaMemoryPools.create(addon, options.cudaMemoryPoolByteSize);
    } catch (err) {
      logger.warn({ err }, 'CUDA memory pool unavailable');
      cuda = CudaMemoryPools.create(undefined);
    }
    return new ServerMemory(sharedMemory, pinned, cuda);
  }

  usage(): ServerMemoryUsage {
    return { pinned: this.pinned?.usage() ?? { totalBytes: 0, usedBytes: 0 }, cuda: this.cuda.usage() };
  }

  /** Unregisters every shared-memory region (regions in use close when released). */
  close(): void {
    this.sharedMemory.close();
  }
}
