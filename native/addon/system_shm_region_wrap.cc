// JS class SystemSharedMemoryRegion: a mapped POSIX shared-memory region,
// exposed without copies as one external ArrayBuffer over the mapping.
//
// Lifetime: the mapping is a std::shared_ptr held by this object and by the
// ArrayBuffer's finalizer hint, so it is unmapped only when both are gone.
// close() detaches the ArrayBuffer (every view of it becomes zero-length, so
// JS can never read an unmapped page) and drops this object's reference.
//
// Other threads: each open region is listed in the process-wide
// core::RegionDirectory under `id` until close(). `attach(id, ...)`, called
// from any thread's instance of the addon (a worker thread running a model),
// gives a view over the same mapping whose buffer holds its own reference, so
// the mapping outlives close() for as long as that view is in use.
#include <memory>
#include <string>

#include "addon/status_to_js.h"
#include "addon/wraps.h"
#include "core/region_directory.h"
#include "core/system_shm_region.h"

namespace infera { namespace addon {

namespace {

using RegionRef = std::shared_ptr<core::SystemSharedMemoryRegion>;

class SystemShmRegionWrap : public Napi::ObjectWrap<SystemShmRegionWrap> {
 public:
  /// Not for JS: the factories below pass the opened region as an External.
  explicit SystemShmRegionWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<SystemShmRegionWrap>(info)
  {
    region_ = *ExternalArg<RegionRef>(
        info, "use SystemSharedMemoryRegion.open() or SystemSharedMemoryRegion.create()");
    name_ = region_->Name();
    key_ = region_->Key();
    offset_ = region_->Offset();
    byte_size_ = region_->ByteSize();
    id_ = core::RegionDirectory::Add(region_);
  }

  ~SystemShmRegionWrap() override { core::RegionDirectory::Remove(id_); }

  /// [sync] SystemSharedMemoryRegion.open(name, key, offset, byteSize):
  /// shm_open + mmap of [offset, offset + byteSize) of the POSIX object `key`.
  /// @throws Error with code INTERNAL / INVALID_ARG and Triton's messages
  ///   (core/system_shm_region.h).
  static Napi::Value Open(const Napi::CallbackInfo& info)
  {
    RegionRef region;
    ThrowIfError(
        info.Env(),
        core::SystemSharedMemoryRegion::Open(
            StringArg(info, 0, "name"), StringArg(info, 1, "key"),
            SizeArg(info, 2, "offset"), SizeArg(info, 3, "byteSize"), &region));
    return Wrap(info.Env(), std::move(region));
  }

  /// [sync] SystemSharedMemoryRegion.create(key, byteSize): the client side;
  /// creates (or resizes) the POSIX object and maps all of it.
  static Napi::Value Create(const Napi::CallbackInfo& info)
  {
    RegionRef region;
    ThrowIfError(
        info.Env(),
        core::SystemSharedMemoryRegion::Create(
            StringArg(info, 0, "key"), SizeArg(info, 1, "byteSize"), &region));
    return Wrap(info.Env(), std::move(region));
  }

  /// [sync] SystemSharedMemoryRegion.unlink(key): shm_unlink.
  /// @throws NOT_FOUND when there is no such object.
  static Napi::Value Unlink(const Napi::CallbackInfo& info)
  {
    ThrowIfError(
        info.Env(), core::SystemSharedMemoryRegion::Unlink(StringArg(info, 0, "key")));
    return info.Env().Undefined();
  }

  /// [sync] SystemSharedMemoryRegion.attach(id, offset, byteSize), from any
  /// thread: a Uint8Array over [offset, offset + byteSize) of the open region
  /// listed as `id` (see `id`), in a buffer of its own that keeps the mapping
  /// alive until it is collected. No copy.
  /// @throws INVALID_ARG with Triton's messages when out of range
  ///   (core/region_bounds.h); UNAVAILABLE once the region is closed.
  static Napi::Value Attach(const Napi::CallbackInfo& info)
  {
    Napi::Env env = info.Env();
    const size_t id = SizeArg(info, 0, "id");
    const size_t offset = SizeArg(info, 1, "offset");
    const size_t size = SizeArg(info, 2, "byteSize");
    RegionRef region = core::RegionDirectory::Find(id);
    if (region == nullptr) {
      ThrowIfError(
          env, core::Status(
                   core::StatusCode::UNAVAILABLE,
                   "shared memory region #" + std::to_string(id) +
                       " is no longer registered"));
    }
    uint8_t* ptr = nullptr;
    ThrowIfError(env, region->Slice(offset, size, &ptr));
    // A zero-length external buffer would still pin the mapping; nothing to view.
    if (size == 0) return Napi::Uint8Array::New(env, 0);
    auto* hint = new RegionRef(std::move(region));
    Napi::ArrayBuffer buffer;
    try {
      buffer = Napi::ArrayBuffer::New(
          env, ptr, size, [](Napi::Env, void*, RegionRef* ref) { delete ref; }, hint);
    }
    catch (...) {
      delete hint;
      throw;
    }
    return Napi::Uint8Array::New(env, size, buffer, 0);
  }

