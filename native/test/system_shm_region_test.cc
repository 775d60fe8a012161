#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>
#include <string>

#include "check.h"
#include "core/region_bounds.h"
#include "core/system_shm_region.h"

using infera::core::CheckRegionRange;
using infera::core::StatusCode;
using infera::core::SystemSharedMemoryRegion;
using Region = std::shared_ptr<SystemSharedMemoryRegion>;

namespace {

std::string
Key(const char* tag)
{
  return "/infera_core_test_" + std::to_string(getpid()) + "_" + tag;
}

}  // namespace

TEST(client_and_server_mappings_share_bytes)
{
  const std::string key = Key("share");
  Region client;
  CHECK_OK(SystemSharedMemoryRegion::Create(key, 64 * 1024, &client));
  std::memset(client->Data(), 0, 64 * 1024);
  client->Data()[5000] = 42;
  Region server;
  // An offset that is not a page multiple works (Triton would fail mmap).
  CHECK_OK(SystemSharedMemoryRegion::Open("r", key, 4999, 100, &server));
  CHECK(server->ByteSize() == 100 && server->Offset() == 4999);
  CHECK(server->Data()[1] == 42);
  server->Data()[2] = 7;
  CHECK(client->Data()[5001] == 7);
  CHECK_OK(SystemSharedMemoryRegion::Unlink(key));
}

TEST(register_errors_have_tritons_messages)
{
  const std::string key = Key("errors");
  Region client, server;
  CHECK_OK(SystemSharedMemoryRegion::Create(key, 4096, &client));
  CHECK_STATUS(
      SystemSharedMemoryRegion::Open("r", Key("missing"), 0, 16, &server),
      StatusCode::INTERNAL,
      "Unable to open shared memory region: '" + Key("missing") + "'");
  CHECK_STATUS(
      SystemSharedMemoryRegion::Open("r", key, 4000, 97, &server),
      StatusCode::INVALID_ARG, "failed to register shared memory region 'r': invalid args");
  CHECK_STATUS(
      SystemSharedMemoryRegion::Open("r", key, SIZE_MAX, 2, &server),
      StatusCode::INVALID_ARG, "failed to register shared memory region 'r': invalid args");
  CHECK_STATUS(
      SystemSharedMemoryRegion::Open("r", key, 0, 0, &server), StatusCode::INVALID_ARG,
      "failed to register shared memory region 'r': byte_size must be greater than 0");
  CHECK(server == nullptr);
  CHECK_OK(SystemSharedMemoryRegion::Open("r", key, 0, 4096, &server));
  CHECK_STATUS(SystemSharedMemoryRegion::Create(key, 0, &server), StatusCode::INVALID_ARG, "");
  CHECK_OK(SystemSharedMemoryRegion::Unlink(key));
  CHECK_STATUS(SystemSharedMemoryRegion::Unlink(key), StatusCode::NOT_FOUND, "");
}

TEST(slices_are_bounds_checked_like_triton)
{
  const std::string key = Key("slice");
  Region client, server;
  CHECK_OK(SystemSharedMemoryRegion::Create(key, 4096, &client));
  CHECK_OK(SystemSharedMemoryRegion::Open("reg", key, 1024, 1024, &server));
  uint8_t* p = nullptr;
  CHECK_OK(server->Slice(0, 1024, &p));
  CHECK(p == server->Data());
  CHECK_OK(server->Slice(1000, 24, &p));
  CHECK_OK(server->Slice(1023, 0, &p));
  CHECK_STATUS(server->Slice(1024, 0, &p), StatusCode::INVALID_ARG,
               "Invalid offset for shared memory region: 'reg'");
  CHECK_STATUS(server->Slice(1000, 25, &p), StatusCode::INVALID_ARG,
               "Invalid offset + byte size for shared memory region: 'reg'");
  CHECK_STATUS(server->Slice(1, SIZE_MAX, &p), StatusCode::INVALID_ARG,
               "Integer overflow detected: byte_size (" + std::to_string(SIZE_MAX) +
                   ") + offset (1) exceeds maximum value (" + std::to_string(SIZE_MAX) +
                   ") for region 'reg'");
  CHECK_STATUS(server->Slice(SIZE_MAX, 1, &p), StatusCode::INVALID_ARG,
               "Invalid offset for shared memory region: 'reg'");
  SystemSharedMemoryRegion::Unlink(key);
}

