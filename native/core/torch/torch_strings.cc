#include "core/torch/torch_strings.h"

#include <cstdlib>
#include <cstring>

namespace infera { namespace core { namespace torchscript {

Status
ReadStrings(const InputTensor& in, const std::string& model, c10::List<std::string>* out)
{
  size_t count = 1;
  for (int64_t d : in.shape) count *= static_cast<size_t>(d < 0 ? 0 : d);
  size_t at = 0;
  while (at < in.byte_size) {
    uint32_t len = 0;
    if (in.byte_size - at < 4) break;
    std::memcpy(&len, in.data + at, 4);
    at += 4;
    if (in.byte_size - at < len) {
      return Status(
          StatusCode::INVALID_ARG,
          "model '" + model + "': input '" + in.key + "': a BYTES element runs past the end of the data");
    }
    out->push_back(std::string(reinterpret_cast<const char*>(in.data + at), len));
    at += len;
  }
  if (at != in.byte_size || out->size() != count) {
    return Status(
        StatusCode::INVALID_ARG,
        "model '" + model + "': input '" + in.key + "' needs " + std::to_string(count) + " BYTES elements, got " +
            std::to_string(out->size()));
  }
  return Status::Success();
}

Status
WriteStrings(const c10::List<c10::IValue>& list, const std::string& name, OutputTensor* out)
{
  size_t total = 0;
  for (const c10::IValue& v : list) total += 4 + v.toStringRef().size();
  out->name = name;
  out->datatype = "BYTES";
  out->shape = {static_cast<int64_t>(list.size())};
  out->byte_size = total;
  out->data = static_cast<uint8_t*>(std::malloc(total == 0 ? 1 : total));
  if (out->data == nullptr) return Status(StatusCode::INTERNAL, "PyTorch execution: out of host memory");
  size_t at = 0;
  for (const c10::IValue& v : list) {
    const std::string& s = v.toStringRef();
    const uint32_t len = static_cast<uint32_t>(s.size());
    std::memcpy(out->data + at, &len, 4);
    std::memcpy(out->data + at + 4, s.data(), s.size());
    at += 4 + s.size();
  }
  return Status::Success();
}

}}}  // namespace infera::core::torchscript
