// JS class PinnedMemoryPool: the pinned host pool, handing out memory as
// external ArrayBuffers that return to the pool when garbage-collected.
#include <memory>

#include "addon/status_to_js.h"
#include "addon/wraps.h"
#include "core/pinned_memory_pool.h"

namespace infera { namespace addon {

namespace {

using PoolRef = std::shared_ptr<core::PinnedMemoryPool>;

/// What a buffer's finalizer needs: the pool (kept alive) and the size to
/// take back off V8's external-memory count.
struct BufferHint {
  PoolRef pool;
  size_t size;
};

class PinnedMemoryPoolWrap : public Napi::ObjectWrap<PinnedMemoryPoolWrap> {
 public:
  /// [sync] new PinnedMemoryPool(byteSize)
  /// @throws Error code INTERNAL when the block cannot be allocated.
  explicit PinnedMemoryPoolWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<PinnedMemoryPoolWrap>(info)
  {
    std::unique_ptr<core::PinnedMemoryPool> pool;
    ThrowIfError(info.Env(), core::PinnedMemoryPool::Create(SizeArg(info, 0, "byteSize"), &pool));
    pool_ = PoolRef(std::move(pool));
  }

  /// [sync] allocate(byteSize) -> ArrayBuffer of exactly byteSize bytes,
  /// 64-byte aligned, from the pool or (when it is full) the heap. The memory
  /// goes back when the ArrayBuffer is collected; each buffer also holds the
  /// pool alive, so buffers may outlive this object.
  /// @throws Error code INTERNAL when even the heap fails.
  Napi::Value Allocate(const Napi::CallbackInfo& info)
  {
    Napi::Env env = info.Env();
    const size_t size = SizeArg(info, 0, "byteSize");
    void* ptr = nullptr;
    bool pooled = false;
    ThrowIfError(env, pool_->Allocate(size, &ptr, &pooled));
    auto* hint = new BufferHint{pool_, size};
    Napi::ArrayBuffer buffer;
    try {
      buffer = Napi::ArrayBuffer::New(
          env, ptr, size,
          [](Napi::Env finalize_env, void* data, BufferHint* h) {
            h->pool->Free(data);
            Napi::MemoryManagement::AdjustExternalMemory(
                finalize_env, -static_cast<int64_t>(h->size));
            delete h;
          },
          hint);
    }
    catch (...) {
      // E.g. a runtime that refuses external buffers (V8 sandbox).
      pool_->Free(ptr);
      delete hint;
      throw;
    }
    // Pool memory is not V8 heap: tell the GC, so that dropped buffers are
    // collected (and returned) before the pool runs dry.
    Napi::MemoryManagement::AdjustExternalMemory(env, static_cast<int64_t>(size));
    return buffer;
  }

  /// [sync] stats() -> { totalBytes, usedBytes, pageLocked,
  /// pooledAllocations, fallbackAllocations, fallbackBytes }
  Napi::Value Stats(const Napi::CallbackInfo& info)
  {
    const core::PinnedMemoryPoolStats s = pool_->Stats();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("totalBytes", static_cast<double>(s.total_bytes));
    o.Set("usedBytes", static_cast<double>(s.used_bytes));
    o.Set("pageLocked", s.page_locked);
    o.Set("pooledAllocations", static_cast<double>(s.pooled_allocations));
    o.Set("fallbackAllocations", static_cast<double>(s.fallback_allocations));
    o.Set("fallbackBytes", static_cast<double>(s.fallback_bytes));
    return o;
  }

  const PoolRef& Pool() const { return pool_; }

 private:
  PoolRef pool_;
};

}  // namespace

std::shared_ptr<core::PinnedMemoryPool>
UnwrapPinnedMemoryPool(Napi::Value value)
{
  Napi::Env env = value.Env();
  InferaAddon* addon = env.GetInstanceData<InferaAddon>();
  if (!value.IsObject() ||
      !value.As<Napi::Object>().InstanceOf(addon->pinned_memory_pool.Value())) {
    throw Napi::TypeError::New(env, "Expected a PinnedMemoryPool");
  }
  return PinnedMemoryPoolWrap::Unwrap(value.As<Napi::Object>())->Pool();
}

Napi::Function
InitPinnedMemoryPool(Napi::Env env, InferaAddon* addon)
{
  Napi::Function ctor = PinnedMemoryPoolWrap::DefineClass(
      env, "PinnedMemoryPool",
      {
          PinnedMemoryPoolWrap::InstanceMethod("allocate", &PinnedMemoryPoolWrap::Allocate),
          PinnedMemoryPoolWrap::InstanceMethod("stats", &PinnedMemoryPoolWrap::Stats),
      });
  addon->pinned_memory_pool = Napi::Persistent(ctor);
  return ctor;
}

}}  // namespace infera::addon
