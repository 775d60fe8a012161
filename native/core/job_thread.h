// A native thread with a FIFO of jobs: the thread a TensorRT model instance
// executes on (Triton runs each model instance on its own backend thread),
// so a blocking cudaStreamSynchronize never runs on a libuv or JS thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace infera { namespace core {

/// Jobs run one at a time, in submission order, on one thread owned by this
/// object. Thread-safe.
class JobThread {
 public:
  JobThread();
  /// Runs the jobs already queued, then joins the thread.
  ~JobThread();
  JobThread(const JobThread&) = delete;
  JobThread& operator=(const JobThread&) = delete;

  /// Queues `job`. Returns false (and drops the job) after Stop().
  bool Submit(std::function<void()> job);

  /// Refuses new jobs, lets the queued ones finish and joins. Idempotent;
  /// must not be called from a job.
  void Stop();

  /// Jobs queued or running.
  size_t Pending() const;

 private:
  void Run();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}}  // namespace infera::core
