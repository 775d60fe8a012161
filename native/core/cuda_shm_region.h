// A CUDA IPC memory region opened from a client's cudaIpcMemHandle_t: the
// CUDA shared-memory extension (`/v2/cudasharedmemory`). Compiled for real
// only with ENABLE_GPU; otherwise Open reports UNSUPPORTED.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace infera { namespace core {

/// Owns one opened IPC handle; cudaIpcCloseMemHandle happens in the
/// destructor, so, as for system regions, the last std::shared_ptr decides.
class CudaSharedMemoryRegion {
 public:
  /// sizeof(cudaIpcMemHandle_t); static_assert'ed in the .cc with CUDA.
  static constexpr size_t kHandleSize = 64;

  /// Opens `handle` (kHandleSize bytes) on GPU `device` and checks that the
  /// allocation behind it holds at least `byte_size` bytes. Errors:
  ///   UNSUPPORTED "failed to register CUDA shared memory region: '<name>',
  ///               GPUs not supported: <reason>" without CUDA or a device
  ///   INVALID_ARG "failed to register shared memory region: invalid args"
  ///               when cudaIpcOpenMemHandle refuses the handle (Triton)
  ///   INVALID_ARG "failed to register shared memory region '<name>': invalid
  ///               args" when the allocation is smaller than byte_size
  static Status Open(
      const std::string& name, const uint8_t* handle, size_t handle_size,
      int device, size_t byte_size,
      std::shared_ptr<CudaSharedMemoryRegion>* region);

  ~CudaSharedMemoryRegion();
  CudaSharedMemoryRegion(const CudaSharedMemoryRegion&) = delete;
  CudaSharedMemoryRegion& operator=(const CudaSharedMemoryRegion&) = delete;

  const std::string& Name() const { return name_; }
  int Device() const { return device_; }
  size_t ByteSize() const { return byte_size_; }
  /// The device address of the region's first byte.
  uint64_t DevicePointer() const { return base_; }

  /// Device-to-host copy of [offset, offset + byte_size) into `dst`, after
  /// CheckRegionRange (INVALID_ARG, Triton's messages); INTERNAL when the
  /// copy fails.
  Status CopyToHost(size_t offset, void* dst, size_t byte_size) const;
  /// Host-to-device copy of `byte_size` bytes of `src` to `offset`; same
  /// errors.
  Status CopyFromHost(size_t offset, const void* src, size_t byte_size) const;

 private:
  CudaSharedMemoryRegion(
      std::string name, int device, size_t byte_size, uint64_t base);

  const std::string name_;
  const int device_;
  const size_t byte_size_;
  const uint64_t base_;
};

}}  // namespace infera::core
