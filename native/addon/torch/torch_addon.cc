// infera_torch.node: the PyTorch backend's native module, separate from
// infera.node so that the main addon (and its prebuild) never needs libtorch.
// src/native/torch-binding.ts loads it only when a TorchScript model loads.
//
// Exports: abiVersion, statusCodes, torchInfo() and the class TorchModule.
// Loading runs as an AsyncWorker (libuv pool); each TorchModule owns a native
// JobThread that runs one forward at a time and completes to JS through a
// ThreadSafeFunction, as the TensorRT context does, so libtorch never runs on
// a JS thread.
#include <malloc.h>
#include <napi.h>

#include <memory>
#include <vector>

#include "addon/status_to_js.h"
#include "core/job_thread.h"
#include "core/torch/torch_module.h"

namespace infera { namespace addon {

namespace {

namespace ts = core::torchscript;

/// Bumped whenever the exported surface changes; src/native/torch-binding.ts
/// refuses a module whose `abiVersion` differs.
constexpr int kTorchAbiVersion = 1;

struct TorchAddon;

int
OptionalInt(Napi::Object o, const char* key, int fallback)
{
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  if (!v.IsNumber()) {
    throw Napi::TypeError::New(o.Env(), std::string("Expected a number or boolean for ") + key);
  }
  return v.As<Napi::Number>().Int32Value();
}

ts::ModuleOptions
OptionsArg(const Napi::CallbackInfo& info, size_t index)
{
  if (!info[index].IsObject()) throw Napi::TypeError::New(info.Env(), "Expected an options object");
  Napi::Object o = info[index].As<Napi::Object>();
  ts::ModuleOptions options;
  Napi::Value name = o.Get("modelName");
  if (name.IsString()) options.model_name = name.As<Napi::String>().Utf8Value();
  options.device = OptionalInt(o, "device", -1);
  options.inference_mode = OptionalInt(o, "inferenceMode", 1) == 1;
  options.optimized_execution = OptionalInt(o, "optimizedExecution", 1) == 1;
  options.jit_executor = OptionalInt(o, "jitExecutor", -1);
  options.jit_profiling = OptionalInt(o, "jitProfiling", -1);
  options.tensor_fuser = OptionalInt(o, "tensorFuser", -1);
  options.num_threads = OptionalInt(o, "numThreads", 0);
  options.num_interop_threads = OptionalInt(o, "numInteropThreads", 0);
  return options;
}

class TorchModuleWrap;

/// Loads a module off the JS thread.
class LoadWorker : public Napi::AsyncWorker {
 public:
  LoadWorker(Napi::Env env, std::string path, ts::ModuleOptions options)
      : Napi::AsyncWorker(env, "infera.TorchModule.load"),
        deferred_(Napi::Promise::Deferred::New(env)), path_(std::move(path)),
        options_(std::move(options))
  {
  }

  Napi::Promise Promise() { return deferred_.Promise(); }

  void Execute() override { status_ = ts::Module::Load(path_, options_, &module_); }

  void OnOK() override;

  void OnError(const Napi::Error& e) override { deferred_.Reject(e.Value()); }

 private:
  Napi::Promise::Deferred deferred_;
  std::string path_;
  ts::ModuleOptions options_;
  core::Status status_;
  std::unique_ptr<ts::Module> module_;
};

/// Everything one execution needs, converted from JS on the JS thread.
struct ExecuteBaton {
  explicit ExecuteBaton(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  Napi::Promise::Deferred deferred;
  // Holds each input's Uint8Array until completion: libtorch reads it in place.
  std::vector<Napi::Reference<Napi::Uint8Array>> keep_alive;
  std::vector<ts::InputTensor> inputs;
  std::vector<ts::OutputRequest> requested;
  std::vector<ts::OutputTensor> outputs;
  ts::ExecuteTiming timing;
  core::Status status;
  TorchModuleWrap* self = nullptr;
};

void CompleteOnJs(Napi::Env env, Napi::Function, std::nullptr_t*, ExecuteBaton* baton);
using CompletionFn = Napi::TypedThreadSafeFunction<std::nullptr_t, ExecuteBaton, CompleteOnJs>;

std::string
StringProp(Napi::Object o, const char* key)
{
  Napi::Value v = o.Get(key);
  if (!v.IsString()) throw Napi::TypeError::New(o.Env(), std::string("Expected a string for ") + key);
  return v.As<Napi::String>().Utf8Value();
}

class TorchModuleWrap : public Napi::ObjectWrap<TorchModuleWrap> {
 public:
  explicit TorchModuleWrap(const Napi::CallbackInfo& info)
      : Napi::ObjectWrap<TorchModuleWrap>(info)
  {
    if (info.Length() != 1 || !info[0].IsExternal()) {
      throw Napi::TypeError::New(info.Env(), "use TorchModule.load()");
    }
    module_ = std::move(*info[0].As<Napi::External<std::unique_ptr<ts::Module>>>().Data());
    thread_.reset(new core::JobThread());
    completion_ = CompletionFn::New(info.Env(), "infera.TorchModule", 0, 1);
    // Idle modules must not keep the process alive.
    completion_.Unref(info.Env());
  }

