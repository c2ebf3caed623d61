// SpinPool: intra-op threads for the runtime, whose parallel sections are short (one
// network step, often tens of microseconds) and back to back. ThreadPool (thread_pool.h)
// wakes its workers through a condition variable per parallel_for, which costs more than a
// small step itself; here workers spin on an atomic job counter between steps and only
// sleep after a while without work (so an idle Context costs nothing), and tasks are claimed
// with one atomic add each.
//
// parallel_for(n, fn) calls fn(task, worker) once per task in [0, n), worker in [0, size()):
// the calling thread is worker 0. Which worker runs which task varies from run to run;
// callers make results independent of it (disjoint outputs, per-worker scratch). One
// parallel_for at a time per pool (a Context is used by one thread at a time).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace qmap {

class SpinPool {
 public:
  // threads >= 1: threads - 1 workers are started.
  explicit SpinPool(int threads);
  ~SpinPool();
  SpinPool(const SpinPool&) = delete;
  SpinPool& operator=(const SpinPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }
  void parallel_for(size_t n, const std::function<void(size_t task, int worker)>& fn);

 private:
  void worker_loop(int worker);
  void run_tasks(int worker);

  std::vector<std::thread> workers_;
  // The current job: written by parallel_for before it bumps generation_.
  const std::function<void(size_t, int)>* fn_ = nullptr;
  size_t n_ = 0;
  std::atomic<uint64_t> generation_{0};
  std::atomic<size_t> next_{0};     // the next unclaimed task
  std::atomic<int> running_{0};     // workers (not the caller) still on the current job
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace qmap
