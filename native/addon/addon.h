// Module state: one InferaAddon per Napi::Env (main thread and each worker
// thread get their own), held as N-API instance data by Napi::Addon, so
// nothing here is a C++ static shared between environments.
#pragma once

#include <napi.h>

namespace infera { namespace addon {

/// Bumped whenever the exported surface changes; src/native/binding.ts
/// refuses an addon whose `abiVersion` differs (a stale build or prebuild).
constexpr int kAbiVersion = 3;

class InferaAddon : public Napi::Addon<InferaAddon> {
 public:
  InferaAddon(Napi::Env env, Napi::Object exports);

  /// Constructors that native code instantiates itself (factories returning
  /// new wrapped objects).
  Napi::FunctionReference system_shm_region;
  Napi::FunctionReference cuda_shm_region;
  Napi::FunctionReference tensorrt_engine;
  Napi::FunctionReference tensorrt_context;
  Napi::FunctionReference pinned_memory_pool;

 private:
  /// [sync] { gpu, tensorrt, cudaRuntimeVersion, tensorrtVersion,
  /// napiVersion }: what this build was compiled with.
  Napi::Value BuildInfo(const Napi::CallbackInfo& info);
  /// [sync] { deviceCount, reason }: the CUDA devices usable now (static
  /// runtime; 0 with a reason on machines without a GPU or driver).
  Napi::Value DeviceQuery(const Napi::CallbackInfo& info);
  /// [sync] detachBuffer(view): detaches the ArrayBuffer behind a typed
  /// array now, so that its memory goes at once (freed, or for a view from
  /// SystemSharedMemoryRegion.attach, its hold on the mapping dropped)
  /// instead of whenever V8 collects it. Idempotent.
  /// @throws TypeError unless `view` is a typed array.
  Napi::Value DetachBuffer(const Napi::CallbackInfo& info);
  /// [sync] bindReusePort(host, port) -> { fd, port }: a TCP socket bound
  /// with SO_REUSEPORT (not yet listening) for `server.listen({ fd })` in
  /// each protocol thread; port 0 picks one. The caller owns the fd.
  /// @throws Error with code INVALID_ARG / UNAVAILABLE / UNSUPPORTED
  ///   (core/reuse_port_socket.h).
  Napi::Value BindReusePort(const Napi::CallbackInfo& info);
};

}}  // namespace infera::addon
