#include "core/region_directory.h"

#include <mutex>
#include <unordered_map>

namespace infera { namespace core {

namespace {

struct Directory {
  std::mutex mu;
  uint64_t next_id = 1;
  std::unordered_map<uint64_t, std::weak_ptr<SystemSharedMemoryRegion>> regions;
};

// Deliberately leaked: worker threads may still look up or remove ids while
// the process exits, after static destructors have run.
Directory&
TheDirectory()
{
  static Directory* directory = new Directory();
  return *directory;
}

}  // namespace

uint64_t
RegionDirectory::Add(const std::shared_ptr<SystemSharedMemoryRegion>& region)
{
  Directory& d = TheDirectory();
  std::lock_guard<std::mutex> lock(d.mu);
  const uint64_t id = d.next_id++;
  d.regions.emplace(id, region);
  return id;
}

void
RegionDirectory::Remove(uint64_t id)
{
  Directory& d = TheDirectory();
  std::lock_guard<std::mutex> lock(d.mu);
  d.regions.erase(id);
}

std::shared_ptr<SystemSharedMemoryRegion>
RegionDirectory::Find(uint64_t id)
{
  Directory& d = TheDirectory();
  std::lock_guard<std::mutex> lock(d.mu);
  auto it = d.regions.find(id);
  return it == d.regions.end() ? nullptr : it->second.lock();
}

size_t
RegionDirectory::Size()
{
  Directory& d = TheDirectory();
  std::lock_guard<std::mutex> lock(d.mu);
  return d.regions.size();
}

}}  // namespace infera::core
