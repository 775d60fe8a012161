// Init functions of the wrapped classes; each returns the JS constructor.
#pragma once

#include <napi.h>

#include <memory>

#include "addon/addon.h"
#include "core/pinned_memory_pool.h"

namespace infera { namespace addon {

Napi::Function InitPinnedMemoryPool(Napi::Env env, InferaAddon* addon);
Napi::Function InitCudaMemoryPool(Napi::Env env, InferaAddon* addon);
Napi::Function InitSystemSharedMemoryRegion(Napi::Env env, InferaAddon* addon);
Napi::Function InitCudaSharedMemoryRegion(Napi::Env env, InferaAddon* addon);
/// Also registers the (unexported) TensorRtContext class in `addon`.
Napi::Function InitTensorRtEngine(Napi::Env env, InferaAddon* addon);

/// The core pool behind a JS PinnedMemoryPool.
/// @throws TypeError for any other value.
std::shared_ptr<core::PinnedMemoryPool> UnwrapPinnedMemoryPool(Napi::Value value);

}}  // namespace infera::addon
