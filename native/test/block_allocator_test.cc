#include "check.h"
#include "core/block_allocator.h"

using infera::core::BlockAllocator;

TEST(allocates_first_fit_and_aligned)
{
  BlockAllocator a(1024, 64);
  size_t x = 1, y = 1, z = 1;
  CHECK(a.Allocate(10, &x) && x == 0);
  CHECK(a.Allocate(100, &y) && y == 64);
  CHECK(a.Allocate(0, &z) && z == 192);
  CHECK(a.UsedBytes() == 64 + 128 + 64);
  CHECK(a.AllocationCount() == 3);
}

TEST(refuses_what_does_not_fit)
{
  BlockAllocator a(256, 64);
  size_t x = 0;
  CHECK(!a.Allocate(257, &x));
  CHECK(a.Allocate(256, &x) && x == 0);
  CHECK(!a.Allocate(1, &x));
  CHECK(!a.Allocate(SIZE_MAX, &x));
}

TEST(reuses_freed_blocks_first_fit)
{
  BlockAllocator a(1024, 64);
  size_t p0, p1, p2, q;
  a.Allocate(64, &p0);
  a.Allocate(64, &p1);
  a.Allocate(64, &p2);
  CHECK(a.Free(p1));
  CHECK(a.Allocate(64, &q) && q == p1);
}

TEST(coalesces_neighbours)
{
  BlockAllocator a(64 * 8, 64);
  size_t p[8];
  for (size_t& x : p) CHECK(a.Allocate(64, &x));
  CHECK(a.FreeBlockCount() == 0);
  CHECK(a.Free(p[1]));
  CHECK(a.Free(p[3]));
  CHECK(a.FreeBlockCount() == 2);
  CHECK(a.Free(p[2]));  // joins 1..3
  CHECK(a.FreeBlockCount() == 1);
  CHECK(a.LargestFreeBlock() == 3 * 64);
  size_t big;
  CHECK(a.Allocate(3 * 64, &big) && big == p[1]);
  for (size_t i : {0, 1, 4, 5, 6, 7}) CHECK(a.Free(i == 1 ? big : p[i]));
  CHECK(a.FreeBlockCount() == 1);
  CHECK(a.LargestFreeBlock() == 8 * 64);
  CHECK(a.UsedBytes() == 0);
}

TEST(rejects_double_and_foreign_free)
{
  BlockAllocator a(1024, 64);
  size_t p;
  a.Allocate(64, &p);
  CHECK(a.Free(p));
  CHECK(!a.Free(p));
  CHECK(!a.Free(7));
  CHECK(a.UsedBytes() == 0);
}

TEST(zero_capacity_allocates_nothing)
{
  BlockAllocator a(0, 64);
  size_t p;
  CHECK(!a.Allocate(1, &p));
  CHECK(a.Capacity() == 0);
}

int main() { return infera::test::RunTests(); }
