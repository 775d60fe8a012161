// Build-time and run-time CUDA availability. The addon links the static CUDA
// runtime, so it loads on machines without CUDA; whether a GPU can be used is
// decided here, at run time, by asking the runtime for devices.
#pragma once

#include <string>

#include "core/status.h"

#ifdef ENABLE_GPU
#include <cuda_runtime_api.h>
#endif

namespace infera { namespace core {

/// What this build was compiled with.
struct BuildInfo {
  /// ENABLE_GPU: CUDA runtime calls are compiled in.
  bool gpu;
  /// ENABLE_TENSORRT: the TensorRT backend is compiled in.
  bool tensorrt;
  /// CUDART_VERSION the build saw (e.g. 13000), 0 without CUDA.
  int cuda_runtime_version;
  /// NV_TENSORRT_VERSION the build saw, 0 without TensorRT.
  int tensorrt_version;
};

BuildInfo GetBuildInfo();

/// Result of the run-time device query.
struct DeviceQuery {
  /// Usable CUDA devices; 0 without a GPU, a driver, or CUDA in the build.
  int device_count = 0;
  /// Why there are none (e.g. "CUDA driver version is insufficient for CUDA
  /// runtime version"); empty when device_count > 0.
  std::string reason;
};

/// Asks the CUDA runtime how many devices there are. Never fails: problems
/// are reported in `reason`. Thread-safe; the result is computed once.
const DeviceQuery& QueryDevices();

/// OK when `device` is a usable CUDA device. Otherwise UNSUPPORTED naming
/// `feature` and the reason, e.g. "CUDA shared memory needs a GPU, but ...:
/// this build has no CUDA support".
Status RequireDevice(int device, const std::string& feature);

#ifdef ENABLE_GPU
/// INTERNAL "<what>: <cudaGetErrorString>" for a failed runtime call, OK for
/// cudaSuccess.
Status CudaStatus(cudaError_t err, const std::string& what);
#endif

}}  // namespace infera::core
