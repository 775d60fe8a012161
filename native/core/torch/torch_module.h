// The PyTorch backend's native half (`platform: pytorch_libtorch`, model.pt):
// a TorchScript module loaded with torch::jit::load and run with `forward`,
// one module per model instance, as Triton's PyTorch backend does without
// weight sharing.
//
// This header has no libtorch types, so that only torch_module.cc needs the
// libtorch headers. It is compiled only into the separate infera_torch module
// (native/addon/torch), which exists only where libtorch was found at build
// time; the main addon never links libtorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/host_output.h"
#include "core/status.h"

namespace infera { namespace core { namespace torchscript {

/// Execution settings of one module: Triton's PyTorch model parameters.
/// A tri-state is -1 (parameter absent: libtorch's setting is left alone),
/// 0 or 1.
struct ModuleOptions {
  /// Model name, for messages.
  std::string model_name;
  /// -1 for the CPU, else the CUDA device index (KIND_GPU).
  int device = -1;
  /// INFERENCE_MODE (default on): torch::InferenceMode around load and forward.
  bool inference_mode = true;
  /// !DISABLE_OPTIMIZED_EXECUTION: torch::jit::setGraphExecutorOptimize.
  bool optimized_execution = true;
  /// ENABLE_JIT_EXECUTOR, ENABLE_JIT_PROFILING, ENABLE_TENSOR_FUSER.
  int jit_executor = -1;
  int jit_profiling = -1;
  int tensor_fuser = -1;
  /// Intra-op threads of the executing thread (NUM_THREADS /
  /// INTRA_OP_THREAD_COUNT); 0 leaves libtorch's default.
  int num_threads = 0;
  /// Inter-op threads (NUM_INTEROP_THREADS / INTER_OP_THREAD_COUNT): process
  /// wide and settable once, as in Triton; 0 leaves the default.
  int num_interop_threads = 0;
};

/// One argument of `forward` after `self`.
struct ArgumentInfo {
  std::string name;
  /// TorchScript type as Python writes it, e.g. "Tensor", "Dict[str, Tensor]",
  /// "List[str]".
  std::string type;
};

/// One input for an execution: host bytes, row-major, little-endian.
struct InputTensor {
  /// The dictionary key when the module takes one Dict(str, Tensor), else
  /// ignored (inputs are positional).
  std::string key;
  /// Wire datatype: BOOL, UINT8, INT8, INT16, INT32, INT64, FP16, FP32, FP64.
  std::string datatype;
  std::vector<int64_t> shape;
  const uint8_t* data = nullptr;
  size_t byte_size = 0;
};

/// An output the caller wants: the config name, the index into the values
/// `forward` returned, and the config datatype it must have.
struct OutputRequest {
  std::string name;
  int64_t index = 0;
  std::string datatype;
};

/// An output of one execution, copied once into heap memory (malloc) that
/// whoever holds it frees with Release.
struct OutputTensor : HostOutputTensor {
  /// Frees `data`. Idempotent.
  void Release();
};

using core::ExecuteTiming;

/// A loaded TorchScript module. Execute is used by one thread at a time (the
/// instance's JobThread), never by a JS thread.
class Module {
 public:
  /// Loads `path` onto the options' device.
  /// INTERNAL "failed to load model '<name>': <why>" when libtorch refuses
  /// the file (not TorchScript, truncated, an operator this libtorch lacks);
  /// UNSUPPORTED for a CUDA device when this libtorch has no CUDA or fewer
  /// devices; INTERNAL when `forward` takes arguments that are neither
  /// Tensors/Lists nor one Dict(str, Tensor) (Triton's rules and messages).
  static Status Load(
      const std::string& path, const ModuleOptions& options,
      std::unique_ptr<Module>* module);

  ~Module();

  /// The arguments of `forward` after `self`.
  const std::vector<ArgumentInfo>& Arguments() const { return arguments_; }
  /// True when forward takes a single Dict(str, Tensor).
  bool DictInput() const { return dict_input_; }

  /// Runs forward over `inputs` (positional; keyed for a dict input) whose
  /// memory libtorch reads in place (torch::from_blob; copied once only when
  /// not aligned to its element size), then copies each
  /// requested output once into the heap. INVALID_ARG for a byte size that
  /// does not match the shape, an output index past what forward returned,
  /// a config datatype that differs from the tensor's, a scalar output or an
  /// output that is not a Tensor; INTERNAL "PyTorch execute failure: <why>"
  /// when forward throws. On failure `outputs` may hold some outputs; the
  /// caller releases them either way.
  Status Execute(
      const std::vector<InputTensor>& inputs,
      const std::vector<OutputRequest>& requested,
      std::vector<OutputTensor>* outputs, ExecuteTiming* timing);

 private:
  Module() = default;

  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<ArgumentInfo> arguments_;
  bool dict_input_ = false;
};

/// libtorch's version ("1.13.1") and whether it has CUDA.
struct TorchInfo {
  std::string version;
  bool cuda = false;
  int cuda_device_count = 0;
};
TorchInfo GetTorchInfo();

}}}  // namespace infera::core::torchscript
