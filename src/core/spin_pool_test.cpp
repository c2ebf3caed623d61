// SpinPool: every task runs exactly once per parallel_for, on a worker index in range, over
// many back-to-back jobs of every size (the runtime's pattern), after the workers have gone
// to sleep, and with one thread (no workers); each worker starts on its own contiguous range.
#include "core/spin_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace qmap {
namespace {

void check_job(SpinPool& pool, size_t n) {
  std::vector<std::atomic<int>> hits(n);
  std::atomic<int> bad_worker{0};
  pool.parallel_for(n, [&](size_t i, int w) {
    hits[i].fetch_add(1);
    if (w < 0 || w >= pool.size()) bad_worker.fetch_add(1);
  });
  for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "task " << i << " of " << n;
  EXPECT_EQ(bad_worker.load(), 0);
}

TEST(SpinPool, EveryTaskOnceOverManyJobs) {
  for (int threads : {1, 2, 3, 5}) {
    SpinPool pool(threads);
    EXPECT_EQ(pool.size(), threads);
    for (int job = 0; job < 2000; ++job) check_job(pool, static_cast<size_t>(job % 37));
  }
}

TEST(SpinPool, WakesSleepingWorkers) {
  SpinPool pool(3);
  check_job(pool, 100);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));  // past the spin: workers sleep
  std::atomic<int> workers_seen{0};
  std::vector<std::atomic<int>> by_worker(3);
  // Long tasks so the woken workers take some of them; correctness does not depend on it.
  pool.parallel_for(64, [&](size_t, int w) {
    by_worker[static_cast<size_t>(w)].fetch_add(1);
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  });
  int total = 0;
  for (auto& c : by_worker) total += c.load(), workers_seen += c.load() > 0;
  EXPECT_EQ(total, 64);
  EXPECT_GE(workers_seen.load(), 2) << "sleeping workers were not woken";
  check_job(pool, 1000);
}

// Worker w owns tasks [n w / size, n (w + 1) / size) and starts there: every task waits until
// each worker has started one, so no worker can finish its range and steal before the others start.
TEST(SpinPool, EachWorkerStartsOnItsOwnRange) {
  for (int threads : {2, 3}) {
    SpinPool pool(threads);
    const size_t n = 2 * static_cast<size_t>(threads);
    std::vector<std::atomic<long>> first(static_cast<size_t>(threads));
    for (auto& f : first) f.store(-1);
    std::atomic<int> started{0};
    pool.parallel_for(n, [&](size_t task, int w) {
      long none = -1;
      if (first[static_cast<size_t>(w)].compare_exchange_strong(none, static_cast<long>(task))) ++started;
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
      while (started.load() < threads && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
    });
    for (int w = 0; w < threads; ++w)
      EXPECT_EQ(first[static_cast<size_t>(w)].load(), static_cast<long>(n * static_cast<size_t>(w) / static_cast<size_t>(threads)))
          << "worker " << w << " of " << threads;
  }
}

}  // namespace
}  // namespace qmap
