// A first-fit allocator over a range of offsets [0, capacity): the bookkeeping
// shared by the pinned host pool and the CUDA device pool, which add the
// memory and the lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <unordered_map>

namespace infera { namespace core {

/// First-fit free list with coalescing. Blocks are rounded up to
/// `alignment` bytes (a power of two), so every offset it returns is a
/// multiple of `alignment`; a zero-byte request takes one aligned unit, so
/// every allocation has a distinct offset.
///
/// Not thread-safe: the owning pool serializes calls.
class BlockAllocator {
 public:
  /// `capacity` is rounded down to a multiple of `alignment`.
  BlockAllocator(size_t capacity, size_t alignment);

  /// Finds the lowest free block that fits `byte_size` (rounded up to the
  /// alignment). Returns false, changing nothing, when none fits.
  bool Allocate(size_t byte_size, size_t* offset);

  /// Returns the block at `offset` to the free list, merging it with free
  /// neighbours. Returns false for an offset that is not allocated (double
  /// free, foreign offset); nothing changes then.
  bool Free(size_t offset);

  /// Bytes handed out, counting the rounding.
  size_t UsedBytes() const { return used_; }
  size_t Capacity() const { return capacity_; }
  size_t AllocationCount() const { return allocated_.size(); }
  /// Free blocks; 1 when nothing is allocated (all coalesced).
  size_t FreeBlockCount() const { return free_.size(); }
  size_t LargestFreeBlock() const;

 private:
  size_t RoundUp(size_t n) const;

  size_t capacity_;
  size_t alignment_;
  size_t used_ = 0;
  // offset -> size; ordered so neighbours are found in O(log n).
  std::map<size_t, size_t> free_;
  // offset -> size of blocks handed out.
  std::unordered_map<size_t, size_t> allocated_;
};

}}  // namespace infera::core
