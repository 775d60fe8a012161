// What one execution of a backend's native half hands back: output tensors
// in host memory and where the time went. Shared by the TensorRT context and
// the TorchScript module so that the addon turns both into the same JS
// result (addon/engine_execution.h), and the clock both time with. Header only: the TorchScript module
// compiles its own sources and does not link infera_core.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace infera { namespace core {

/// Where the time of one execution went, in nanoseconds (Triton's
/// compute_input / compute_infer / compute_output).
struct ExecuteTiming {
  uint64_t input_ns = 0;
  uint64_t infer_ns = 0;
  uint64_t output_ns = 0;
};

/// The steady clock in nanoseconds: the stamps ExecuteTiming is the
/// difference of.
inline uint64_t
NowNs()
{
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

/// An output of one execution in host memory. Each backend derives its
/// OutputTensor from this and adds `Release()`, which frees `data` where that
/// backend allocated it (idempotent); whoever holds the tensor calls it.
struct HostOutputTensor {
  std::string name;
  /// Wire datatype, e.g. "FP32".
  std::string datatype;
  std::vector<int64_t> shape;
  uint8_t* data = nullptr;
  size_t byte_size = 0;
};

}}  // namespace infera::core
