// JS classes TensorRtEngine (exported) and TensorRtContext (made by
// engine.createContext()). Loading runs as an AsyncWorker (a bounded job on
// the libuv pool); each context owns a native JobThread that executes one
// batch at a time and completes to JS through a ThreadSafeFunction, so no
// CUDA synchronization ever blocks a JS or libuv thread.
//
// Without ENABLE_TENSORRT the core returns UNSUPPORTED "TensorRT is not
// available in this build", which load() rejects with.
#include <memory>
#include <vector>

#include "addon/engine_execution.h"
#include "addon/status_to_js.h"
#include "addon/wraps.h"
#include "core/tensorrt/trt_engine.h"

namespace infera { namespace addon {

namespace {

namespace trt = core::tensorrt;
using EngineRef = std::shared_ptr<trt::Engine>;

Napi::Array
TensorInfos(Napi::Env env, const std::vector<trt::TensorInfo>& infos)
{
  Napi::Array list = Napi::Array::New(env, infos.size());
  for (size_t i = 0; i < infos.size(); i++) {
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", infos[i].name);
    o.Set("datatype", infos[i].datatype);
    Napi::Array shape = Napi::Array::New(env, infos[i].shape.size());
    for (size_t d = 0; d < infos[i].shape.size(); d++) {
      shape.Set(static_cast<uint32_t>(d), static_cast<double>(infos[i].shape[d]));
    }
    o.Set("shape", shape);
    list.Set(static_cast<uint32_t>(i), o);
  }
  return list;
}

/// Deserializes a plan off the JS thread. The plan bytes stay referenced
/// until the worker completes (baton discipline: no V8 access in Execute).
class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, Napi::Uint8Array plan, int device)
      : Napi::AsyncWorker(env, "infera.TensorRtEngine.load"),
        deferred_(Napi::Promise::Deferred::New(env)),
        plan_ref_(Napi::Persistent(plan)), data_(plan.Data()),
        size_(plan.ByteLength()), device_(device)
  {
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { status_ = trt::Engine::Load(data_, size_, device_, &engine_); }

  void OnOK() override
  {
    Napi::Env env = Env();
    plan_ref_.Reset();
    if (!status_.IsOk()) {
      deferred_.Reject(StatusToError(env, status_).Value());
      return;
    }
    InferaAddon* addon = env.GetInstanceData<InferaAddon>();
    deferred_.Resolve(addon->tensorrt_engine.New({Napi::External<EngineRef>::New(env, &engine_)}));
  }

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::Reference<Napi::Uint8Array> plan_ref_;
  const uint8_t* data_;
  size_t size_;
  int device_;
  core::Status status_;
  EngineRef engine_;
};

/// Everything one execution needs, converted from JS on the JS thread.
struct ExecuteBaton : ExecutionBaton<trt::OutputTensor> {
  using ExecutionBaton::ExecutionBaton;
  std::vector<trt::HostTensor> inputs;
  std::vector<std::string> output_names;
};

struct ContextParts {
  EngineRef engine;
  std::unique_ptr<trt::ExecutionContext> context;
};

class TensorRtContextWrap : public Napi::ObjectWrap<TensorRtContextWrap> {
 public:
  explicit TensorRtContextWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<TensorRtContextWrap>(info)
  {
    ContextParts* parts = ExternalArg<ContextParts>(info, "use engine.createContext()");
    engine_ = std::move(parts->engine);
    context_ = std::move(parts->context);
    execution_.reset(new ExecutionThread<ExecuteBaton>(info.Env(), "infera.TensorRtContext", this));
  }

  ~TensorRtContextWrap() override { Shutdown(); }

  /// [async] execute(inputs: {name, shape: number[], data: Uint8Array}[],
  /// outputNames: string[]) -> Promise<{ outputs: {name, datatype, shape,
  /// data: Uint8Array}[], timing: { inputNs, inferNs, outputNs } }>.
  /// Runs on the context's native thread; the inputs must not change until
  /// the promise settles. Rejects with INVALID_ARG / INTERNAL from the core
  /// (trt_engine.h), UNAVAILABLE after dispose().
  Napi::Value Execute(const Napi::CallbackInfo& info)
  {
    Napi::Env env = info.Env();
    if (context_ == nullptr) {
      return RejectedPromise(env, core::Status(
          core::StatusCode::UNAVAILABLE, "TensorRT context is disposed"));
    }
    auto baton = std::make_unique<ExecuteBaton>(env);
    if (!info[0].IsArray() || !info[1].IsArray()) {
      throw Napi::TypeError::New(env, "Expected arrays for inputs and outputNames");
    }
    Napi::Array inputs = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < inputs.Length(); i++) {
      Napi::Object in = inputs.Get(i).As<Napi::Object>();
      trt::HostTensor t;
      t.name = in.Get("name").As<Napi::String>().Utf8Value();
      baton->ReadInputBytes(env, in, &t);
      baton->inputs.push_back(std::move(t));
    }
    Napi::Array names = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < names.Length(); i++) {
      baton->output_names.push_back(names.Get(i).As<Napi::String>().Utf8Value());
    }
    trt::ExecutionContext* context = context_.get();
    return execution_->Submit(env, std::move(baton), [context](ExecuteBaton* b) {
      return context->Execute(b->inputs, b->output_names, &b->outputs, &b->timing);
    });
  }

