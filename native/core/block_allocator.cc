#include "core/block_allocator.h"

#include <iterator>

namespace infera { namespace core {

BlockAllocator::BlockAllocator(size_t capacity, size_t alignment)
    : capacity_(capacity - capacity % alignment), alignment_(alignment)
{
  if (capacity_ > 0) free_.emplace(0, capacity_);
}

size_t
BlockAllocator::RoundUp(size_t n) const
{
  if (n == 0) return alignment_;
  // Overflow near SIZE_MAX: such a request can never fit anyway.
  if (n > SIZE_MAX - alignment_) return SIZE_MAX;
  return (n + alignment_ - 1) & ~(alignment_ - 1);
}

bool
BlockAllocator::Allocate(size_t byte_size, size_t* offset)
{
  const size_t size = RoundUp(byte_size);
  for (auto it = free_.begin(); it != free_.end(); ++it) {
    if (it->second < size) continue;
    const size_t start = it->first;
    const size_t remaining = it->second - size;
    free_.erase(it);
    if (remaining > 0) free_.emplace(start + size, remaining);
    allocated_.emplace(start, size);
    used_ += size;
    *offset = start;
    return true;
  }
  return false;
}

bool
BlockAllocator::Free(size_t offset)
{
  auto found = allocated_.find(offset);
  if (found == allocated_.end()) return false;
  size_t start = offset;
  size_t size = found->second;
  allocated_.erase(found);
  used_ -= size;

  auto next = free_.lower_bound(start);
  if (next != free_.end() && start + size == next->first) {
    size += next->second;
    next = free_.erase(next);
  }
  if (next != free_.begin()) {
    auto prev = std::prev(next);
    if (prev->first + prev->second == start) {
      start = prev->first;
      size += prev->second;
      free_.erase(prev);
    }
  }
  free_.emplace(start, size);
  return true;
}

size_t
BlockAllocator::LargestFreeBlock() const
{
  size_t largest = 0;
  for (const auto& block : free_) {
    if (block.second > largest) largest = block.second;
  }
  return largest;
}

}}  // namespace infera::core
