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

#include "addon/engine_execution.h"
#include "addon/status_to_js.h"
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

/// Everything one execution needs, converted from JS on the JS thread
/// (libtorch reads the input bytes in place).
struct ExecuteBaton : ExecutionBaton<ts::OutputTensor> {
  using ExecutionBaton::ExecutionBaton;
  std::vector<ts::InputTensor> inputs;
  std::vector<ts::OutputRequest> requested;
};

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
    module_ = std::move(*ExternalArg<std::unique_ptr<ts::Module>>(info, "use TorchModule.load()"));
    execution_.reset(new ExecutionThread<ExecuteBaton>(info.Env(), "infera.TorchModule", this));
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
    if (!module_) {
      return RejectedPromise(env, core::Status(
          core::StatusCode::UNAVAILABLE, "TorchScript module is disposed"));
    }
    auto baton = std::make_unique<ExecuteBaton>(env);
    if (!info[0].IsArray() || !info[1].IsArray()) {
      throw Napi::TypeError::New(env, "Expected arrays for inputs and outputs");
    }
    Napi::Array inputs = info[0].As<Napi::Array>();
    for (uint32_t i = 0; i < inputs.Length(); i++) {
      Napi::Object in = inputs.Get(i).As<Napi::Object>();
      ts::InputTensor t;
      t.key = StringProp(in, "key");
      t.datatype = StringProp(in, "datatype");
      baton->ReadInputBytes(env, in, &t);
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
    ts::Module* module = module_.get();
    return execution_->Submit(env, std::move(baton), [module](ExecuteBaton* b) {
      return module->Execute(b->inputs, b->requested, &b->outputs, &b->timing);
    });
  }

  /// [sync] dispose(): joins the thread and frees the module, then hands the
  /// freed heap back to the system (malloc_trim), so that an unload shows in
  /// the RSS. @throws UNAVAILABLE while executions are in flight.
  void Dispose(const Napi::CallbackInfo& info)
  {
    execution_->ThrowIfBusy(info.Env(), "cannot dispose a TorchScript module while an execution is running");
    Shutdown();
  }

 private:
  void Shutdown()
  {
    if (!module_) return;
    execution_->Stop();
    module_.reset();
    malloc_trim(0);
  }

  std::unique_ptr<ts::Module> module_;
  std::unique_ptr<ExecutionThread<ExecuteBaton>> execution_;
};

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
