#include "core/cuda_shm_region.h"

#include <cstring>

#include "core/cuda_device.h"
#include "core/region_bounds.h"

#ifdef ENABLE_GPU
#include <cuda.h>
#endif

namespace infera { namespace core {

namespace {

Status
GpusNotSupported(const std::string& name)
{
  return Status(
      StatusCode::UNSUPPORTED,
      "failed to register CUDA shared memory region: '" + name +
          "', GPUs not supported: " + QueryDevices().reason);
}

}  // namespace

CudaSharedMemoryRegion::CudaSharedMemoryRegion(
    std::string name, int device, size_t byte_size, uint64_t base)
    : name_(std::move(name)), device_(device), byte_size_(byte_size), base_(base)
{
}

#ifdef ENABLE_GPU

static_assert(
    sizeof(cudaIpcMemHandle_t) == CudaSharedMemoryRegion::kHandleSize,
    "kHandleSize must match cudaIpcMemHandle_t");

namespace {

void*
AsPointer(uint64_t p)
{
  return reinterpret_cast<void*>(static_cast<uintptr_t>(p));
}

using MemGetAddressRangeFn = CUresult (*)(CUdeviceptr*, size_t*, CUdeviceptr);

/// Size of the allocation that contains `ptr`, through the driver entry
/// point (the runtime API has no equivalent; the static runtime already
/// loaded the driver).
Status
AllocationSize(uint64_t ptr, size_t* size)
{
  void* fn = nullptr;
  cudaDriverEntryPointQueryResult found{};
#if CUDART_VERSION >= 12050
  cudaError_t err = cudaGetDriverEntryPointByVersion(
      "cuMemGetAddressRange", &fn, 12000, cudaEnableDefault, &found);
#else
  cudaError_t err = cudaGetDriverEntryPoint(
      "cuMemGetAddressRange", &fn, cudaEnableDefault, &found);
#endif
  if (err != cudaSuccess || fn == nullptr) {
    cudaGetLastError();
    return Status(StatusCode::INTERNAL, "Failed to get CUDA driver entry point");
  }
  CUdeviceptr base = 0;
  CUresult result = reinterpret_cast<MemGetAddressRangeFn>(fn)(
      &base, size, static_cast<CUdeviceptr>(ptr));
  if (result != CUDA_SUCCESS) {
    return Status(StatusCode::INTERNAL, "Failed to get CUDA address range");
  }
  // The size counts from the allocation's base; the IPC pointer is its base
  // for handles from cudaIpcGetMemHandle, but be exact anyway.
  const uint64_t skipped = ptr - static_cast<uint64_t>(base);
  *size = *size > skipped ? *size - skipped : 0;
  return Status::Success();
}

}  // namespace

Status
CudaSharedMemoryRegion::Open(
    const std::string& name, const uint8_t* handle, size_t handle_size,
    int device, size_t byte_size, std::shared_ptr<CudaSharedMemoryRegion>* region)
{
  if (QueryDevices().device_count == 0) return GpusNotSupported(name);
  INFERA_RETURN_IF_ERROR(RequireDevice(device, "CUDA shared memory"));
  if (handle_size != kHandleSize) {
    return Status(
        StatusCode::INVALID_ARG,
        "'raw_handle' must be a valid base64 encoded cudaIpcMemHandle_t");
  }
  INFERA_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device), "cudaSetDevice"));
  cudaIpcMemHandle_t ipc;
  std::memcpy(&ipc, handle, kHandleSize);
  void* ptr = nullptr;
  cudaError_t err =
      cudaIpcOpenMemHandle(&ptr, ipc, cudaIpcMemLazyEnablePeerAccess);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return Status(
        StatusCode::INVALID_ARG,
        "failed to register shared memory region: invalid args");
  }
  const uint64_t base = reinterpret_cast<uintptr_t>(ptr);
  size_t size = 0;
  Status sized = AllocationSize(base, &size);
  if (!sized.IsOk() || byte_size > size) {
    cudaIpcCloseMemHandle(ptr);
    return Status(
        StatusCode::INVALID_ARG,
        "failed to register shared memory region '" + name + "': invalid args");
  }
  region->reset(new CudaSharedMemoryRegion(name, device, byte_size, base));
  return Status::Success();
}

CudaSharedMemoryRegion::~CudaSharedMemoryRegion()
{
  cudaSetDevice(device_);
  cudaIpcCloseMemHandle(AsPointer(base_));
}

Status
CudaSharedMemoryRegion::CopyToHost(size_t offset, void* dst, size_t byte_size) const
{
  INFERA_RETURN_IF_ERROR(CheckRegionRange(name_, byte_size_, offset, byte_size));
  INFERA_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device_), "cudaSetDevice"));
  return CudaStatus(
      cudaMemcpy(dst, AsPointer(base_ + offset), byte_size, cudaMemcpyDeviceToHost),
      "failed to copy from CUDA shared memory region '" + name_ + "'");
}

Status
CudaSharedMemoryRegion::CopyFromHost(size_t offset, const void* src, size_t byte_size) const
{
  INFERA_RETURN_IF_ERROR(CheckRegionRange(name_, byte_size_, offset, byte_size));
  INFERA_RETURN_IF_ERROR(CudaStatus(cudaSetDevice(device_), "cudaSetDevice"));
  return CudaStatus(
      cudaMemcpy(AsPointer(base_ + offset), src, byte_size, cudaMemcpyHostToDevice),
      "failed to copy to CUDA shared memory region '" + name_ + "'");
}

#else  // !ENABLE_GPU

Status
CudaSharedMemoryRegion::Open(
    const std::string& name, const uint8_t*, size_t, int, size_t,
    std::shared_ptr<CudaSharedMemoryRegion>*)
{
  return GpusNotSupported(name);
}

CudaSharedMemoryRegion::~CudaSharedMemoryRegion() = default;

Status
CudaSharedMemoryRegion::CopyToHost(size_t, void*, size_t) const
{
  return GpusNotSupported(name_);
}

Status
CudaSharedMemoryRegion::CopyFromHost(size_t, const void*, size_t) const
{
  return GpusNotSupported(name_);
}

#endif  // ENABLE_GPU

}}  // namespace infera::core
