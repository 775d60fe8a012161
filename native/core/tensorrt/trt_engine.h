// The TensorRT backend's native half (`platform: tensorrt_plan`, model.plan):
// a deserialized engine and one execution context per model instance, using
// TensorRT 10's named-tensor API (setInputShape / setTensorAddress /
// enqueueV3) on a CUDA stream of the context's own.
//
// This header compiles everywhere; the implementation needs ENABLE_TENSORRT
// (NvInfer.h and libnvinfer found at build time). Without it every entry
// point returns UNSUPPORTED "TensorRT is not available in this build".
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/host_output.h"
#include "core/pinned_memory_pool.h"
#include "core/status.h"

namespace infera { namespace core { namespace tensorrt {

/// The message every entry point returns when TensorRT is not compiled in.
constexpr const char* kNotAvailable = "TensorRT is not available in this build";

/// One I/O tensor of an engine, as the protocol names things.
struct TensorInfo {
  std::string name;
  /// Wire datatype ("FP32", "FP16", "BF16", "INT8", "UINT8", "INT32",
  /// "INT64", "BOOL").
  std::string datatype;
  /// Engine shape; -1 marks a dimension set per request.
  std::vector<int64_t> shape;
};

/// An input for one execution: host bytes, row-major, little-endian.
struct HostTensor {
  std::string name;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t byte_size = 0;
};

/// An output of one execution, in host memory from the pinned pool (or the
/// heap when none was given). Whoever holds it frees it with `Release`.
struct OutputTensor : HostOutputTensor {
  /// Returns `data` to where it came from. Idempotent.
  void Release();
  std::shared_ptr<PinnedMemoryPool> pool;
};

using core::ExecuteTiming;

class ExecutionContext;

/// A deserialized plan on one GPU. Thread-safe to share; each execution
/// context is used by one thread at a time.
class Engine : public std::enable_shared_from_this<Engine> {
 public:
  /// Deserializes `plan` on GPU `device`. UNSUPPORTED without TensorRT or a
  /// GPU; INVALID_ARG when TensorRT rejects the plan (its log message
  /// included: wrong TensorRT version, different GPU architecture, corrupt
  /// file); UNSUPPORTED for a tensor type with no wire datatype.
  static Status Load(
      const uint8_t* plan, size_t plan_size, int device,
      std::shared_ptr<Engine>* engine);

  ~Engine();

  const std::vector<TensorInfo>& Inputs() const { return inputs_; }
  const std::vector<TensorInfo>& Outputs() const { return outputs_; }
  int Device() const { return device_; }

  /// A new execution context with its own CUDA stream. `pool` (may be null)
  /// provides host memory for outputs.
  Status CreateContext(
      std::shared_ptr<PinnedMemoryPool> pool,
      std::unique_ptr<ExecutionContext>* context);

 private:
  friend class ExecutionContext;
  Engine() = default;

  struct Impl;
  std::unique_ptr<Impl> impl_;
  int device_ = 0;
  std::vector<TensorInfo> inputs_;
  std::vector<TensorInfo> outputs_;
};

/// One model instance's execution state. Execute blocks the calling thread
/// until the outputs are in host memory, so it runs on the instance's
/// JobThread, never on a JS thread.
class ExecutionContext {
 public:
  ~ExecutionContext();

  /// Copies `inputs` to the device, sets their shapes, enqueues the engine
  /// on the context's stream, copies the named outputs back and waits.
  /// INVALID_ARG for an unknown tensor name, a missing input, a shape the
  /// engine's profile refuses or a byte size that does not match the shape;
  /// INTERNAL for CUDA or TensorRT failures. On failure `outputs` may hold
  /// the outputs produced so far; the caller releases them either way.
  Status Execute(
      const std::vector<HostTensor>& inputs,
      const std::vector<std::string>& output_names,
      std::vector<OutputTensor>* outputs, ExecuteTiming* timing);

 private:
  friend class Engine;
  ExecutionContext() = default;

  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}}}  // namespace infera::core::tensorrt
