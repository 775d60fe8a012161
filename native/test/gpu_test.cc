// CUDA pieces. Without a usable device every GPU feature must fail with
// UNSUPPORTED and a reason; with one, the device pool is exercised from
// several threads. Exits 77 (skipped) after the CPU checks when there is no
// device, so CTest reports the GPU cases as skipped rather than passed.
#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "check.h"
#include "core/cuda_device.h"
#include "core/cuda_memory_pool.h"
#include "core/cuda_shm_region.h"
#include "core/tensorrt/trt_engine.h"

using namespace infera::core;

TEST(without_a_device_gpu_features_are_unsupported)
{
  if (QueryDevices().device_count > 0) return;
  CHECK(!QueryDevices().reason.empty());
  std::unique_ptr<CudaMemoryPool> pool;
  CHECK_STATUS(CudaMemoryPool::Create(0, 1024, &pool), StatusCode::UNSUPPORTED, "");
  uint8_t handle[CudaSharedMemoryRegion::kHandleSize] = {};
  std::shared_ptr<CudaSharedMemoryRegion> region;
  CHECK_STATUS(
      CudaSharedMemoryRegion::Open("c", handle, sizeof(handle), 0, 16, &region),
      StatusCode::UNSUPPORTED,
      "failed to register CUDA shared memory region: 'c', GPUs not supported: " +
          QueryDevices().reason);
}

TEST(tensorrt_is_unsupported_unless_compiled_in)
{
  if (GetBuildInfo().tensorrt) return;
  std::shared_ptr<tensorrt::Engine> engine;
  const uint8_t plan[4] = {};
  CHECK_STATUS(
      tensorrt::Engine::Load(plan, sizeof(plan), 0, &engine), StatusCode::UNSUPPORTED,
      "TensorRT is not available in this build");
}

TEST(device_pool_concurrent_round_trips)
{
  if (QueryDevices().device_count == 0) return;
  std::unique_ptr<CudaMemoryPool> pool;
  CHECK_OK(CudaMemoryPool::Create(0, 8 << 20, &pool));
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; t++) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; i++) {
        const size_t size = 1000 + (i * 7919 + t) % 300000;
        std::vector<uint8_t> in(size, static_cast<uint8_t>(t + i)), out(size);
        uint64_t ptr = 0;
        bool pooled = false;
        if (!pool->Allocate(size, &ptr, &pooled).IsOk()) { bad++; continue; }
        if (!pool->CopyFromHost(ptr, in.data(), size).IsOk()) bad++;
        if (!pool->CopyToHost(out.data(), ptr, size).IsOk()) bad++;
        if (std::memcmp(in.data(), out.data(), size) != 0) bad++;
        if (!pool->Free(ptr).IsOk()) bad++;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(bad.load() == 0);
  CHECK(pool->Stats().used_bytes == 0);
  CHECK(pool->Stats().fallback_bytes == 0);
}

int main()
{
  int rc = infera::test::RunTests();
  if (rc == 0 && QueryDevices().device_count == 0) {
    std::printf("no CUDA device (%s): GPU cases skipped\n", QueryDevices().reason.c_str());
    return infera::test::kSkip;
  }
  return rc;
}
