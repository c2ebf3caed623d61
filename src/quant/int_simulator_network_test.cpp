// The simulator on a whole small network quantized per the contract (a MobileNetV2-like
// block stack: strided Conv + Clip(0, 6), depthwise Conv + Clip, linear 1x1 Conv, residual
// Add, Concat, MaxPool, GlobalAveragePool, Flatten, Gemm as a high-precision output, and a
// Softmax on the CPU). Every 8-bit tensor is compared code by code with the FloatEngine running
// the same QDQ graph: most codes are equal and none differs by more than one step (a one-step
// difference upstream can move a later code by one, rarely more: the bound is checked on the
// codes each side computes from its own inputs, as the node table does).
#include <cmath>
#include <cstring>
#include <random>
#include <thread>

#include "quant/int_simulator.h"
#include "quant/qdq_quantize_test_util.h"
#include "quant/qdq_test_util.h"

namespace qmap {
namespace {

struct Net {
  Graph graph;
  std::vector<Tensor> inputs;
};

Net mobilenet_like(uint32_t seed) {
  testing::QdqBuilder b;  // used as a float graph builder here: no Q/DQ added
  uint32_t s = seed;
  auto w = [&](Dims d, float r) {
    ++s;
    return b.constant(fmt::format("w{}", s), testing::random_tensor(std::move(d), s, -r, r));
  };
  auto bias = [&](int64_t n) {
    ++s;
    return b.constant(fmt::format("b{}", s), testing::random_tensor({n}, s, -0.2f, 0.2f));
  };
  const ValueId zero = b.constant("zero", Tensor::scalar<float>(0.f)), six = b.constant("six", Tensor::scalar<float>(6.f));
  auto conv = [&](ValueId x, int64_t cin, int64_t cout, int64_t k, int64_t stride, int64_t group, float r) {
    const int64_t p = k / 2;
    return b.op("Conv", {x, w({cout, cin / group, k, k}, r), bias(cout)},
                {{"group", group}, {"strides", std::vector<int64_t>{stride, stride}},
                 {"pads", std::vector<int64_t>{p, p, p, p}}});
  };
  auto relu6 = [&](ValueId x) { return b.op("Clip", {x, zero, six}); };
  const ValueId x = b.input("image", testing::random_tensor({1, 3, 16, 16}, seed, -1.f, 1.f));
  const ValueId c1 = relu6(conv(x, 3, 8, 3, 2, 1, 0.6f));          // 8x8x8
  const ValueId d1 = relu6(conv(c1, 8, 8, 3, 1, 8, 0.8f));         // depthwise
  const ValueId p1 = conv(d1, 8, 8, 1, 1, 1, 0.4f);                // linear bottleneck
  const ValueId r1 = b.op("Add", {p1, c1});                        // residual
  const ValueId e1 = relu6(conv(r1, 8, 16, 1, 1, 1, 0.4f));
  const ValueId m1 = b.op("MaxPool", {e1}, {{"kernel_shape", std::vector<int64_t>{2, 2}},
                                            {"strides", std::vector<int64_t>{2, 2}}});
  const ValueId d2 = relu6(conv(m1, 16, 16, 3, 1, 16, 0.8f));
  const ValueId cat = b.op("Concat", {m1, d2}, {{"axis", int64_t{1}}});
  const ValueId gap = b.op("GlobalAveragePool", {cat});
  const ValueId flat = b.op("Flatten", {gap}, {{"axis", int64_t{1}}});
  const ValueId fc = b.op("Gemm", {flat, w({10, 32}, 0.5f), bias(10)}, {{"transB", int64_t{1}}});
  const ValueId fc2 = b.op("Gemm", {flat, w({5, 32}, 0.5f), bias(5)}, {{"transB", int64_t{1}}});
  const ValueId sm = b.op("Softmax", {fc2});
  b.output(fc);
  b.output(sm);
  return {b.finish(), b.inputs()};
}

TEST(IntSimulatorNetwork, MobileNetLikeCodesMatchTheFloatPath) {
  const uint32_t seed = 31;
  Net net = mobilenet_like(seed);
  auto qdq = testing::quantize_for_test(net.graph, net.inputs);
  ASSERT_TRUE(qdq.ok()) << qdq.status().message();
  auto sim = IntSimulator::create(*qdq, true);
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  const ProgramStats st = sim->program().stats();
  // Every Conv/Gemm, Add, MaxPool, GlobalAveragePool, Flatten and Concat is integer; the one
  // float step is the Softmax (its input dequantized, nothing after it).
  EXPECT_EQ(st.float_steps, 1) << "seed " << seed;
  EXPECT_EQ(st.by_kind.at("conv"), 6);
  EXPECT_EQ(st.by_kind.at("conv_float_out"), 1);
  EXPECT_EQ(st.by_kind.at("add_q15"), 1);  // its ratios are below 4: the short form
  EXPECT_EQ(st.by_kind.at("maxpool"), 1);
  EXPECT_EQ(st.by_kind.at("avgpool"), 1);
  EXPECT_EQ(st.by_kind.at("concat"), 1);
  EXPECT_EQ(st.by_kind.at("move"), 1);
  EXPECT_EQ(st.by_kind.at("quantize"), 1);

  auto fe = FloatEngine::create(*qdq, {.keep_all_values = true});
  ASSERT_TRUE(fe.ok());
  auto want = fe->run(net.inputs);
  ASSERT_TRUE(want.ok()) << want.status().message();
  auto got = sim->run(net.inputs);
  ASSERT_TRUE(got.ok()) << got.status().message();
  const IntProgram& p = sim->program();
  size_t total = 0, equal = 0;
  for (size_t t = 0; t < p.tensors.size(); ++t) {
    const ProgramTensor& pt = p.tensors[t];
    if (pt.constant || !pt.quant || (pt.dtype != DType::kInt8 && pt.dtype != DType::kUInt8)) continue;
    auto it = fe->all_values().find(pt.name);
    if (it == fe->all_values().end()) continue;  // a graph input
    auto a = sim->raw_values()[t].to_int64(), b = it->second.to_int64();
    ASSERT_EQ(a.size(), b.size()) << pt.name;
    for (size_t i = 0; i < a.size(); ++i) {
      ASSERT_LE(std::abs(a[i] - b[i]), 1) << pt.name << " index " << i << " seed " << seed;
      equal += a[i] == b[i];
    }
    total += a.size();
  }
  std::printf("  8-bit codes: %zu of %zu equal, mismatch rate %.4f\n", equal, total,
              1.0 - static_cast<double>(equal) / static_cast<double>(total));
  EXPECT_GT(total, 1000u);
  EXPECT_GE(static_cast<double>(equal), 0.98 * static_cast<double>(total));
  // Outputs: the high-precision Gemm and the CPU Softmax, close to the float path.
  for (size_t o = 0; o < got->size(); ++o) {
    auto a = (*got)[o].to_double(), b = (*want)[o].to_double();
    double dot = 0, na = 0, nb = 0;
    for (size_t i = 0; i < a.size(); ++i) dot += a[i] * b[i], na += a[i] * a[i], nb += b[i] * b[i];
    EXPECT_GT(dot / std::sqrt(na * nb), 0.9999) << "output " << o << " seed " << seed;
  }
}

TEST(IntSimulatorNetwork, OneSimulatorPerThreadGivesIdenticalResults) {
  Net net = mobilenet_like(41);
  auto qdq = testing::quantize_for_test(net.graph, net.inputs);
  ASSERT_TRUE(qdq.ok()) << qdq.status().message();
  std::vector<std::vector<Tensor>> results(3);
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i)
    threads.emplace_back([&, i] {
      auto sim = IntSimulator::create(*qdq);
      if (!sim.ok()) return;
      for (int rep = 0; rep < 3; ++rep) {
        auto r = sim->run(net.inputs);
        if (r.ok()) results[i] = *r;
      }
    });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_EQ(results[i].size(), 2u) << "thread " << i;
    for (size_t o = 0; o < 2; ++o)
      ASSERT_EQ(0, std::memcmp(results[i][o].raw(), results[0][o].raw(), results[0][o].nbytes()))
          << "thread " << i << " output " << o;
  }
}

}  // namespace
}  // namespace qmap
