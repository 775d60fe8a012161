// A process-wide directory of mapped system shared-memory regions, by id.
//
// Why: the addon has one instance per JS thread (main thread, each worker
// thread), and a region is opened by the main thread's instance. A worker
// thread that runs a model reads its inputs from, and writes its outputs into,
// that very mapping: it looks the region up here by the id the main thread
// sends it, and keeps it mapped for as long as it holds the std::shared_ptr.
// No copy, and no second mapping (whose pages would fault in again).
#pragma once

#include <cstdint>
#include <memory>

#include "core/system_shm_region.h"

namespace infera { namespace core {

class RegionDirectory {
 public:
  /// Lists `region` under a new id (never 0, never reused in this process).
  /// The directory holds it weakly: listing does not keep it mapped.
  static uint64_t Add(const std::shared_ptr<SystemSharedMemoryRegion>& region);

  /// Unlists `id`; unknown ids are ignored. Holders of the region keep it.
  static void Remove(uint64_t id);

  /// The region listed as `id`, or nullptr once it was removed or its last
  /// holder released it. Thread-safe.
  static std::shared_ptr<SystemSharedMemoryRegion> Find(uint64_t id);

  /// How many ids are listed (tests).
  static size_t Size();
};

}}  // namespace infera::core
