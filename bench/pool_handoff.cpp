// The cost of one parallel hand-off of the runtime's intra-op pool (core/spin_pool.h) against
// the condition-variable ThreadPool (core/thread_pool.h) in the same process: rounds that
// alternate the two, each timing back-to-back parallel_for calls of one task per thread
// that only waits for the others to start (what a network step pays on top of its work). Prints microseconds per call, the
// median over the rounds, and the ratio. docs/runtime.md "Threads" quotes it.
//
// usage: pool_handoff [--threads N] [--calls N] [--rounds N]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/spin_pool.h"
#include "core/thread_pool.h"
#include "bench_stats.h"

namespace {

// Each task waits until every task of its call has started, so no thread can run two of them
// (a pool whose caller ran every trivial task itself would look free): every call is a real
// fork and join over all the threads.
template <class Pool>
double us_per_call(Pool& pool, int tasks, int calls) {
  std::atomic<long> arrived{0};
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) {
    const long all = static_cast<long>(i + 1) * tasks;
    pool.parallel_for(static_cast<size_t>(tasks), [&](size_t, int) {
      arrived.fetch_add(1);
      while (arrived.load() < all) {
      }
    });
  }
  const auto t1 = std::chrono::steady_clock::now();
  if (arrived.load() != static_cast<long>(tasks) * calls) std::abort();
  return std::chrono::duration<double, std::micro>(t1 - t0).count() / calls;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2, calls = 100000, rounds = 7;
  for (int i = 1; i < argc; ++i) {
    auto value = [&](const char* name) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "pool_handoff: %s needs a value\n", name);
        std::exit(2);
      }
      const int v = std::atoi(argv[++i]);
      if (v < 1) {
        std::fprintf(stderr, "pool_handoff: %s '%s': not a positive count\n", name, argv[i]);
        std::exit(2);
      }
      return v;
    };
    if (!std::strcmp(argv[i], "--threads")) threads = value("--threads");
    else if (!std::strcmp(argv[i], "--calls")) calls = value("--calls");
    else if (!std::strcmp(argv[i], "--rounds")) rounds = value("--rounds");
    else {
      std::fprintf(stderr, "pool_handoff: unknown argument '%s' (--threads N --calls N --rounds N)\n", argv[i]);
      return 2;
    }
  }
  if (threads < 2) {
    std::fprintf(stderr, "pool_handoff: --threads %d: a hand-off needs at least 2 threads\n", threads);
    return 2;
  }
  qmap::SpinPool spin(threads);
  qmap::ThreadPool cv(threads);
  std::vector<double> s, c;
  for (int r = 0; r < rounds; ++r) {
    if (r % 2 == 0) s.push_back(us_per_call(spin, threads, calls)), c.push_back(us_per_call(cv, threads, calls / 10));
    else c.push_back(us_per_call(cv, threads, calls / 10)), s.push_back(us_per_call(spin, threads, calls));
    std::printf("round %d: SpinPool %.3f us, ThreadPool %.3f us per call\n", r + 1, s.back(), c.back());
  }
  const double ms = middle_value(s), mc = middle_value(c);
  std::printf("median over %d rounds, %d threads, %d tasks per call: SpinPool %.3f us, ThreadPool %.3f us, "
              "SpinPool / ThreadPool %.3f\n",
              rounds, threads, threads, ms, mc, ms / mc);
}
