// The bounds rule of a registered shared-memory region, shared by system and
// CUDA regions (Triton server SharedMemoryManager::GetMemoryInfo).
#pragma once

#include <cstddef>
#include <string>

#include "core/status.h"

namespace infera { namespace core {

/// OK when [offset, offset + byte_size) lies inside a region of
/// `region_size` bytes. Otherwise INVALID_ARG with Triton's message, checked
/// in Triton's order:
///   offset >= region_size      "Invalid offset for shared memory region: '<name>'"
///   offset + byte_size wraps   "Integer overflow detected: byte_size (<b>) + offset (<o>) exceeds ..."
///   offset + byte_size > size  "Invalid offset + byte size for shared memory region: '<name>'"
/// Note that, as in Triton, an offset equal to the size is refused even for
/// zero bytes.
Status CheckRegionRange(
    const std::string& name, size_t region_size, size_t offset, size_t byte_size);

}}  // namespace infera::core