  Napi::Value Name(const Napi::CallbackInfo& info)
  {
    return Napi::String::New(info.Env(), name_);
  }
  Napi::Value Key(const Napi::CallbackInfo& info)
  {
    return Napi::String::New(info.Env(), key_);
  }
  Napi::Value Offset(const Napi::CallbackInfo& info)
  {
    return Napi::Number::New(info.Env(), static_cast<double>(offset_));
  }
  Napi::Value ByteSize(const Napi::CallbackInfo& info)
  {
    return Napi::Number::New(info.Env(), static_cast<double>(byte_size_));
  }
  Napi::Value Closed(const Napi::CallbackInfo& info)
  {
    return Napi::Boolean::New(info.Env(), region_ == nullptr);
  }
  /// The region's process-wide id for `attach` (core/region_directory.h);
  /// it stays the same after close(), when `attach` refuses it.
  Napi::Value Id(const Napi::CallbackInfo& info)
  {
    return Napi::Number::New(info.Env(), static_cast<double>(id_));
  }

  /// [sync] buffer() -> the ArrayBuffer over the whole region (the same one
  /// while it lives). @throws UNAVAILABLE after close().
  Napi::Value Buffer(const Napi::CallbackInfo& info)
  {
    return GetBuffer(info.Env());
  }

  /// [sync] slice(offset, byteSize) -> Uint8Array over [offset, offset +
  /// byteSize) of the region, no copy.
  /// @throws INVALID_ARG with Triton's messages when out of range
  ///   (core/region_bounds.h); UNAVAILABLE after close().
  Napi::Value Slice(const Napi::CallbackInfo& info)
  {
    Napi::Env env = info.Env();
    RequireOpen(env);
    const size_t offset = SizeArg(info, 0, "offset");
    const size_t size = SizeArg(info, 1, "byteSize");
    uint8_t* ptr = nullptr;
    ThrowIfError(env, region_->Slice(offset, size, &ptr));
    return Napi::Uint8Array::New(env, size, GetBuffer(env), offset);
  }

  /// [sync] check(offset, byteSize): the object still holds [offset, offset +
  /// byteSize) of the region (core CheckBacked, after the range check).
  /// @throws INVALID_ARG when it was shrunk below it; UNAVAILABLE after close().
  void Check(const Napi::CallbackInfo& info)
  {
    Napi::Env env = info.Env();
    RequireOpen(env);
    uint8_t* ptr = nullptr;
    ThrowIfError(
        env, region_->Slice(SizeArg(info, 0, "offset"), SizeArg(info, 1, "byteSize"), &ptr));
  }

  /// [sync] close(): detaches the ArrayBuffer and releases this object's
  /// hold on the mapping (munmap follows once no buffer holds it). Idempotent.
  void Close(const Napi::CallbackInfo&)
  {
    if (!buffer_.IsEmpty()) {
      Napi::ArrayBuffer buffer = buffer_.Value();
      if (!buffer.IsEmpty() && !buffer.IsDetached()) buffer.Detach();
      buffer_.Reset();
    }
    core::RegionDirectory::Remove(id_);
    region_.reset();
  }

 private:
  static Napi::Value Wrap(Napi::Env env, RegionRef region)
  {
    InferaAddon* addon = env.GetInstanceData<InferaAddon>();
    return addon->system_shm_region.New({Napi::External<RegionRef>::New(env, &region)});
  }

  void RequireOpen(Napi::Env env) const
  {
    if (region_ == nullptr) {
      ThrowIfError(
          env, core::Status(
                   core::StatusCode::UNAVAILABLE,
                   "shared memory region '" + name_ + "' is closed"));
    }
  }

  Napi::ArrayBuffer GetBuffer(Napi::Env env)
  {
    RequireOpen(env);
    if (!buffer_.IsEmpty()) {
      Napi::ArrayBuffer cached = buffer_.Value();
      if (!cached.IsEmpty() && !cached.IsDetached()) return cached;
    }
    auto* hint = new RegionRef(region_);
    Napi::ArrayBuffer buffer;
    try {
      buffer = Napi::ArrayBuffer::New(
          env, region_->Data(), region_->ByteSize(),
          [](Napi::Env, void*, RegionRef* ref) { delete ref; }, hint);
    }
    catch (...) {
      delete hint;
      throw;
    }
    buffer_ = Napi::Weak(buffer);
    return buffer;
  }

  RegionRef region_;
  // Weak: the buffer lives as long as JS uses it, not as long as this object.
  Napi::Reference<Napi::ArrayBuffer> buffer_;
  std::string name_;
  std::string key_;
  size_t offset_ = 0;
  size_t byte_size_ = 0;
  uint64_t id_ = 0;
};

}  // namespace

Napi::Function
InitSystemSharedMemoryRegion(Napi::Env env, InferaAddon* addon)
{
  using W = SystemShmRegionWrap;
  Napi::Function ctor = W::DefineClass(
      env, "SystemSharedMemoryRegion",
      {
          W::StaticMethod("open", &W::Open),
          W::StaticMethod("create", &W::Create),
          W::StaticMethod("unlink", &W::Unlink),
          W::StaticMethod("attach", &W::Attach),
          W::InstanceAccessor("name", &W::Name, nullptr),
          W::InstanceAccessor("key", &W::Key, nullptr),
          W::InstanceAccessor("offset", &W::Offset, nullptr),
          W::InstanceAccessor("byteSize", &W::ByteSize, nullptr),
          W::InstanceAccessor("closed", &W::Closed, nullptr),
          W::InstanceAccessor("id", &W::Id, nullptr),
          W::InstanceMethod("buffer", &W::Buffer),
          W::InstanceMethod("slice", &W::Slice),
          W::InstanceMethod("check", &W::Check),
          W::InstanceMethod("close", &W::Close),
      });
  addon->system_shm_region = Napi::Persistent(ctor);
  return ctor;
}

}}  // namespace infera::addon
