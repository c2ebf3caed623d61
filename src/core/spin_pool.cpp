// SpinPool (see spin_pool.h).
#include "core/spin_pool.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define QMAP_CPU_RELAX() _mm_pause()
#else
#define QMAP_CPU_RELAX() std::this_thread::yield()
#endif

namespace qmap {

namespace {
// Pause iterations a worker spins before it sleeps: about 100-300 µs on current x86 cores
// (a pause is 10-140 cycles), longer than the gap between two steps of a network run and
// short enough that an idle pool stops using the CPU at once for a person's eye.
constexpr int kSpinIterations = 4000;
}  // namespace

SpinPool::SpinPool(int threads) : next_(static_cast<size_t>(threads)), end_(static_cast<size_t>(threads)) {
  for (int w = 1; w < threads; ++w) workers_.emplace_back([this, w] { worker_loop(w); });
}

SpinPool::~SpinPool() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void SpinPool::run_tasks(int worker) {
  // Its own range first, then the others' in turn.
  const int workers = size();
  for (int k = 0; k < workers; ++k) {
    const int owner = (worker + k) % workers;
    std::atomic<size_t>& next = next_[static_cast<size_t>(owner)].value;
    const size_t end = end_[static_cast<size_t>(owner)];
    for (size_t i = next.fetch_add(1); i < end; i = next.fetch_add(1)) (*fn_)(i, worker);
  }
}

void SpinPool::parallel_for(size_t n, const std::function<void(size_t, int)>& fn) {
  if (workers_.empty() || n <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  fn_ = &fn;
  const size_t workers = next_.size();
  for (size_t w = 0; w < workers; ++w) {
    next_[w].value.store(n * w / workers, std::memory_order_relaxed);
    end_[w] = n * (w + 1) / workers;
  }
  running_.store(static_cast<int>(workers_.size()));
  generation_.fetch_add(1);  // publishes fn_ and the ranges (seq_cst)
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_all();
  }
  run_tasks(0);
  while (running_.load() != 0) QMAP_CPU_RELAX();
}

void SpinPool::worker_loop(int worker) {
  // The generation at construction (0), not the one when this thread first runs: a job may be
  // posted before the thread gets scheduled, and it must still take part.
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (generation_.load() == seen && spins < kSpinIterations) {
      QMAP_CPU_RELAX();
      ++spins;
    }
    if (generation_.load() == seen) {
      sleepers_.fetch_add(1);
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return generation_.load() != seen; });
      sleepers_.fetch_sub(1);
    }
    seen = generation_.load();
    if (stop_.load()) return;
    run_tasks(worker);
    running_.fetch_sub(1);
  }
}

}  // namespace qmap
