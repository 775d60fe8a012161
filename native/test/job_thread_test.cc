#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "check.h"
#include "core/job_thread.h"

using infera::core::JobThread;

TEST(runs_jobs_in_order_on_one_thread)
{
  JobThread jobs;
  std::mutex mu;
  std::vector<int> order;
  std::thread::id first{};
  std::atomic<bool> same{true};
  for (int i = 0; i < 100; i++) {
    jobs.Submit([&, i] {
      if (i == 0) first = std::this_thread::get_id();
      else if (std::this_thread::get_id() != first) same = false;
      std::lock_guard<std::mutex> lock(mu);
      order.push_back(i);
    });
  }
  jobs.Stop();
  CHECK(order.size() == 100);
  for (int i = 0; i < 100 && i < static_cast<int>(order.size()); i++) CHECK(order[i] == i);
  CHECK(same.load());
  CHECK(first != std::this_thread::get_id());
}

TEST(stop_drains_then_refuses)
{
  JobThread jobs;
  std::atomic<int> done{0};
  for (int i = 0; i < 10; i++) {
    jobs.Submit([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      done++;
    });
  }
  jobs.Stop();
  CHECK(done.load() == 10);
  CHECK(!jobs.Submit([] {}));
  CHECK(jobs.Pending() == 0);
  jobs.Stop();  // idempotent
}

int main() { return infera::test::RunTests(); }
