// TYPE_STRING tensors of Triton's PyTorch backend: a BYTES tensor (each
// element a 4-byte little-endian length, then its bytes) is the List[str] a
// TorchScript forward takes, and a List[str] it returns is a 1-D BYTES output.
#pragma once

#include <torch/script.h>

#include <string>

#include "core/status.h"
#include "core/torch/torch_module.h"

namespace infera { namespace core { namespace torchscript {

/// INVALID_ARG naming the model and input when an element runs past the
/// data or the element count differs from the shape's.
Status ReadStrings(const InputTensor& in, const std::string& model, c10::List<std::string>* out);

/// Fills `out` (heap memory, freed by OutputTensor::Release), shape [n].
Status WriteStrings(const c10::List<c10::IValue>& list, const std::string& name, OutputTensor* out);

}}}  // namespace infera::core::torchscript
