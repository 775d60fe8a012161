#include "core/cuda_memory_pool.h"

#include "core/cuda_device.h"

namespace infera { namespace core {

#ifdef ENABLE_GPU

namespace {

void*
AsPointer(uint64_t p)
{
  return reinterpret_cast<void*>(static_cast<uintptr_t>(p));
}

}  // namespace

Status
CudaMemoryPool::Create(int device, size_t byte_size, std::unique_ptr<CudaMemoryPool>* pool)
{
  INFERA_RETURN_IF_ERROR(RequireDevice(device, "the CUDA memory pool"));
  INFERA_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device), "cudaSetDevice"));
  void* base = nullptr;
  if (byte_size > 0) {
    cudaError_t err = cudaMalloc(&base, byte_size);
    if (err != cudaSuccess) {
      cudaGetLastError();
      return Status(
          StatusCode::INTERNAL,
          "failed to allocate the CUDA memory pool of " +
              std::to_string(byte_size) + " bytes on GPU " +
              std::to_string(device) + ": " + cudaGetErrorString(err) +
              "; lower --cuda-memory-pool-byte-size");
    }
  }
  pool->reset(new CudaMemoryPool(device, reinterpret_cast<uintptr_t>(base), byte_size));
  return Status::Success();
}

CudaMemoryPool::~CudaMemoryPool()
{
  cudaSetDevice(device_);
  for (const auto& f : fallback_sizes_) cudaFree(AsPointer(f.first));
  if (base_ != 0) cudaFree(AsPointer(base_));
}

Status
CudaMemoryPool::Allocate(size_t byte_size, uint64_t* device_ptr, bool* pooled)
{
  {
    std::lock_guard<std::mutex> lock(mu_);
    size_t offset = 0;
    if (base_ != 0 && allocator_.Allocate(byte_size, &offset)) {
      *device_ptr = base_ + offset;
      *pooled = true;
      pooled_allocations_++;
      return Status::Success();
    }
  }
  INFERA_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device_), "cudaSetDevice"));
  void* p = nullptr;
  cudaError_t err = cudaMalloc(&p, byte_size == 0 ? 1 : byte_size);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return Status(
        StatusCode::INTERNAL,
        "failed to allocate " + std::to_string(byte_size) +
            " bytes on GPU " + std::to_string(device_) +
            " (CUDA memory pool exhausted, cudaMalloc: " +
            cudaGetErrorString(err) + ")");
  }
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t addr = reinterpret_cast<uintptr_t>(p);
  fallback_sizes_.emplace(addr, byte_size);
  fallback_allocations_++;
  fallback_bytes_ += byte_size;
  *device_ptr = addr;
  *pooled = false;
  return Status::Success();
}

Status
CudaMemoryPool::Free(uint64_t device_ptr)
{
  std::lock_guard<std::mutex> lock(mu_);
  if (base_ != 0 && device_ptr >= base_ && device_ptr < base_ + allocator_.Capacity()) {
    if (allocator_.Free(static_cast<size_t>(device_ptr - base_))) {
      return Status::Success();
    }
  } else {
    auto it = fallback_sizes_.find(device_ptr);
    if (it != fallback_sizes_.end()) {
      fallback_bytes_ -= it->second;
      fallback_sizes_.erase(it);
      cudaSetDevice(device_);
      return CudaStatus(cudaFree(AsPointer(device_ptr)), "cudaFree");
    }
  }
  return Status(
      StatusCode::INVALID_ARG,
      "device pointer was not allocated by the CUDA memory pool of GPU " +
          std::to_string(device_));
}

Status
CudaMemoryPool::CopyFromHost(uint64_t device_ptr, const void* src, size_t byte_size)
{
  INFERA_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device_), "cudaSetDevice"));
  return CudaStatus(
      cudaMemcpy(AsPointer(device_ptr), src, byte_size, cudaMemcpyHostToDevice),
      "cudaMemcpy host to device");
}

Status
CudaMemoryPool::CopyToHost(void* dst, uint64_t device_ptr, size_t byte_size)
{
  INFERA_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device_), "cudaSetDevice"));
  return CudaStatus(
      cudaMemcpy(dst, AsPointer(device_ptr), byte_size, cudaMemcpyDeviceToHost),
      "cudaMemcpy device to host");
}

#else  // !ENABLE_GPU: the type exists, but no pool can be created.

Status
CudaMemoryPool::Create(int device, size_t, std::unique_ptr<CudaMemoryPool>*)
{
  return RequireDevice(device, "the CUDA memory pool");
}

CudaMemoryPool::~CudaMemoryPool() = default;

Status
CudaMemoryPool::Allocate(size_t, uint64_t*, bool*)
{
  return RequireDevice(device_, "the CUDA memory pool");
}

Status
CudaMemoryPool::Free(uint64_t)
{
  return RequireDevice(device_, "the CUDA memory pool");
}

Status
CudaMemoryPool::CopyFromHost(uint64_t, const void*, size_t)
{
  return RequireDevice(device_, "the CUDA memory pool");
}

Status
CudaMemoryPool::CopyToHost(void*, uint64_t, size_t)
{
  return RequireDevice(device_, "the CUDA memory pool");
}

#endif  // ENABLE_GPU

CudaMemoryPool::CudaMemoryPool(int device, uint64_t base, size_t byte_size)
    : device_(device), base_(base), allocator_(byte_size, kAlignment)
{
}

CudaMemoryPoolStats
CudaMemoryPool::Stats() const
{
  std::lock_guard<std::mutex> lock(mu_);
  CudaMemoryPoolStats s;
  s.device = device_;
  s.total_bytes = allocator_.Capacity();
  s.used_bytes = allocator_.UsedBytes();
  s.pooled_allocations = pooled_allocations_;
  s.fallback_allocations = fallback_allocations_;
  s.fallback_bytes = fallback_bytes_;
  return s;
}

}}  // namespace infera::core
