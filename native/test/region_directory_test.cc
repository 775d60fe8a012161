#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "check.h"
#include "core/region_directory.h"
#include "core/system_shm_region.h"

using infera::core::RegionDirectory;
using infera::core::SystemSharedMemoryRegion;
using Region = std::shared_ptr<SystemSharedMemoryRegion>;

namespace {

std::string
Key(const char* tag)
{
  return "/infera_directory_test_" + std::to_string(getpid()) + "_" + tag;
}

}  // namespace

TEST(ids_find_the_region_until_removed)
{
  Region r;
  CHECK_OK(SystemSharedMemoryRegion::Create(Key("find"), 4096, &r));
  const uint64_t a = RegionDirectory::Add(r);
  const uint64_t b = RegionDirectory::Add(r);
  CHECK(a != 0 && b != 0 && a != b);
  CHECK(RegionDirectory::Find(a) == r);
  CHECK(RegionDirectory::Find(b) == r);
  RegionDirectory::Remove(a);
  CHECK(RegionDirectory::Find(a) == nullptr);
  CHECK(RegionDirectory::Find(b) == r);
  RegionDirectory::Remove(b);
  RegionDirectory::Remove(b);  // unknown ids are ignored
  CHECK(RegionDirectory::Find(0) == nullptr);
  CHECK(RegionDirectory::Size() == 0);
  CHECK_OK(SystemSharedMemoryRegion::Unlink(Key("find")));
}

// The directory holds regions weakly: it never keeps a mapping alive, and a
// holder found through it keeps the mapping after its listing is removed.
TEST(listing_is_weak_and_finding_holds)
{
  Region r;
  CHECK_OK(SystemSharedMemoryRegion::Create(Key("weak"), 4096, &r));
  r->Data()[7] = 42;
  const uint64_t id = RegionDirectory::Add(r);
  Region held = RegionDirectory::Find(id);
  RegionDirectory::Remove(id);
  r.reset();
  CHECK(held != nullptr && held->Data()[7] == 42);
  CHECK(held.use_count() == 1);

  const uint64_t gone = RegionDirectory::Add(held);
  held.reset();  // unmapped: the listing alone does not keep it
  CHECK(RegionDirectory::Find(gone) == nullptr);
  RegionDirectory::Remove(gone);
  CHECK_OK(SystemSharedMemoryRegion::Unlink(Key("weak")));
}

TEST(concurrent_lookups_and_removal)
{
  Region r;
  CHECK_OK(SystemSharedMemoryRegion::Create(Key("threads"), 4096, &r));
  const uint64_t id = RegionDirectory::Add(r);
  std::atomic<bool> stop{false};
  std::atomic<int> found{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; i++) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        Region h = RegionDirectory::Find(id);
        if (h != nullptr) {
          // A holder may always read the mapping.
          if (h->Data()[0] == 0) found++;
        }
      }
    });
  }
  while (found.load() < 1000) std::this_thread::yield();
  RegionDirectory::Remove(id);
  r.reset();
  stop = true;
  for (std::thread& t : readers) t.join();
  CHECK(RegionDirectory::Find(id) == nullptr);
  CHECK_OK(SystemSharedMemoryRegion::Unlink(Key("threads")));
}

int main() { return infera::test::RunTests(); }
