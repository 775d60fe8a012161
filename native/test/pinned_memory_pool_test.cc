#include <atomic>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

#include "check.h"
#include "core/pinned_memory_pool.h"

using infera::core::PinnedMemoryPool;

TEST(allocates_from_the_pool_then_falls_back)
{
  std::unique_ptr<PinnedMemoryPool> pool;
  CHECK_OK(PinnedMemoryPool::Create(4096, &pool));
  void* a = nullptr;
  void* b = nullptr;
  bool pooled = false;
  CHECK_OK(pool->Allocate(4000, &a, &pooled));
  CHECK(pooled);
  CHECK(reinterpret_cast<uintptr_t>(a) % PinnedMemoryPool::kAlignment == 0);
  CHECK_OK(pool->Allocate(1000, &b, &pooled));
  CHECK(!pooled);
  auto s = pool->Stats();
  CHECK(s.total_bytes == 4096);
  CHECK(s.used_bytes == 4032);
  CHECK(s.fallback_allocations == 1 && s.fallback_bytes == 1000);
  CHECK(pool->Free(a));
  CHECK(pool->Free(b));
  CHECK(!pool->Free(b));
  s = pool->Stats();
  CHECK(s.used_bytes == 0 && s.fallback_bytes == 0);
  CHECK_OK(pool->Allocate(4096, &a, &pooled));
  CHECK(pooled);
  pool->Free(a);
}

TEST(zero_size_pool_always_falls_back)
{
  std::unique_ptr<PinnedMemoryPool> pool;
  CHECK_OK(PinnedMemoryPool::Create(0, &pool));
  void* a = nullptr;
  bool pooled = true;
  CHECK_OK(pool->Allocate(16, &a, &pooled));
  CHECK(!pooled);
  CHECK(pool->Stats().total_bytes == 0);
  CHECK(pool->Free(a));
}

// Eight threads allocate, fill with their own pattern, check nobody else
// wrote into their block, and free, so overlapping blocks or lost updates of
// the free list show up as corrupted patterns or a non-zero final usage.
TEST(concurrent_use_keeps_blocks_disjoint)
{
  std::unique_ptr<PinnedMemoryPool> pool;
  CHECK_OK(PinnedMemoryPool::Create(1 << 20, &pool));
  std::atomic<int> corrupt{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; t++) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::vector<std::pair<uint8_t*, size_t>> live;
      for (int i = 0; i < 4000; i++) {
        if (live.size() < 8 && (rng() % 3 != 0 || live.empty())) {
          size_t size = 1 + rng() % 40000;
          void* p = nullptr;
          bool pooled = false;
          if (!pool->Allocate(size, &p, &pooled).IsOk()) {
            corrupt++;
            continue;
          }
          std::memset(p, t + 1, size);
          live.emplace_back(static_cast<uint8_t*>(p), size);
        } else {
          auto block = live.back();
          live.pop_back();
          for (size_t k = 0; k < block.second; k += 97) {
            if (block.first[k] != t + 1) corrupt++;
          }
          if (!pool->Free(block.first)) corrupt++;
        }
      }
      for (auto& block : live) pool->Free(block.first);
    });
  }
  for (auto& th : threads) th.join();
  CHECK(corrupt.load() == 0);
  auto s = pool->Stats();
  CHECK(s.used_bytes == 0);
  CHECK(s.fallback_bytes == 0);
  CHECK(s.pooled_allocations > 0);
}

int main() { return infera::test::RunTests(); }
