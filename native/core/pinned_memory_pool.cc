#include "core/pinned_memory_pool.h"

#include <cstdlib>
#include <new>

#include "core/cuda_device.h"

namespace infera { namespace core {

namespace {

uint8_t*
AlignedHostAlloc(size_t byte_size)
{
  void* p = nullptr;
  if (posix_memalign(&p, PinnedMemoryPool::kAlignment, byte_size == 0 ? 1 : byte_size) != 0) {
    return nullptr;
  }
  return static_cast<uint8_t*>(p);
}

}  // namespace

Status
PinnedMemoryPool::Create(size_t byte_size, std::unique_ptr<PinnedMemoryPool>* pool)
{
  uint8_t* base = nullptr;
  bool page_locked = false;
  if (byte_size > 0) {
#ifdef ENABLE_GPU
    if (QueryDevices().device_count > 0) {
      void* p = nullptr;
      // Portable: usable from every device's context, as Triton allocates it.
      if (cudaHostAlloc(&p, byte_size, cudaHostAllocPortable) == cudaSuccess) {
        base = static_cast<uint8_t*>(p);
        page_locked = true;
      } else {
        // Too much to lock (ulimit -l, fragmentation): plain memory still
        // serves as a pool, only without DMA speed.
        cudaGetLastError();
      }
    }
#endif
    if (base == nullptr) base = AlignedHostAlloc(byte_size);
    if (base == nullptr) {
      return Status(
          StatusCode::INTERNAL,
          "failed to allocate the pinned memory pool of " +
              std::to_string(byte_size) +
              " bytes; lower --pinned-memory-pool-byte-size");
    }
  }
  pool->reset(new PinnedMemoryPool(base, byte_size, page_locked));
  return Status::Success();
}

PinnedMemoryPool::PinnedMemoryPool(uint8_t* base, size_t byte_size, bool page_locked)
    : base_(base), page_locked_(page_locked), allocator_(byte_size, kAlignment)
{
}

PinnedMemoryPool::~PinnedMemoryPool()
{
  if (base_ == nullptr) return;
#ifdef ENABLE_GPU
  if (page_locked_) {
    cudaFreeHost(base_);
    return;
  }
#endif
  std::free(base_);
}

Status
PinnedMemoryPool::Allocate(size_t byte_size, void** ptr, bool* pooled)
{
  {
    std::lock_guard<std::mutex> lock(mu_);
    size_t offset = 0;
    if (base_ != nullptr && allocator_.Allocate(byte_size, &offset)) {
      *ptr = base_ + offset;
      *pooled = true;
      pooled_allocations_++;
      return Status::Success();
    }
  }
  // The heap call happens outside the lock: it can be slow for large sizes.
  uint8_t* p = AlignedHostAlloc(byte_size);
  if (p == nullptr) {
    return Status(
        StatusCode::INTERNAL,
        "failed to allocate " + std::to_string(byte_size) +
            " bytes of host memory (pinned pool exhausted and heap allocation failed)");
  }
  std::lock_guard<std::mutex> lock(mu_);
  fallback_sizes_.emplace(p, byte_size);
  fallback_allocations_++;
  fallback_bytes_ += byte_size;
  *ptr = p;
  *pooled = false;
  return Status::Success();
}

bool
PinnedMemoryPool::Free(void* ptr)
{
  uint8_t* p = static_cast<uint8_t*>(ptr);
  std::lock_guard<std::mutex> lock(mu_);
  if (base_ != nullptr && p >= base_ && p < base_ + allocator_.Capacity()) {
    return allocator_.Free(static_cast<size_t>(p - base_));
  }
  auto it = fallback_sizes_.find(ptr);
  if (it == fallback_sizes_.end()) return false;
  fallback_bytes_ -= it->second;
  fallback_sizes_.erase(it);
  std::free(ptr);
  return true;
}

PinnedMemoryPoolStats
PinnedMemoryPool::Stats() const
{
  std::lock_guard<std::mutex> lock(mu_);
  PinnedMemoryPoolStats s;
  s.total_bytes = allocator_.Capacity();
  s.used_bytes = allocator_.UsedBytes();
  s.page_locked = page_locked_;
  s.pooled_allocations = pooled_allocations_;
  s.fallback_allocations = fallback_allocations_;
  s.fallback_bytes = fallback_bytes_;
  return s;
}

}}  // namespace infera::core
