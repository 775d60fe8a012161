#include "addon/addon.h"

#include "addon/status_to_js.h"
#include "addon/wraps.h"
#include "core/cuda_device.h"
#include "core/reuse_port_socket.h"
#include "core/status.h"

namespace infera { namespace addon {

InferaAddon::InferaAddon(Napi::Env env, Napi::Object exports)
{
  Napi::Array codes = Napi::Array::New(env, core::kStatusCodeCount);
  for (int i = 0; i < core::kStatusCodeCount; i++) {
    codes.Set(static_cast<uint32_t>(i), core::kStatusCodeNames[i]);
  }
  // The exported keys are exactly NATIVE_EXPORT_KEYS in src/native/binding.ts
  // (a contract test compares them).
  DefineAddon(
      exports,
      {
          InstanceValue("abiVersion", Napi::Number::New(env, kAbiVersion), napi_enumerable),
          InstanceValue("statusCodes", codes, napi_enumerable),
          InstanceMethod("buildInfo", &InferaAddon::BuildInfo, napi_enumerable),
          InstanceMethod("deviceQuery", &InferaAddon::DeviceQuery, napi_enumerable),
          InstanceMethod("detachBuffer", &InferaAddon::DetachBuffer, napi_enumerable),
          InstanceMethod("bindReusePort", &InferaAddon::BindReusePort, napi_enumerable),
          InstanceValue("PinnedMemoryPool", InitPinnedMemoryPool(env, this), napi_enumerable),
          InstanceValue("CudaMemoryPool", InitCudaMemoryPool(env, this), napi_enumerable),
          InstanceValue(
              "SystemSharedMemoryRegion", InitSystemSharedMemoryRegion(env, this),
              napi_enumerable),
          InstanceValue(
              "CudaSharedMemoryRegion", InitCudaSharedMemoryRegion(env, this),
              napi_enumerable),
          InstanceValue("TensorRtEngine", InitTensorRtEngine(env, this), napi_enumerable),
      });
}

Napi::Value
InferaAddon::BuildInfo(const Napi::CallbackInfo& info)
{
  Napi::Env env = info.Env();
  const core::BuildInfo b = core::GetBuildInfo();
  Napi::Object o = Napi::Object::New(env);
  o.Set("gpu", b.gpu);
  o.Set("tensorrt", b.tensorrt);
  o.Set("cudaRuntimeVersion", b.cuda_runtime_version);
  o.Set("tensorrtVersion", b.tensorrt_version);
  o.Set("napiVersion", NAPI_VERSION);
  return o;
}

Napi::Value
InferaAddon::DeviceQuery(const Napi::CallbackInfo& info)
{
  const core::DeviceQuery& q = core::QueryDevices();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("deviceCount", q.device_count);
  o.Set("reason", q.reason);
  return o;
}

Napi::Value
InferaAddon::DetachBuffer(const Napi::CallbackInfo& info)
{
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsTypedArray()) {
    throw Napi::TypeError::New(env, "view must be a typed array");
  }
  Napi::ArrayBuffer buffer = info[0].As<Napi::TypedArray>().ArrayBuffer();
  if (!buffer.IsDetached()) buffer.Detach();
  return env.Undefined();
}

Napi::Value
InferaAddon::BindReusePort(const Napi::CallbackInfo& info)
{
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsString() || !info[1].IsNumber()) {
    throw Napi::TypeError::New(env, "bindReusePort(host: string, port: number)");
  }
  core::BoundSocket bound;
  ThrowIfError(
      env, core::BindReusePortSocket(
               info[0].As<Napi::String>().Utf8Value(),
               info[1].As<Napi::Number>().Int32Value(), &bound));
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", bound.fd);
  o.Set("port", bound.port);
  return o;
}

}}  // namespace infera::addon

// The macro builds identifiers from its argument, so it needs a bare name.
using infera::addon::InferaAddon;
NODE_API_ADDON(InferaAddon)
