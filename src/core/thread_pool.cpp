// ThreadPool implementation: one mutex, a generation counter that wakes the workers for a
// new parallel_for, and a shared next-index counter from which every worker claims work.
#include "core/thread_pool.h"

#include <algorithm>

namespace qmap {

int default_thread_count() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
}

ThreadPool::ThreadPool(int num_threads)
    : num_threads_(num_threads > 0 ? num_threads : default_thread_count()) {
  threads_.reserve(static_cast<size_t>(num_threads_ - 1));
  for (int w = 1; w < num_threads_; ++w) threads_.emplace_back([this, w] { worker_loop(w); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::run_chunk(int worker) {
  for (;;) {
    size_t i;
    const std::function<void(size_t, int)>* fn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (next_ >= n_) return;
      i = next_++;
      fn = fn_;
    }
    (*fn)(i, worker);
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (++finished_ == n_) done_cv_.notify_all();
    }
  }
}

void ThreadPool::worker_loop(int worker) {
  unsigned seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
    }
    run_chunk(worker);
  }
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t, int)>& fn) {
  if (n == 0) return;
  if (num_threads_ == 1) {
    for (size_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    fn_ = &fn;
    n_ = n;
    next_ = 0;
    finished_ = 0;
    ++generation_;
  }
  start_cv_.notify_all();
  run_chunk(0);
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return finished_ == n_; });
  // A worker that wakes late sees next_ == n_ and claims nothing, so fn_ may be cleared.
  fn_ = nullptr;
}

}  // namespace qmap
