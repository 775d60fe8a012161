// The pinned host memory pool (`--pinned-memory-pool-byte-size`, Triton's
// PinnedMemoryManager): one block allocated up front and carved up for batch
// buffers, so host<->device copies can run from page-locked memory without a
// cudaHostAlloc per request. Unlike Triton's process-wide singleton, each
// server owns its pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "core/block_allocator.h"
#include "core/status.h"

namespace infera { namespace core {

/// Usage counters, all in bytes or counts.
struct PinnedMemoryPoolStats {
  /// Bytes of the pool block (0 when the pool is disabled or failed).
  size_t total_bytes = 0;
  /// Bytes of the block handed out (rounded to the alignment).
  size_t used_bytes = 0;
  /// True when the block is page-locked (cudaHostAlloc on a GPU machine).
  bool page_locked = false;
  /// Allocations served from the block, since creation.
  uint64_t pooled_allocations = 0;
  /// Allocations that did not fit and came from the ordinary heap instead.
  uint64_t fallback_allocations = 0;
  /// Bytes currently held by such fallback allocations.
  size_t fallback_bytes = 0;
};

/// Thread-safe: Allocate and Free may be called from any thread (buffers
/// are released by JS finalizers and by native worker threads).
class PinnedMemoryPool {
 public:
  /// Every pointer is aligned to this many bytes (enough for any element
  /// type and for AVX-512 loads).
  static constexpr size_t kAlignment = 64;

  /// Creates a pool of `byte_size` bytes. On a machine with a usable GPU
  /// (ENABLE_GPU and a device) the block is page-locked with cudaHostAlloc;
  /// otherwise, or when that fails, it is ordinary aligned host memory.
  /// `byte_size` 0 disables the pool: every allocation falls back.
  /// Returns INTERNAL when not even the host block can be allocated.
  static Status Create(size_t byte_size, std::unique_ptr<PinnedMemoryPool>* pool);

  ~PinnedMemoryPool();
  PinnedMemoryPool(const PinnedMemoryPool&) = delete;
  PinnedMemoryPool& operator=(const PinnedMemoryPool&) = delete;

  /// Returns `byte_size` bytes aligned to kAlignment, from the block when
  /// it fits, else from the heap (`*pooled` says which). INTERNAL only when
  /// the heap is exhausted too.
  Status Allocate(size_t byte_size, void** ptr, bool* pooled);

  /// Returns memory from Allocate. Any other pointer is ignored (and
  /// reported as false) rather than corrupting the pool.
  bool Free(void* ptr);

  PinnedMemoryPoolStats Stats() const;

 private:
  PinnedMemoryPool(uint8_t* base, size_t byte_size, bool page_locked);

  uint8_t* const base_;
  const bool page_locked_;
  mutable std::mutex mu_;
  BlockAllocator allocator_;
  uint64_t pooled_allocations_ = 0;
  uint64_t fallback_allocations_ = 0;
  size_t fallback_bytes_ = 0;
  // Sizes of live fallback allocations, for the usage counter.
  std::unordered_map<void*, size_t> fallback_sizes_;
};

}}  // namespace infera::core
