#include "core/job_thread.h"

namespace infera { namespace core {

JobThread::JobThread() : thread_([this] { Run(); }) {}

JobThread::~JobThread() { Stop(); }

bool
JobThread::Submit(std::function<void()> job)
{
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return false;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void
JobThread::Stop()
{
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

size_t
JobThread::Pending() const
{
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.size() + running_;
}

void
JobThread::Run()
{
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      // Stop drains: queued jobs still run, so every caller gets its answer.
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
      running_ = 1;
    }
    job();
    std::lock_guard<std::mutex> lock(mu_);
    running_ = 0;
  }
}

}}  // namespace infera::core
