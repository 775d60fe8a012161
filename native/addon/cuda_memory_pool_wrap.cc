// JS class CudaMemoryPool: device memory of one GPU, addressed from JS by
// bigint device pointers. Usable only where a GPU is (UNSUPPORTED elsewhere).
#include <memory>

#include "addon/status_to_js.h"
#include "addon/wraps.h"
#include "core/cuda_memory_pool.h"

namespace infera { namespace addon {

namespace {

class CudaMemoryPoolWrap : public Napi::ObjectWrap<CudaMemoryPoolWrap> {
 public:
  /// [sync] new CudaMemoryPool(device, byteSize)
  /// @throws Error code UNSUPPORTED without CUDA or a GPU; INVALID_ARG for a
  ///   device that does not exist; INTERNAL when cudaMalloc fails.
  explicit CudaMemoryPoolWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<CudaMemoryPoolWrap>(info)
  {
    const int device = IntArg(info, 0, "device");
    ThrowIfError(
        info.Env(), core::CudaMemoryPool::Create(device, SizeArg(info, 1, "byteSize"), &pool_));
  }

  /// [sync] allocate(byteSize) -> bigint device pointer (pool, else cudaMalloc).
  Napi::Value Allocate(const Napi::CallbackInfo& info)
  {
    uint64_t ptr = 0;
    bool pooled = false;
    ThrowIfError(info.Env(), pool_->Allocate(SizeArg(info, 0, "byteSize"), &ptr, &pooled));
    return Napi::BigInt::New(info.Env(), ptr);
  }

  /// [sync] free(pointer). @throws INVALID_ARG for a foreign pointer.
  void Free(const Napi::CallbackInfo& info)
  {
    ThrowIfError(info.Env(), pool_->Free(PointerArg(info, 0, "pointer")));
  }

  /// [sync] copyFromHost(pointer, bytes: Uint8Array)
  void CopyFromHost(const Napi::CallbackInfo& info)
  {
    const uint64_t ptr = PointerArg(info, 0, "pointer");
    Napi::Uint8Array src = BytesArg(info, 1, "bytes");
    ThrowIfError(info.Env(), pool_->CopyFromHost(ptr, src.Data(), src.ByteLength()));
  }

  /// [sync] copyToHost(pointer, destination: Uint8Array): fills all of it.
  void CopyToHost(const Napi::CallbackInfo& info)
  {
    const uint64_t ptr = PointerArg(info, 0, "pointer");
    Napi::Uint8Array dst = BytesArg(info, 1, "destination");
    ThrowIfError(info.Env(), pool_->CopyToHost(dst.Data(), ptr, dst.ByteLength()));
  }

  /// [sync] stats() -> { device, totalBytes, usedBytes, pooledAllocations,
  /// fallbackAllocations, fallbackBytes }
  Napi::Value Stats(const Napi::CallbackInfo& info)
  {
    const core::CudaMemoryPoolStats s = pool_->Stats();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("device", s.device);
    o.Set("totalBytes", static_cast<double>(s.total_bytes));
    o.Set("usedBytes", static_cast<double>(s.used_bytes));
    o.Set("pooledAllocations", static_cast<double>(s.pooled_allocations));
    o.Set("fallbackAllocations", static_cast<double>(s.fallback_allocations));
    o.Set("fallbackBytes", static_cast<double>(s.fallback_bytes));
    return o;
  }

 private:
  std::unique_ptr<core::CudaMemoryPool> pool_;
};

}  // namespace

Napi::Function
InitCudaMemoryPool(Napi::Env env, InferaAddon*)
{
  return CudaMemoryPoolWrap::DefineClass(
      env, "CudaMemoryPool",
      {
          CudaMemoryPoolWrap::InstanceMethod("allocate", &CudaMemoryPoolWrap::Allocate),
          CudaMemoryPoolWrap::InstanceMethod("free", &CudaMemoryPoolWrap::Free),
          CudaMemoryPoolWrap::InstanceMethod("copyFromHost", &CudaMemoryPoolWrap::CopyFromHost),
          CudaMemoryPoolWrap::InstanceMethod("copyToHost", &CudaMemoryPoolWrap::CopyToHost),
          CudaMemoryPoolWrap::InstanceMethod("stats", &CudaMemoryPoolWrap::Stats),
      });
}

}}  // namespace infera::addon
