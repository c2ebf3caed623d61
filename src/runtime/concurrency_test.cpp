// Concurrent inference on one loaded .bin (include/qmap/runtime.h: a Model is shared by any
// number of Contexts on any threads): 16 threads x 1000 runs, each thread with its own
// Context and its own random inputs, give the outputs of a single-threaded run bit for bit;
// contexts with intra-op threads (the spin pool) on several threads at once do too.
// Built as its own executable (qmap_concurrency_tests), which `scripts/test.sh --tsan` builds
// and runs under ThreadSanitizer; the normal suite runs it too. QMAP_CONCURRENCY_RUNS
// overrides the runs per thread (the TSan run keeps the default).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "format/bin_writer.h"
#include "qmap/runtime.h"
#include "quant/lower.h"
#include "runtime/runtime_test_graphs.h"

namespace qmap {
namespace {

using Outputs = std::vector<std::vector<std::byte>>;

// The runtime tests' network (every integer step kind, a float Softmax on the CPU) written
// as a .bin and loaded from the file, as a product would.
std::string write_test_bin(const testing::RuntimeNet& net, const std::string& tag) {
  auto prog = lower_qdq_graph(net.qdq);
  QMAP_CHECK(prog.ok(), "{}", prog.status().message());
  const std::string path = ::testing::TempDir() + "qmap_concurrency_" + tag + "_" + std::to_string(::getpid()) + ".bin";
  const Status s = write_bin(path, *prog, BinMetadata{});
  QMAP_CHECK(s.ok(), "{}", s.message());
  return path;
}

Outputs run_once(rt::Context& ctx, const rt::Model& model, const std::vector<Tensor>& in) {
  for (size_t i = 0; i < in.size(); ++i) ctx.set_input(i, in[i].raw(), in[i].nbytes());
  ctx.run();
  Outputs out;
  for (size_t o = 0; o < model.outputs().size(); ++o) {
    const auto r = ctx.output_raw(o);
    out.emplace_back(r.begin(), r.end());
  }
  return out;
}

int runs_per_thread(int fallback) {
  const char* env = std::getenv("QMAP_CONCURRENCY_RUNS");
  return env != nullptr && std::atoi(env) > 0 ? std::atoi(env) : fallback;
}

// Inputs of run r on thread t: seeded by (t, r), so every run of every thread differs.
uint32_t input_seed(int t, int r) { return 1000u + static_cast<uint32_t>(t) * 100003u + static_cast<uint32_t>(r); }

// `threads` threads x `runs` runs, each with its own Context (options `opt`) on the shared
// model; every output is compared with the single-threaded reference for the same inputs.
void expect_concurrent_equals_sequential(const rt::Model& model, const testing::RuntimeNet& net, int threads, int runs,
                                         rt::ContextOptions opt) {
  // Inputs are made up front (random_inputs is not what is under test, and the reference
  // and the threads must see the same bytes).
  std::vector<std::vector<std::vector<Tensor>>> inputs(static_cast<size_t>(threads));
  for (int t = 0; t < threads; ++t)
    for (int r = 0; r < runs; ++r) inputs[static_cast<size_t>(t)].push_back(testing::random_inputs(net.inputs, input_seed(t, r)));

  std::vector<std::vector<Outputs>> want(static_cast<size_t>(threads));
  {
    rt::Context ctx(model);  // single-threaded reference: one context, one thread, in order
    for (int t = 0; t < threads; ++t)
      for (int r = 0; r < runs; ++r) want[static_cast<size_t>(t)].push_back(run_once(ctx, model, inputs[static_cast<size_t>(t)][static_cast<size_t>(r)]));
  }
  // Different inputs must give different outputs, or the comparison below proves nothing.
  ASSERT_NE(want[0][0], want[0][1]);
  ASSERT_NE(want[0][0], want[static_cast<size_t>(threads - 1)][0]);

  std::vector<std::vector<Outputs>> got(static_cast<size_t>(threads));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      rt::Context ctx(model, opt);
      auto& mine = got[static_cast<size_t>(t)];
      for (int r = 0; r < runs; ++r) mine.push_back(run_once(ctx, model, inputs[static_cast<size_t>(t)][static_cast<size_t>(r)]));
    });
  for (auto& th : pool) th.join();

  int mismatches = 0;
  for (int t = 0; t < threads; ++t)
    for (int r = 0; r < runs; ++r)
      if (got[static_cast<size_t>(t)][static_cast<size_t>(r)] != want[static_cast<size_t>(t)][static_cast<size_t>(r)] && ++mismatches <= 5)
        ADD_FAILURE() << "thread " << t << " run " << r << " (input seed " << input_seed(t, r)
                      << "): outputs differ from the single-threaded run";
  EXPECT_EQ(mismatches, 0) << "of " << threads * runs << " runs";
}

TEST(ConcurrentInference, SixteenThreadsOnOneLoadedBinGiveTheSingleThreadedOutputs) {
  const auto net = testing::runtime_test_net(31);
  const std::string path = write_test_bin(net, "16x1000");
  const rt::Model model = rt::Model::load(path);
  std::remove(path.c_str());  // the loaded model owns its bytes
  expect_concurrent_equals_sequential(model, net, 16, runs_per_thread(1000), {});
}

// Each context also splits its steps over 3 intra-op threads (core/spin_pool.h), so worker
// pools of several contexts run at once.
TEST(ConcurrentInference, ContextsWithIntraOpThreadsOnSeveralThreads) {
  const auto net = testing::runtime_test_net(32);
  const std::string path = write_test_bin(net, "intra");
  const rt::Model model = rt::Model::load(path);
  std::remove(path.c_str());
  rt::ContextOptions opt;
  opt.threads = 3;
  expect_concurrent_equals_sequential(model, net, 4, runs_per_thread(1000) / 10, opt);
}

// Models loaded on several threads at once while others run: loading (weight packing, kernel
// selection) shares nothing mutable with running contexts.
TEST(ConcurrentInference, LoadsWhileOtherThreadsRun) {
  const auto net = testing::runtime_test_net(33);
  const std::string path = write_test_bin(net, "load");
  const rt::Model first = rt::Model::load(path);
  const auto in = testing::random_inputs(net.inputs, 5);
  Outputs want;
  {
    rt::Context ctx(first);
    want = run_once(ctx, first, in);
  }
  std::vector<Outputs> got(8);
  std::vector<std::thread> pool;
  for (int t = 0; t < 8; ++t)
    pool.emplace_back([&, t] {
      const rt::Model m = t % 2 ? rt::Model::load(path) : first;
      rt::Context ctx(m);
      for (int r = 0; r < 20; ++r) got[static_cast<size_t>(t)] = run_once(ctx, m, in);
    });
  for (auto& th : pool) th.join();
  std::remove(path.c_str());
  for (int t = 0; t < 8; ++t) EXPECT_EQ(got[static_cast<size_t>(t)], want) << "thread " << t;
}

}  // namespace
}  // namespace qmap
