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

#include "addon/status_to_js.h"
#include "addon/wraps.h"
#include "core/job_thread.h"
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

class TensorRtContextWrap;

/// Everything one execution needs, converted from JS on the JS thread.
struct ExecuteBaton {
  explicit ExecuteBaton(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise::Deferred deferred;
  // Holds each input's Uint8Array until completion.
  std::vector<Napi::Reference<Napi::Uint8Array>> keep_alive;
  std::vector<trt::HostTensor> inputs;
  std::vector<std::string> output_names;
  std::vector<trt::OutputTensor> outputs;
  trt::ExecuteTiming timing;
  core::Status status;
  TensorRtContextWrap* self = nullptr;
};

void CompleteOnJs(Napi::Env env, Napi::Function, std::nullptr_t*, ExecuteBaton* baton);
using CompletionFn = Napi::TypedThreadSafeFunction<std::nullptr_t, ExecuteBaton, CompleteOnJs>;

struct ContextParts {
  EngineRef engine;
  std::unique_ptr<trt::ExecutionContext> context;
};

class TensorRtContextWrap : public Napi::ObjectWrap<TensorRtContextWrap> {
 public:
  explicit TensorRtContextWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<TensorRtContextWrap>(info)
  {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(info.Env(), "use engine.createContext()");
    }
    ContextParts* parts = info[0].As<Napi::External<ContextParts>>().Data();
    engine_ = std::move(parts->engine);
    context_ = std::move(parts->context);
    thread_.reset(new core::JobThread());
    completion_ = CompletionFn::New(info.Env(), "infera.TensorRtContext", 0, 1);
    // Idle contexts must not keep the process alive.
    completion_.Unref(info.Env());
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
    auto baton = std::make_unique<ExecuteBaton>(env);
    Napi::Promise promise = baton->deferred.Promise();
    if (context_ == nullptr) {
      baton->deferred.Reject(StatusToError(env, core::Status(
          core::StatusCode::UNAVAILABLE, "TensorRT context is disposed")).Value());
      return promise;
    }
    if (!info[0].IsArray() || !info[1].IsArray()) {
      throw Napi::TypeError::New(env, "Expected arrays for inputs and outputNames");
    }
    Napi::Array inputs = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < inputs.Length(); i++) {
      Napi::Object in = inputs.Get(i).As<Napi::Object>();
      trt::HostTensor t;
      t.name = in.Get("name").As<Napi::String>().Utf8Value();
      Napi::Array shape = in.Get("shape").As<Napi::Array>();
      for (uint32_t d = 0; d < shape.Length(); d++) {
        t.shape.push_back(static_cast<int64_t>(shape.Get(d).As<Napi::Number>().Int64Value()));
      }
      Napi::Value data = in.Get("data");
      if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
        throw Napi::TypeError::New(env, "Expected a Uint8Array for input data");
      }
      Napi::Uint8Array bytes = data.As<Napi::Uint8Array>();
      t.data = bytes.Data();
      t.byte_size = bytes.ByteLength();
      baton->keep_alive.push_back(Napi::Persistent(bytes));
      baton->inputs.push_back(std::move(t));
    }
    Napi::Array names = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < names.Length(); i++) {
      baton->output_names.push_back(names.Get(i).As<Napi::String>().Utf8Value());
    }
    baton->self = this;
    if (in_flight_++ == 0) {
      completion_.Ref(env);
      // The baton points at this object: keep it from being collected until the last
      // execution completed.
      Ref();
    }
    ExecuteBaton* raw = baton.release();
    trt::ExecutionContext* context = context_.get();
    CompletionFn completion = completion_;
    thread_->Submit([raw, context, completion]() mutable {
      raw->status = context->Execute(raw->inputs, raw->output_names, &raw->outputs, &raw->timing);
      completion.BlockingCall(raw);
    });
    return promise;
  }

  /// [sync] dispose(): releases the context and its thread.
  /// @throws UNAVAILABLE while executions are in flight (await them first).
  void Dispose(const Napi::CallbackInfo& info)
  {
    if (in_flight_ > 0) {
      ThrowIfError(info.Env(), core::Status(
          core::StatusCode::UNAVAILABLE,
          "cannot dispose a TensorRT context while an execution is running"));
    }
    Shutdown();
  }

  void Completed(Napi::Env env)
  {
    if (--in_flight_ > 0) return;
    if (context_ != nullptr) completion_.Unref(env);
    Unref();
  }

 private:
  void Shutdown()
  {
    if (context_ == nullptr) return;
    thread_->Stop();
    completion_.Release();
    context_.reset();
    engine_.reset();
  }

  EngineRef engine_;
  std::unique_ptr<trt::ExecutionContext> context_;
  std::unique_ptr<core::JobThread> thread_;
  CompletionFn completion_;
  size_t in_flight_ = 0;
};

void
CompleteOnJs(Napi::Env env, Napi::Function, std::nullptr_t*, ExecuteBaton* raw)
{
  std::unique_ptr<ExecuteBaton> baton(raw);
  if (env == nullptr) {
    // The environment is going away: nobody to answer.
    for (auto& out : baton->outputs) out.Release();
    return;
  }
  baton->self->Completed(env);
  if (!baton->status.IsOk()) {
    for (auto& out : baton->outputs) out.Release();
    baton->deferred.Reject(StatusToError(env, baton->status).Value());
    return;
  }
  Napi::Array outputs = Napi::Array::New(env, baton->outputs.size());
  for (size_t i = 0; i < baton->outputs.size(); i++) {
    auto* out = new trt::OutputTensor(std::move(baton->outputs[i]));
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", out->name);
    o.Set("datatype", out->datatype);
    Napi::Array shape = Napi::Array::New(env, out->shape.size());
    for (size_t d = 0; d < out->shape.size(); d++) {
      shape.Set(static_cast<uint32_t>(d), static_cast<double>(out->shape[d]));
    }
    o.Set("shape", shape);
    const size_t size = out->byte_size;
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
        env, out->data, size,
        [](Napi::Env, void*, trt::OutputTensor* t) {
          t->Release();
          delete t;
        },
        out);
    o.Set("data", Napi::Uint8Array::New(env, size, buffer, 0));
    outputs.Set(static_cast<uint32_t>(i), o);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("outputs", outputs);
  Napi::Object timing = Napi::Object::New(env);
  timing.Set("inputNs", static_cast<double>(baton->timing.input_ns));
  timing.Set("inferNs", static_cast<double>(baton->timing.infer_ns));
  timing.Set("outputNs", static_cast<double>(baton->timing.output_ns));
  result.Set("timing", timing);
  baton->deferred.Resolve(result);
}

class TensorRtEngineWrap : public Napi::ObjectWrap<TensorRtEngineWrap> {
 public:
  explicit TensorRtEngineWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<TensorRtEngineWrap>(info)
  {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(info.Env(), "use TensorRtEngine.load()");
    }
    engine_ = *info[0].As<Napi::External<EngineRef>>().Data();
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