  /// [sync] dispose(): releases the context and its thread.
  /// @throws UNAVAILABLE while executions are in flight (await them first).
  void Dispose(const Napi::CallbackInfo& info)
  {
    execution_->ThrowIfBusy(info.Env(), "cannot dispose a TensorRT context while an execution is running");
    Shutdown();
  }

 private:
  void Shutdown()
  {
    if (context_ == nullptr) return;
    execution_->Stop();
    context_.reset();
    engine_.reset();
  }

  EngineRef engine_;
  std::unique_ptr<trt::ExecutionContext> context_;
  std::unique_ptr<ExecutionThread<ExecuteBaton>> execution_;
};

class TensorRtEngineWrap : public Napi::ObjectWrap<TensorRtEngineWrap> {
 public:
  explicit TensorRtEngineWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<TensorRtEngineWrap>(info)
  {
    engine_ = *ExternalArg<EngineRef>(info, "use TensorRtEngine.load()");
  }

  /// [async] TensorRtEngine.load(plan: Uint8Array, device) ->
  /// Promise<TensorRtEngine>. Rejects with UNSUPPORTED "TensorRT is not
  /// available in this build" (or no GPU), INVALID_ARG for a plan TensorRT
  /// refuses.
  static Napi::Value Load(const Napi::CallbackInfo& info)
  {
    Napi::Uint8Array plan = BytesArg(info, 0, "plan");
    const int device = IntArg(info, 1, "device");
    auto* worker = new LoadWorker(info.Env(), plan, device);
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  /// [sync] inputs / outputs: {name, datatype, shape}[] (-1 = dynamic).
  Napi::Value Inputs(const Napi::CallbackInfo& info)
  {
    return TensorInfos(info.Env(), engine_ ? engine_->Inputs() : std::vector<trt::TensorInfo>{});
  }
  Napi::Value Outputs(const Napi::CallbackInfo& info)
  {
    return TensorInfos(info.Env(), engine_ ? engine_->Outputs() : std::vector<trt::TensorInfo>{});
  }

  /// [sync] createContext(pool?: PinnedMemoryPool) -> TensorRtContext with
  /// its own CUDA stream and native thread; outputs come from `pool`.
  Napi::Value CreateContext(const Napi::CallbackInfo& info)
  {
    Napi::Env env = info.Env();
    if (!engine_) {
      ThrowIfError(env, core::Status(core::StatusCode::UNAVAILABLE, "TensorRT engine is disposed"));
    }
    std::shared_ptr<core::PinnedMemoryPool> pool;
    if (info.Length() > 0 && !info[0].IsUndefined()) pool = UnwrapPinnedMemoryPool(info[0]);
    ContextParts parts;
    parts.engine = engine_;
    ThrowIfError(env, engine_->CreateContext(pool, &parts.context));
    InferaAddon* addon = env.GetInstanceData<InferaAddon>();
    return addon->tensorrt_context.New({Napi::External<ContextParts>::New(env, &parts)});
  }

  /// [sync] dispose(): drops this handle on the engine; contexts keep it
  /// alive until they are disposed.
  void Dispose(const Napi::CallbackInfo&) { engine_.reset(); }

 private:
  EngineRef engine_;
};

}  // namespace

Napi::Function
InitTensorRtEngine(Napi::Env env, InferaAddon* addon)
{
  using C = TensorRtContextWrap;
  Napi::Function context = C::DefineClass(
      env, "TensorRtContext",
      {
          C::InstanceMethod("execute", &C::Execute),
          C::InstanceMethod("dispose", &C::Dispose),
      });
  addon->tensorrt_context = Napi::Persistent(context);

  using E = TensorRtEngineWrap;
  Napi::Function engine = E::DefineClass(
      env, "TensorRtEngine",
      {
          E::StaticMethod("load", &E::Load),
          E::InstanceAccessor("inputs", &E::Inputs, nullptr),
          E::InstanceAccessor("outputs", &E::Outputs, nullptr),
          E::InstanceMethod("createContext", &E::CreateContext),
          E::InstanceMethod("dispose", &E::Dispose),
      });
  addon->tensorrt_engine = Napi::Persistent(engine);
  return engine;
}

}}  // namespace infera::addon
