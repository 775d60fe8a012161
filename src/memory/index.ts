export { CudaMemoryPools, DEFAULT_CUDA_MEMORY_POOL_BYTE_SIZE, parseCudaMemoryPoolByteSize } from './cuda-memory-pools.js';
export { DEFAULT_PINNED_MEMORY_POOL_BYTE_SIZE, PinnedMemoryPool, type MemoryPoolUsage } from './pinned-memory-pool.js';
export { planRegionIo, type RegionIo, type RegionOutputSource, type RegionTarget } from './region-io.js';
export { type PlacedTensor, type RegionSpan, type RegionTensor, spansOverlap } from './region-span.js';
export { RequestSharedMemory, type SharedMemoryRef } from './request-shared-memory.js';
export { ServerMemory, type ServerMemoryOptions, type ServerMemoryUsage } from './server-memory.js';
export { SharedMemoryManager, type SharedMemoryManagerOptions } from './shared-memory-manager.js';
export {
  CLIENT_SHM_DISABLED,
  type CudaSharedMemoryStatus,
  type SharedMemoryLease,
  type SharedMemoryService,
  type SystemSharedMemoryStatus,
} from './shared-memory-types.js';
