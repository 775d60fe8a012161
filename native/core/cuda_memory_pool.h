// The CUDA device memory pool (`--cuda-memory-pool-byte-size <gpu>:<bytes>`,
// Triton's CudaMemoryManager): one cudaMalloc per device at start-up, carved
// up with the same first-fit allocator as the pinned pool so per-request
// device buffers need no cudaMalloc/cudaFree (both synchronize the device).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/block_allocator.h"
#include "core/status.h"

namespace infera { namespace core {

struct CudaMemoryPoolStats {
  int device = 0;
  size_t total_bytes = 0;
  size_t used_bytes = 0;
  uint64_t pooled_allocations = 0;
  /// Allocations that did not fit and used cudaMalloc directly.
  uint64_t fallback_allocations = 0;
  size_t fallback_bytes = 0;
};

/// Thread-safe. Device pointers travel as uint64_t so that this header
/// compiles without CUDA.
class CudaMemoryPool {
 public:
  /// Device allocations are aligned to this (cudaMalloc gives 256).
  static constexpr size_t kAlignment = 256;

  /// UNSUPPORTED when the build has no CUDA or the machine no usable GPU
  /// (message from RequireDevice); INVALID_ARG for a device that does not
  /// exist; INTERNAL when cudaMalloc of the pool fails.
  static Status Create(int device, size_t byte_size, std::unique_ptr<CudaMemoryPool>* pool);

  ~CudaMemoryPool();
  CudaMemoryPool(const CudaMemoryPool&) = delete;
  CudaMemoryPool& operator=(const CudaMemoryPool&) = delete;

  /// Device memory of `byte_size` bytes on this pool's device: from the pool
  /// when it fits, else from cudaMalloc. INTERNAL when both fail.
  Status Allocate(size_t byte_size, uint64_t* device_ptr, bool* pooled);
  /// INVALID_ARG for a pointer this pool did not hand out.
  Status Free(uint64_t device_ptr);

  /// Synchronous copies between host memory and device memory from this pool
  /// (cudaMemcpy on the pool's device).
  Status CopyFromHost(uint64_t device_ptr, const void* src, size_t byte_size);
  Status CopyToHost(void* dst, uint64_t device_ptr, size_t byte_size);

  CudaMemoryPoolStats Stats() const;
  int Device() const { return device_; }

 private:
  CudaMemoryPool(int device, uint64_t base, size_t byte_size);

  const int device_;
  const uint64_t base_;
  mutable std::mutex mu_;
  BlockAllocator allocator_;
  uint64_t pooled_allocations_ = 0;
  uint64_t fallback_allocations_ = 0;
  size_t fallback_bytes_ = 0;
  std::unordered_map<uint64_t, size_t> fallback_sizes_;
};

}}  // namespace infera::core