  ~TorchModuleWrap() override { Shutdown(); }

  /// [async] TorchModule.load(path, options) -> Promise<TorchModule>.
  /// Rejects with the core's Status (torch_module.h Module::Load).
  static Napi::Value Load(const Napi::CallbackInfo& info)
  {
    const std::string path = StringArg(info, 0, "path");
    auto* worker = new LoadWorker(info.Env(), path, OptionsArg(info, 1));
    Napi::Promise promise = worker->Promise();
    worker->Queue();
    return promise;
  }

  /// [sync] forward's arguments after self: {name, type}[].
  Napi::Value Arguments(const Napi::CallbackInfo& info)
  {
    Napi::Env env = info.Env();
    if (!module_) return Napi::Array::New(env);
    const auto& args = module_->Arguments();
    Napi::Array list = Napi::Array::New(env, args.size());
    for (size_t i = 0; i < args.size(); i++) {
      Napi::Object o = Napi::Object::New(env);
      o.Set("name", args[i].name);
      o.Set("type", args[i].type);
      list.Set(static_cast<uint32_t>(i), o);
    }
    return list;
  }

  Napi::Value DictInput(const Napi::CallbackInfo& info)
  {
    return Napi::Boolean::New(info.Env(), module_ && module_->DictInput());
  }

