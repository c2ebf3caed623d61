// ThreadPool: every index runs exactly once, on a valid worker, for several pool sizes and
// loop lengths, and the pool can be reused.
#include "core/thread_pool.h"

#include <atomic>

#include <gtest/gtest.h>

namespace qmap {
namespace {

TEST(ThreadPool, EveryIndexOnceOnAValidWorker) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    ASSERT_EQ(pool.size(), threads);
    for (size_t n : {size_t{0}, size_t{1}, size_t{7}, size_t{1000}}) {
      std::vector<std::atomic<int>> hits(n);
      std::atomic<bool> bad_worker{false};
      pool.parallel_for(n, [&](size_t i, int w) {
        hits[i].fetch_add(1);
        if (w < 0 || w >= threads) bad_worker = true;
      });
      for (size_t i = 0; i < n; ++i) ASSERT_EQ(hits[i].load(), 1) << "threads " << threads << " n " << n << " i " << i;
      EXPECT_FALSE(bad_worker) << "threads " << threads << " n " << n;
    }
  }
}

TEST(ThreadPool, PerWorkerStateNeedsNoLock) {
  // Workers run their calls one after another, so plain per-worker sums are race-free; their
  // total is the same whatever the split.
  ThreadPool pool(4);
  std::vector<uint64_t> sums(4, 0);
  pool.parallel_for(10000, [&](size_t i, int w) { sums[static_cast<size_t>(w)] += i; });
  uint64_t total = 0;
  for (uint64_t s : sums) total += s;
  EXPECT_EQ(total, 10000ull * 9999 / 2);
}

TEST(ThreadPool, DefaultSizeIsHardwareConcurrency) {
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), default_thread_count());
  EXPECT_GE(default_thread_count(), 1);
}

}  // namespace
}  // namespace qmap
