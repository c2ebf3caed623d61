// SpinPool (see spin_pool.h).
#include "core/spin_pool.h"

#include "core/status.h"

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

// The cursor's layout: the low 40 bits the next task, the high 24 bits the job's generation.
constexpr int kTaskBits = 40;
constexpr uint64_t kTaskMask = (uint64_t{1} << kTaskBits) - 1;
uint64_t tag_of(uint64_t generation) { return generation << kTaskBits; }  // wraps: only equality matters

}  // namespace

SpinPool::SpinPool(int threads) : cursor_(static_cast<size_t>(threads)), done_(static_cast<size_t>(threads)) {
  for (int w = 1; w < threads; ++w) workers_.emplace_back([this, w] { worker_loop(w); });
}

SpinPool::~SpinPool() {
  stop_.store(true);
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_.generation.fetch_add(1);
  }
  cv_.notify_all();
  for (auto& t : workers_) t.join();
}

size_t SpinPool::claim(int owner, uint64_t generation) {
  const size_t workers = cursor_.size(), n = job_.n, w = static_cast<size_t>(owner);
  const uint64_t begin = n * w / workers, end = n * (w + 1) / workers, tag = tag_of(generation);
  std::atomic<uint64_t>& c = cursor_[w].value;
  uint64_t v = c.load(std::memory_order_relaxed);
  for (;;) {
    // An earlier job's tag: this job's range has not been started; whoever comes first (the
    // owner, or a thief) resets it. Every job's owner comes, so a tag is never more than one
    // job old and the 24-bit tags cannot wrap around onto a stale cursor.
    if ((v & ~kTaskMask) != tag) {
      if (c.compare_exchange_weak(v, tag | begin, std::memory_order_relaxed)) v = tag | begin;
      continue;
    }
    const uint64_t i = v & kTaskMask;
    if (i >= end) return n;
    if (c.compare_exchange_weak(v, v + 1, std::memory_order_relaxed)) return static_cast<size_t>(i);
  }
}

void SpinPool::run_tasks(int worker, uint64_t generation) {
  // Its own range first, then the others' in turn.
  const int workers = size();
  const size_t n = job_.n;
  for (int k = 0; k < workers; ++k) {
    const int owner = (worker + k) % workers;
    for (size_t i = claim(owner, generation); i < n; i = claim(owner, generation)) (*job_.fn)(i, worker);
  }
}

void SpinPool::parallel_for(size_t n, const std::function<void(size_t, int)>& fn) {
  if (workers_.empty() || n <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i, 0);
    return;
  }
  QMAP_CHECK(n <= kTaskMask, "SpinPool::parallel_for: {} tasks, more than the cursor holds", n);
  job_.fn = &fn;
  job_.n = n;
  const uint64_t generation = job_.generation.fetch_add(1) + 1;  // publishes fn and n (seq_cst)
  if (sleepers_.load() > 0) {
    std::lock_guard<std::mutex> lock(mu_);
    cv_.notify_all();
  }
  run_tasks(0, generation);
  for (size_t w = 1; w < done_.size(); ++w)
    while (done_[w].value.load(std::memory_order_acquire) != generation) QMAP_CPU_RELAX();
}

void SpinPool::worker_loop(int worker) {
  // The generation at construction (0), not the one when this thread first runs: a job may be
  // posted before the thread gets scheduled, and it must still take part.
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (job_.generation.load(std::memory_order_acquire) == seen && spins < kSpinIterations) {
      QMAP_CPU_RELAX();
      ++spins;
    }
    if (job_.generation.load() == seen) {
      sleepers_.fetch_add(1);
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return job_.generation.load() != seen; });
      sleepers_.fetch_sub(1);
    }
    seen = job_.generation.load(std::memory_order_acquire);
    if (stop_.load()) return;
    run_tasks(worker, seen);
    done_[static_cast<size_t>(worker)].value.store(seen, std::memory_order_release);
  }
}

}  // namespace qmap