  /// [async] execute(inputs: {key, datatype, shape, data: Uint8Array}[],
  /// outputs: {name, index, datatype}[]) -> Promise<{ outputs: {name,
  /// datatype, shape, data: Uint8Array}[], timing: {inputNs, inferNs,
  /// outputNs} }>. Inputs are positional (keyed for a Dict input) and must
  /// not change until the promise settles. Rejects with the core's Status,
  /// UNAVAILABLE after dispose().
  Napi::Value Execute(const Napi::CallbackInfo& info)
  {
    Napi::Env env = info.Env();
    auto baton = std::make_unique<ExecuteBaton>(env);
    Napi::Promise promise = baton->deferred.Promise();
    if (!module_) {
      baton->deferred.Reject(StatusToError(env, core::Status(
          core::StatusCode::UNAVAILABLE, "TorchScript module is disposed")).Value());
      return promise;
    }
    if (!info[0].IsArray() || !info[1].IsArray()) {
      throw Napi::TypeError::New(env, "Expected arrays for inputs and outputs");
    }
    Napi::Array inputs = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < inputs.Length(); i++) {
      Napi::Object in = inputs.Get(i).As<Napi::Object>();
      ts::InputTensor t;
      t.key = StringProp(in, "key");
      t.datatype = StringProp(in, "datatype");
      Napi::Array shape = in.Get("shape").As<Napi::Array>();
      for (uint32_t d = 0; d < shape.Length(); d++) {
        t.shape.push_back(shape.Get(d).As<Napi::Number>().Int64Value());
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
    Napi::Array outputs = info[1].As<Napi::Array>();
    for (uint32_t i = 0; i < outputs.Length(); i++) {
      Napi::Object out = outputs.Get(i).As<Napi::Object>();
      ts::OutputRequest r;
      r.name = StringProp(out, "name");
      r.index = out.Get("index").As<Napi::Number>().Int64Value();
      r.datatype = StringProp(out, "datatype");
      baton->requested.push_back(std::move(r));
    }
    baton->self = this;
    if (in_flight_++ == 0) {
      completion_.Ref(env);
      // The baton points at this object: keep it until the last execution completed.
      Ref();
    }
    ExecuteBaton* raw = baton.release();
    ts::Module* module = module_.get();
    CompletionFn completion = completion_;
    thread_->Submit([raw, module, completion]() mutable {
      raw->status = module->Execute(raw->inputs, raw->requested, &raw->outputs, &raw->timing);
      completion.BlockingCall(raw);
    });
    return promise;
  }

  /// [sync] dispose(): joins the thread and frees the module, then hands the
  /// freed heap back to the system (malloc_trim), so that an unload shows in
  /// the RSS. @throws UNAVAILABLE while executions are in flight.
  void Dispose(const Napi::CallbackInfo& info)
  {
    if (in_flight_ > 0) {
      ThrowIfError(info.Env(), core::Status(
          core::StatusCode::UNAVAILABLE,
          "cannot dispose a TorchScript module while an execution is running"));
    }
    Shutdown();
  }

  void Completed(Napi::Env env)
  {
    if (--in_flight_ > 0) return;
    if (module_) completion_.Unref(env);
    Unref();
  }

 private:
  void Shutdown()
  {
    if (!module_) return;
    thread_->Stop();
    completion_.Release();
    module_.reset();
    malloc_trim(0);
  }

  std::unique_ptr<ts::Module> module_;
  std::unique_ptr<core::JobThread> thread_;
  CompletionFn completion_;
  size_t in_flight_ = 0;
};

void
CompleteOnJs(Napi::Env env, Napi::Function, std::nullptr_t*, ExecuteBaton* raw)
{
  std::unique_ptr<ExecuteBaton> baton(raw);
  if (env == nullptr) {
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
    auto* out = new ts::OutputTensor(std::move(baton->outputs[i]));
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", out->name);
    o.Set("datatype", out->datatype);
    Napi::Array shape = Napi::Array::New(env, out->shape.size());
    for (size_t d = 0; d < out->shape.size(); d++) {
      shape.Set(static_cast<uint32_t>(d), static_cast<double>(out->shape[d]));
    }
    o.Set("shape", shape);
    const size_t size = out->byte_size;
    // The copy made on the native thread becomes the ArrayBuffer: no second copy.
    Napi::ArrayBuffer buffer = Napi::ArrayBuffer::New(
        env, out->data, size,
        [](Napi::Env, void*, ts::OutputTensor* t) {
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

/// Module state per Napi::Env (main thread and each worker get their own).
struct TorchAddon : public Napi::Addon<TorchAddon> {
  TorchAddon(Napi::Env env, Napi::Object exports)
  {
    Napi::Array codes = Napi::Array::New(env, core::kStatusCodeCount);
    for (int i = 0; i < core::kStatusCodeCount; i++) {
      codes.Set(static_cast<uint32_t>(i), core::kStatusCodeNames[i]);
    }
    using W = TorchModuleWrap;
    Napi::Function cls = W::DefineClass(
        env, "TorchModule",
        {
            W::StaticMethod("load", &W::Load),
            W::InstanceAccessor("arguments", &W::Arguments, nullptr),
            W::InstanceAccessor("dictInput", &W::DictInput, nullptr),
            W::InstanceMethod("execute", &W::Execute),
            W::InstanceMethod("dispose", &W::Dispose),
        });
    module_class = Napi::Persistent(cls);
    DefineAddon(
        exports,
        {
            InstanceValue("abiVersion", Napi::Number::New(env, kTorchAbiVersion), napi_enumerable),
            InstanceValue("statusCodes", codes, napi_enumerable),
            InstanceMethod("torchInfo", &TorchAddon::TorchInfo, napi_enumerable),
            InstanceValue("TorchModule", cls, napi_enumerable),
        });
  }

  /// [sync] { version, cuda, cudaDeviceCount, napiVersion }.
  Napi::Value TorchInfo(const Napi::CallbackInfo& info)
  {
    const ts::TorchInfo t = ts::GetTorchInfo();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("version", t.version);
    o.Set("cuda", t.cuda);
    o.Set("cudaDeviceCount", t.cuda_device_count);
    o.Set("napiVersion", NAPI_VERSION);
    return o;
  }

  Napi::FunctionReference module_class;
};

void
LoadWorker::OnOK()
{
  Napi::Env env = Env();
  if (!status_.IsOk()) {
    deferred_.Reject(StatusToError(env, status_).Value());
    return;
  }
  TorchAddon* addon = env.GetInstanceData<TorchAddon>();
  deferred_.Resolve(addon->module_class.New(
      {Napi::External<std::unique_ptr<ts::Module>>::New(env, &module_)}));
}

}  // namespace

}}  // namespace infera::addon

using infera::addon::TorchAddon;
NODE_API_ADDON(TorchAddon)
