#include "core/cuda_device.h"

#ifdef ENABLE_TENSORRT
#include <NvInferVersion.h>
#endif

namespace infera { namespace core {

BuildInfo
GetBuildInfo()
{
  BuildInfo info{};
#ifdef ENABLE_GPU
  info.gpu = true;
  info.cuda_runtime_version = CUDART_VERSION;
#endif
#ifdef ENABLE_TENSORRT
  info.tensorrt = true;
  info.tensorrt_version = NV_TENSORRT_MAJOR * 10000 + NV_TENSORRT_MINOR * 100 +
                          NV_TENSORRT_PATCH;
#endif
  return info;
}

namespace {

DeviceQuery
RunQuery()
{
  DeviceQuery query;
#ifdef ENABLE_GPU
  int count = 0;
  // With the static runtime this is where libcuda.so.1 is looked for: a
  // missing driver is an error code here, never a failure to load the addon.
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess) {
    query.reason = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(err);
    if (err == cudaErrorInsufficientDriver) {
      query.reason +=
          " (no NVIDIA driver is installed, or it is older than CUDA " +
          std::to_string(CUDART_VERSION / 1000) + "." +
          std::to_string(CUDART_VERSION % 1000 / 10) + " needs)";
    }
    // Clear the sticky error so later calls start clean.
    cudaGetLastError();
    return query;
  }
  query.device_count = count;
  if (count == 0) query.reason = "no CUDA device found";
#else
  query.reason = "this build has no CUDA support (built without ENABLE_GPU)";
#endif
  return query;
}

}  // namespace

const DeviceQuery&
QueryDevices()
{
  // A function-local static is initialized once, thread-safely (C++11).
  static const DeviceQuery query = RunQuery();
  return query;
}

Status
RequireDevice(int device, const std::string& feature)
{
  const DeviceQuery& query = QueryDevices();
  if (query.device_count == 0) {
    return Status(
        StatusCode::UNSUPPORTED,
        feature + " needs a GPU, but none is usable: " + query.reason);
  }
  if (device < 0 || device >= query.device_count) {
    return Status(
        StatusCode::INVALID_ARG,
        feature + ": GPU " + std::to_string(device) + " does not exist (" +
            std::to_string(query.device_count) + " device(s) found)");
  }
  return Status::Success();
}

#ifdef ENABLE_GPU
Status
CudaStatus(cudaError_t err, const std::string& what)
{
  if (err == cudaSuccess) return Status::Success();
  return Status(
      StatusCode::INTERNAL, what + ": " + std::string(cudaGetErrorString(err)));
}
#endif

}}  // namespace infera::core
