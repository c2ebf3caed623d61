// ThreadPool: a fixed set of worker threads for data-parallel loops in the toolchain
// (calibration runs one float engine per worker). parallel_for hands out indices
// dynamically, so which worker runs which index varies from run to run: callers must make
// their results independent of that (per-worker accumulators merged with exact,
// order-independent operations, or one result slot per index).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace qmap {

// The thread count used when a config says 0 / nothing: std::thread::hardware_concurrency,
// at least 1.
int default_thread_count();

class ThreadPool {
 public:
  // num_threads <= 0 means default_thread_count(). The calling thread takes part in every
  // parallel_for as worker 0, so num_threads - 1 threads are started.
  explicit ThreadPool(int num_threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return num_threads_; }

  // Calls fn(i, worker) once for every i in [0, n), worker in [0, size()); returns when all
  // calls have returned. A worker runs its calls one after another, so per-worker state
  // indexed by `worker` needs no lock. fn must not throw and must not call parallel_for on
  // the same pool; one parallel_for runs at a time per pool (call it from one thread).
  void parallel_for(size_t n, const std::function<void(size_t i, int worker)>& fn);

 private:
  void worker_loop(int worker);
  void run_chunk(int worker);

  int num_threads_ = 1;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  // The current job, guarded by mu_ except next_ (claimed under mu_ too: indices are coarse
  // work items such as whole samples, so the lock is not contended).
  const std::function<void(size_t, int)>* fn_ = nullptr;
  size_t n_ = 0;
  size_t next_ = 0;
  size_t finished_ = 0;
  unsigned generation_ = 0;
  bool stop_ = false;
};

}  // namespace qmap
