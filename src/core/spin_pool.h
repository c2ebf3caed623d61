// SpinPool: intra-op threads for the runtime, whose parallel sections are short (one
// network step, often tens of microseconds) and back to back. ThreadPool (thread_pool.h)
// wakes its workers through a condition variable per parallel_for, which costs more than a
// small step itself; here workers spin on an atomic job counter between steps and only
// sleep after a while without work (so an idle Context costs nothing), and tasks are claimed
// with one atomic add each.
//
// parallel_for(n, fn) calls fn(task, worker) once per task in [0, n), worker in [0, size()):
// the calling thread is worker 0. Worker w owns the w-th of size() contiguous, equal ranges
// of the tasks and runs them in order; a worker done with its own range takes what is left of
// the others'. So when two steps in a row cut their output the same way (rows of an image,
// ranges of elements), each worker mostly reads what it wrote itself, from its own cache: on
// the 2-core VM, 800 KB another core just wrote took 25 us to read against 9 us from its own
// L2. Which worker runs which task still varies (the stealing at the end); callers make
// results independent of it (disjoint outputs, per-worker scratch). One parallel_for at a time
// per pool (a Context is used by one thread at a time).
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
  std::atomic<uint64_t> generation_{0};
  // Worker w's range of the current job: [next_[w].value, end_[w]) is still unclaimed.
  struct alignas(64) Cursor {
    std::atomic<size_t> value{0};
  };
  std::vector<Cursor> next_;
  std::vector<size_t> end_;
  std::atomic<int> running_{0};     // workers (not the caller) still on the current job
  std::atomic<int> sleepers_{0};
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace qmap
