// JS class CudaSharedMemoryRegion: a client's CUDA IPC allocation opened on
// this process's GPU. Device memory cannot be viewed from JS, so inputs are
// copied device-to-host and outputs host-to-device, with the region's bounds
// checked in the core first.
#include <memory>

#include "addon/status_to_js.h"
#include "addon/wraps.h"
#include "core/cuda_shm_region.h"
#include "core/region_bounds.h"

namespace infera { namespace addon {

namespace {

using RegionRef = std::shared_ptr<core::CudaSharedMemoryRegion>;

class CudaShmRegionWrap : public Napi::ObjectWrap<CudaShmRegionWrap> {
 public:
  /// Not for JS: open() passes the opened region as an External.
  explicit CudaShmRegionWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<CudaShmRegionWrap>(info)
  {
    region_ = *ExternalArg<RegionRef>(info, "use CudaSharedMemoryRegion.open()");
    name_ = region_->Name();
    device_ = region_->Device();
    byte_size_ = region_->ByteSize();
  }

  /// [sync] CudaSharedMemoryRegion.open(name, rawHandle: Uint8Array(64),
  /// deviceId, byteSize): cudaIpcOpenMemHandle on `deviceId`.
  /// @throws UNSUPPORTED on a machine or build without a GPU;
  ///   INVALID_ARG for a refused handle or a too small allocation.
  static Napi::Value Open(const Napi::CallbackInfo& info)
  {
    Napi::Env env = info.Env();
    const std::string name = StringArg(info, 0, "name");
    Napi::Uint8Array handle = BytesArg(info, 1, "rawHandle");
    const int device = IntArg(info, 2, "deviceId");
    const size_t size = SizeArg(info, 3, "byteSize");
    RegionRef region;
    ThrowIfError(
        env, core::CudaSharedMemoryRegion::Open(
                 name, handle.Data(), handle.ByteLength(), device, size, &region));
    InferaAddon* addon = env.GetInstanceData<InferaAddon>();
    return addon->cuda_shm_region.New({Napi::External<RegionRef>::New(env, &region)});
  }

  Napi::Value Name(const Napi::CallbackInfo& info)
  {
    return Napi::String::New(info.Env(), name_);
  }
  Napi::Value DeviceId(const Napi::CallbackInfo& info)
  {
    return Napi::Number::New(info.Env(), device_);
  }
  Napi::Value ByteSize(const Napi::CallbackInfo& info)
  {
    return Napi::Number::New(info.Env(), static_cast<double>(byte_size_));
  }
  Napi::Value Closed(const Napi::CallbackInfo& info)
  {
    return Napi::Boolean::New(info.Env(), region_ == nullptr);
  }

  /// [sync] checkRange(offset, byteSize): the bounds rule alone, so that a
  /// request is refused before it runs. @throws INVALID_ARG (Triton's
  /// messages); UNAVAILABLE after close().
  void CheckRange(const Napi::CallbackInfo& info)
  {
    RequireOpen(info.Env());
    ThrowIfError(
        info.Env(), core::CheckRegionRange(
                        name_, byte_size_, SizeArg(info, 0, "offset"),
                        SizeArg(info, 1, "byteSize")));
  }

  /// [sync] copyToHost(offset, destination: Uint8Array): fills destination
  /// from [offset, offset + destination.byteLength) of the region.
  /// @throws INVALID_ARG out of range (Triton's messages); INTERNAL for a
  ///   failed copy; UNAVAILABLE after close().
  void CopyToHost(const Napi::CallbackInfo& info)
  {
    RequireOpen(info.Env());
    const size_t offset = SizeArg(info, 0, "offset");
    Napi::Uint8Array dst = BytesArg(info, 1, "destination");
    ThrowIfError(info.Env(), region_->CopyToHost(offset, dst.Data(), dst.ByteLength()));
  }

  /// [sync] copyFromHost(offset, source: Uint8Array); same errors.
  void CopyFromHost(const Napi::CallbackInfo& info)
  {
    RequireOpen(info.Env());
    const size_t offset = SizeArg(info, 0, "offset");
    Napi::Uint8Array src = BytesArg(info, 1, "source");
    ThrowIfError(info.Env(), region_->CopyFromHost(offset, src.Data(), src.ByteLength()));
  }

  /// [sync] close(): cudaIpcCloseMemHandle once nothing else holds it.
  void Close(const Napi::CallbackInfo&) { region_.reset(); }

 private:
  void RequireOpen(Napi::Env env) const
  {
    if (region_ == nullptr) {
      ThrowIfError(
          env, core::Status(
                   core::StatusCode::UNAVAILABLE,
                   "CUDA shared memory region '" + name_ + "' is closed"));
    }
  }

  RegionRef region_;
  std::string name_;
  int device_ = 0;
  size_t byte_size_ = 0;
};

}  // namespace

Napi::Function
InitCudaSharedMemoryRegion(Napi::Env env, InferaAddon* addon)
{
  using W = CudaShmRegionWrap;
  Napi::Function ctor = W::DefineClass(
      env, "CudaSharedMemoryRegion",
      {
          W::StaticMethod("open", &W::Open),
          W::InstanceAccessor("name", &W::Name, nullptr),
          W::InstanceAccessor("deviceId", &W::DeviceId, nullptr),
          W::InstanceAccessor("byteSize", &W::ByteSize, nullptr),
          W::InstanceAccessor("closed", &W::Closed, nullptr),
          W::InstanceMethod("checkRange", &W::CheckRange),
          W::InstanceMethod("copyToHost", &W::CopyToHost),
          W::InstanceMethod("copyFromHost", &W::CopyFromHost),
          W::InstanceMethod("close", &W::Close),
      });
  addon->cuda_shm_region = Napi::Persistent(ctor);
  return ctor;
}

}}  // namespace infera::addon