// A fuzzed set of (offset, size) pairs: every accepted slice lies inside the
// mapping, and touching all of it must not fault.
TEST(fuzzed_slices_never_leave_the_mapping)
{
  const std::string key = Key("fuzz");
  Region client, server;
  CHECK_OK(SystemSharedMemoryRegion::Create(key, 8192, &client));
  CHECK_OK(SystemSharedMemoryRegion::Open("f", key, 100, 5000, &server));
  uint64_t state = 12345;
  auto next = [&state] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
  };
  const size_t specials[] = {0, 1, 4999, 5000, 5001, SIZE_MAX, SIZE_MAX - 1, SIZE_MAX / 2};
  int accepted = 0;
  for (int i = 0; i < 20000; i++) {
    size_t offset = (i % 4 == 0) ? specials[next() % 8] : next() % 6000;
    size_t size = (i % 3 == 0) ? specials[next() % 8] : next() % 6000;
    uint8_t* p = nullptr;
    infera::core::Status s = server->Slice(offset, size, &p);
    if (s.IsOk()) {
      accepted++;
      CHECK(offset < 5000 && offset + size <= 5000);
      volatile uint8_t sum = 0;
      for (size_t k = 0; k < size; k += 512) sum += p[k];
      if (size > 0) sum += p[size - 1];
      (void)sum;
    } else {
      CHECK(s.Code() == StatusCode::INVALID_ARG);
    }
  }
  CHECK(accepted > 0);
  SystemSharedMemoryRegion::Unlink(key);
}

// The mapping lives as long as any reference: unlinking the object or
// dropping the registry's reference leaves an in-flight user's view valid.
TEST(mapping_lives_while_referenced)
{
  const std::string key = Key("life");
  Region client, server;
  CHECK_OK(SystemSharedMemoryRegion::Create(key, 4096, &client));
  client->Data()[10] = 99;
  CHECK_OK(SystemSharedMemoryRegion::Open("l", key, 0, 4096, &server));
  Region in_flight = server;  // a request holding the region
  server.reset();             // unregistered
  CHECK_OK(SystemSharedMemoryRegion::Unlink(key));
  CHECK(in_flight->Data()[10] == 99);
  in_flight->Data()[11] = 5;
  CHECK(client->Data()[11] == 5);
  CHECK(in_flight.use_count() == 1);
}

// The client may shrink its object after registration; touching a page past
// its end would raise SIGBUS, so every slice checks the object's size first.
TEST(slices_check_the_objects_current_size)
{
  const std::string key = Key("shrink");
  Region client, server;
  CHECK_OK(SystemSharedMemoryRegion::Create(key, 1 << 20, &client));
  CHECK_OK(SystemSharedMemoryRegion::Open("s", key, 4096, 65536, &server));
  uint8_t* p = nullptr;
  CHECK_OK(server->Slice(32768, 64, &p));
  const int fd = shm_open(key.c_str(), O_RDWR, 0);
  CHECK(fd != -1);
  CHECK(ftruncate(fd, 4096 + 32768) == 0);
  CHECK_OK(server->Slice(0, 32768, &p));
  CHECK_STATUS(
      server->Slice(32768, 64, &p), StatusCode::INVALID_ARG,
      "shared memory region 's' is no longer usable: its object '" + key +
          "' is now 36864 bytes, but the request uses bytes up to 36928 of it");
  CHECK_STATUS(server->CheckBacked(32767, 2), StatusCode::INVALID_ARG, "");
  CHECK(ftruncate(fd, 0) == 0);
  CHECK_STATUS(server->Slice(0, 1, &p), StatusCode::INVALID_ARG, "");
  // Grown back, the same mapping is usable again.
  CHECK(ftruncate(fd, 1 << 20) == 0);
  CHECK_OK(server->Slice(32768, 64, &p));
  close(fd);
  CHECK_OK(SystemSharedMemoryRegion::Unlink(key));
}

// A shrink that lands after the check, during an access: the guard turns the
// SIGBUS into a zero page and the region refuses every later use.
TEST(a_fault_in_a_guarded_region_is_survived_and_remembered)
{
  const std::string key = Key("fault");
  Region client, server;
  CHECK_OK(SystemSharedMemoryRegion::Create(key, 1 << 20, &client));
  CHECK_OK(SystemSharedMemoryRegion::Open("g", key, 0, 1 << 20, &server));
  uint8_t* p = nullptr;
  CHECK_OK(server->Slice(524288, 64, &p));
  const int fd = shm_open(key.c_str(), O_RDWR, 0);
  CHECK(fd != -1);
  CHECK(ftruncate(fd, 0) == 0);
  // Without the guard this read kills the test with SIGBUS.
  volatile uint8_t* bytes = p;
  CHECK(bytes[0] == 0);
  bytes[1] = 9;
  CHECK(bytes[1] == 9);
  CHECK(ftruncate(fd, 1 << 20) == 0);
  close(fd);
  CHECK_STATUS(
      server->Slice(0, 1, &p), StatusCode::INVALID_ARG,
      "shared memory region 'g' is no longer usable: its object '" + key +
          "' shrank while the region was in use; unregister and register it again");
  CHECK_OK(SystemSharedMemoryRegion::Unlink(key));
}

TEST(range_rule_alone)
{
  CHECK_OK(CheckRegionRange("x", 10, 0, 10));
  CHECK_OK(CheckRegionRange("x", 10, 9, 1));
  CHECK_STATUS(CheckRegionRange("x", 0, 0, 0), StatusCode::INVALID_ARG,
               "Invalid offset for shared memory region: 'x'");
  CHECK_STATUS(CheckRegionRange("x", 10, 9, 2), StatusCode::INVALID_ARG,
               "Invalid offset + byte size for shared memory region: 'x'");
}

int main() { return infera::test::RunTests(); }
