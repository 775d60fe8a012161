// The execution half shared by the wraps of backends that run on a native
// thread of their own (TensorRtContext in infera.node, TorchModule in
// infera_torch.node): each execute() converts its inputs on the JS thread,
// runs on the wrap's JobThread and settles its promise back on the JS thread
// through a ThreadSafeFunction, so no CUDA synchronization or libtorch call
// ever blocks a JS or libuv thread. Header only, so that both modules compile
// it without infera_torch.node linking infera_core.
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <vector>

#include "addon/status_to_js.h"
#include "core/host_output.h"
#include "core/job_thread.h"
#include "core/status.h"

namespace infera { namespace addon {

/// What one execution carries across threads. A backend derives its baton
/// from this, adding the inputs it converted; `Output` is its OutputTensor
/// (a core::HostOutputTensor with Release()).
template <typename Output>
struct ExecutionBaton {
  explicit ExecutionBaton(Napi::Env env) : deferred(Napi::Promise::Deferred::New(env)) {}
  virtual ~ExecutionBaton() = default;

  /// Reads `in.shape` (number[]) and `in.data` (Uint8Array) into `tensor`'s
  /// shape / data / byte_size. The bytes are read in place by the native
  /// thread, so the Uint8Array stays referenced until the promise settles.
  /// @throws TypeError when `data` is not a Uint8Array.
  template <typename Tensor>
  void ReadInputBytes(Napi::Env env, Napi::Object in, Tensor* tensor)
  {
    Napi::Array shape = in.Get("shape").As<Napi::Array>();
    for (uint32_t d = 0; d < shape.Length(); d++) {
      tensor->shape.push_back(shape.Get(d).As<Napi::Number>().Int64Value());
    }
    Napi::Value data = in.Get("data");
    if (!data.IsTypedArray() || data.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array) {
      throw Napi::TypeError::New(env, "Expected a Uint8Array for input data");
    }
    Napi::Uint8Array bytes = data.As<Napi::Uint8Array>();
    tensor->data = bytes.Data();
    tensor->byte_size = bytes.ByteLength();
    keep_alive.push_back(Napi::Persistent(bytes));
  }

  Napi::Promise::Deferred deferred;
  std::vector<Napi::Reference<Napi::Uint8Array>> keep_alive;
  std::vector<Output> outputs;
  core::ExecuteTiming timing;
  core::Status status;
};

/// { outputs: {name, datatype, shape, data: Uint8Array}[], timing: {inputNs,
/// inferNs, outputNs} } from a successful execution. Each output's host
/// memory becomes its ArrayBuffer (no second copy) and is released when that
/// buffer is collected.
template <typename Output>
Napi::Object
ExecutionResult(Napi::Env env, std::vector<Output>* produced, const core::ExecuteTiming& t)
{
  Napi::Array outputs = Napi::Array::New(env, produced->size());
  for (size_t i = 0; i < produced->size(); i++) {
    auto* out = new Output(std::move((*produced)[i]));
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
        [](Napi::Env, void*, Output* o) {
          o->Release();
          delete o;
        },
        out);
    o.Set("data", Napi::Uint8Array::New(env, size, buffer, 0));
    outputs.Set(static_cast<uint32_t>(i), o);
  }
  Napi::Object result = Napi::Object::New(env);
  result.Set("outputs", outputs);
  Napi::Object timing = Napi::Object::New(env);
  timing.Set("inputNs", static_cast<double>(t.input_ns));
  timing.Set("inferNs", static_cast<double>(t.infer_ns));
  timing.Set("outputNs", static_cast<double>(t.output_ns));
  result.Set("timing", timing);
  return result;
}

/// A promise already rejected with `status` (an execute() on a disposed wrap).
inline Napi::Promise
RejectedPromise(Napi::Env env, const core::Status& status)
{
  Napi::Promise::Deferred deferred = Napi::Promise::Deferred::New(env);
  deferred.Reject(StatusToError(env, status).Value());
  return deferred.Promise();
}

/// A wrap's native thread and the ThreadSafeFunction that completes its
/// executions on the JS thread. While any execution is in flight the wrap
/// is referenced (the completion needs it) and the ThreadSafeFunction keeps
/// the process alive; an idle wrap does neither.
template <typename Baton>
class ExecutionThread {
 public:
  /// `wrap` is the ObjectWrap that owns this (Ref'd while executions run).
  ExecutionThread(Napi::Env env, const char* resource, Napi::Reference<Napi::Object>* wrap)
      : wrap_(wrap), thread_(new core::JobThread())
  {
    completion_ = CompletionFn::New(env, resource, 0, 1, this);
    completion_.Unref(env);
  }

  /// dispose() waits for the executions in flight (the JS instance drains
  /// them first). @throws UNAVAILABLE `message` while any is in flight.
  void ThrowIfBusy(Napi::Env env, const char* message) const
  {
    if (in_flight_ > 0) ThrowIfError(env, core::Status(core::StatusCode::UNAVAILABLE, message));
  }

  /// Runs `work(baton)` on the native thread (it fills baton->outputs,
  /// timing and returns the status), then resolves the baton's promise with
  /// ExecutionResult or rejects it with StatusToError on the JS thread.
  Napi::Promise Submit(
      Napi::Env env, std::unique_ptr<Baton> baton, std::function<core::Status(Baton*)> work)
  {
    Napi::Promise promise = baton->deferred.Promise();
    if (in_flight_++ == 0) {
      completion_.Ref(env);
      // The completion runs on this object: keep the wrap from being
      // collected until the last execution completed.
      wrap_->Ref();
    }
    Baton* raw = baton.release();
    CompletionFn completion = completion_;
    thread_->Submit([raw, work, completion]() mutable {
      raw->status = work(raw);
      completion.BlockingCall(raw);
    });
    return promise;
  }

  /// Joins the thread and releases the ThreadSafeFunction. Idempotent; the
  /// wrap calls it only with nothing in flight.
  void Stop()
  {
    if (stopped_) return;
    stopped_ = true;
    thread_->Stop();
    completion_.Release();
  }

 private:
  static void CompleteOnJs(Napi::Env env, Napi::Function, ExecutionThread* self, Baton* raw)
  {
    std::unique_ptr<Baton> baton(raw);
    if (env == nullptr) {
      // The environment is going away: nobody to answer.
      for (auto& out : baton->outputs) out.Release();
      return;
    }
    self->Completed(env);
    if (!baton->status.IsOk()) {
      for (auto& out : baton->outputs) out.Release();
      baton->deferred.Reject(StatusToError(env, baton->status).Value());
      return;
    }
    baton->deferred.Resolve(ExecutionResult(env, &baton->outputs, baton->timing));
  }

  using CompletionFn = Napi::TypedThreadSafeFunction<ExecutionThread, Baton, CompleteOnJs>;

  void Completed(Napi::Env env)
  {
    if (--in_flight_ > 0) return;
    if (!stopped_) completion_.Unref(env);
    wrap_->Unref();
  }

  Napi::Reference<Napi::Object>* wrap_;
  std::unique_ptr<core::JobThread> thread_;
  CompletionFn completion_;
  size_t in_flight_ = 0;
  bool stopped_ = false;
};

}}  // namespace infera::addon
