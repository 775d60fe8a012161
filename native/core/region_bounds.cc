#include "core/region_bounds.h"

#include <cstdint>

namespace infera { namespace core {

Status
CheckRegionRange(
    const std::string& name, size_t region_size, size_t offset, size_t byte_size)
{
  if (offset >= region_size) {
    return Status(
        StatusCode::INVALID_ARG,
        "Invalid offset for shared memory region: '" + name + "'");
  }
  if (byte_size > SIZE_MAX - offset) {
    return Status(
        StatusCode::INVALID_ARG,
        "Integer overflow detected: byte_size (" + std::to_string(byte_size) +
            ") + offset (" + std::to_string(offset) +
            ") exceeds maximum value (" + std::to_string(SIZE_MAX) +
            ") for region '" + name + "'");
  }
  if (offset + byte_size > region_size) {
    return Status(
        StatusCode::INVALID_ARG,
        "Invalid offset + byte size for shared memory region: '" + name + "'");
  }
  return Status::Success();
}

}}  // namespace infera::core
