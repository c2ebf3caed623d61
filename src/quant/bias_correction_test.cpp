// Bias correction on a small network: the integer simulation's per-channel output means move
// toward float's, on the calibration samples and on samples it never saw.
#include "quant/bias_correction.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "engine/float_engine.h"
#include "passes/pass_test_util.h"
#include "quant/float_range_test_util.h"
#include "quant/int_simulator.h"

namespace qmap {
namespace {

// conv 3x3 (4 -> 8, bias) -> Relu -> depthwise 3x3 stride 2 (no bias) -> Relu -> conv 1x1
// (8 -> 6) -> Gemm-free head. Channel magnitudes spread over 30x so per-tensor weight scales
// round the small channels coarsely: a systematic shift of their output means.
Graph network() {
  testing::GraphBuilder b;
  const ValueId x = b.input("x", {1, 4, 10, 10});
  Tensor w1 = testing::random_tensor({8, 4, 3, 3}, 11);
  auto d1 = w1.data<float>();
  for (size_t i = 0; i < d1.size(); ++i) d1[i] *= (i / 36 % 2 == 0) ? 1.f : 1.f / 30.f;
  const ValueId c1 = b.node("Conv", "c1", {x, b.constant("w1", w1), b.random("b1", {8}, 12, -0.1f, 0.1f)},
                            {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const ValueId r1 = b.node("Relu", "r1", {c1});
  Tensor w2 = testing::random_tensor({8, 1, 3, 3}, 13, 0.f, 1.f);
  const ValueId c2 = b.node("Conv", "c2", {r1, b.constant("w2", w2)},
                            {{"group", int64_t{8}}, {"strides", std::vector<int64_t>{2, 2}},
                             {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const ValueId r2 = b.node("Relu", "r2", {c2});
  const ValueId c3 = b.node("Conv", "c3", {r2, b.random("w3", {6, 8, 1, 1}, 14), b.random("b3", {6}, 15)});
  return b.build({c3});
}

// Inputs with a positive mean, so input means (and their shifts) are not zero.
std::vector<std::vector<Tensor>> samples(uint32_t seed, int n) {
  return testing::seeded_samples({1, 4, 10, 10}, seed, n, -0.5f, 1.5f);
}

std::map<std::string, float> max_thresholds(const Graph& g, const std::vector<std::vector<Tensor>>& s) {
  return testing::max_abs_thresholds(g, s);
}

// Mean over output channels of |mean_q(y_c) - mean_f(y_c)|, means over samples and positions.
double output_mean_shift(const Graph& float_graph, const Graph& qdq, const std::vector<std::vector<Tensor>>& s) {
  auto fe = FloatEngine::create(float_graph);
  auto sim = IntSimulator::create(qdq);
  QMAP_CHECK(fe.ok() && sim.ok(), "engines");
  std::vector<double> diff;
  int64_t per_channel = 0;
  for (const auto& in : s) {
    auto f = fe->run(in);
    auto q = sim->run(in);
    QMAP_CHECK(f.ok() && q.ok(), "runs");
    const Tensor& ft = (*f)[0];
    const Tensor qt = (*q)[0].dtype() == DType::kFloat32 ? (*q)[0] : cast_tensor((*q)[0], DType::kFloat32);
    const int64_t c = ft.dims()[1];
    per_channel = ft.numel() / c;
    diff.resize(static_cast<size_t>(c));
    for (int64_t k = 0; k < ft.numel(); ++k)
      diff[static_cast<size_t>(k / per_channel)] += qt.data<float>()[static_cast<size_t>(k)] - ft.data<float>()[static_cast<size_t>(k)];
  }
  double total = 0;
  for (double d : diff) total += std::fabs(d) / static_cast<double>(per_channel * static_cast<int64_t>(s.size()));
  return total / static_cast<double>(diff.size());
}

// Every node's bias in `a` equals the same node's in `b`, bit for bit.
void expect_same_biases(const Graph& a, const Graph& b) {
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    if (a.nodes[i].inputs.size() < 3) continue;
    ASSERT_EQ(b.nodes[i].inputs.size(), a.nodes[i].inputs.size()) << a.nodes[i].name;
    const auto x = a.value(a.nodes[i].inputs[2]).constant->data<float>();
    const auto y = b.value(b.nodes[i].inputs[2]).constant->data<float>();
    ASSERT_EQ(x.size(), y.size()) << a.nodes[i].name;
    for (size_t k = 0; k < x.size(); ++k) EXPECT_EQ(x[k], y[k]) << a.nodes[i].name << " channel " << k;
  }
}

TEST(BiasCorrection, OutputMeansMoveTowardFloat) {
  const Graph g = network();
  const auto calib = samples(100, 16);
  const auto unseen = samples(500, 16);
  const auto thresholds = max_thresholds(g, calib);
  QuantizeOptions qopts;
  qopts.per_channel = false;  // coarse weights: a shift worth correcting
  auto plain = quantize_graph(g, thresholds, qopts);
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  auto bc = correct_biases(g, thresholds, qopts, calib, {.threads = 2});
  ASSERT_TRUE(bc.ok()) << bc.status().message();
  EXPECT_EQ(bc->layers, 3);
  ASSERT_EQ(bc->layer_shift.size(), 3u);
  EXPECT_EQ(bc->layer_shift[0].first, "c1");
  EXPECT_GT(bc->mean_relative_shift, 0.0);
  auto corrected = quantize_graph(bc->graph, thresholds, qopts);
  ASSERT_TRUE(corrected.ok()) << corrected.status().message();
  const double before_c = output_mean_shift(g, plain->graph, calib);
  const double after_c = output_mean_shift(g, corrected->graph, calib);
  const double before_u = output_mean_shift(g, plain->graph, unseen);
  const double after_u = output_mean_shift(g, corrected->graph, unseen);
  // On the samples it measured, the last layer's output means match float up to the
  // rounding of the int32 bias and of the output: well under a tenth of the shift. On unseen
  // samples of the same distribution most of the gain holds.
  EXPECT_LT(after_c, 0.1 * before_c) << before_c << " -> " << after_c;
  EXPECT_LT(after_u, 0.7 * before_u) << before_u << " -> " << after_u;
  // c2 had no bias and got one; the input graph is untouched.
  EXPECT_EQ(g.nodes[2].inputs.size(), 2u);
  EXPECT_EQ(bc->graph.nodes[2].inputs.size(), 3u);
}

TEST(BiasCorrection, SameResultForAnyThreadCount) {
  const Graph g = network();
  const auto calib = samples(100, 6);
  const auto thresholds = max_thresholds(g, calib);
  QuantizeOptions qopts;
  auto one = correct_biases(g, thresholds, qopts, calib, {.threads = 1});
  auto three = correct_biases(g, thresholds, qopts, calib, {.threads = 3});
  ASSERT_TRUE(one.ok() && three.ok());
  // Sums reduced in sample order: the same doubles, the same floats.
  expect_same_biases(one->graph, three->graph);
}

TEST(BiasCorrection, SameResultOnTheReferenceAndTheFastKernels) {
  // The lockstep runs on the runtime's kernels, which re-make a step's kernel when its bias
  // changes; the reference gives the same integers, so the same corrected biases.
  const Graph g = network();
  const auto calib = samples(100, 6);
  const auto thresholds = max_thresholds(g, calib);
  const char* old = std::getenv("QMAP_ISA");
  const std::string saved = old ? old : "";
  ::setenv("QMAP_ISA", "ref", 1);
  auto ref = correct_biases(g, thresholds, {}, calib, {});
  if (old) ::setenv("QMAP_ISA", saved.c_str(), 1);
  else ::unsetenv("QMAP_ISA");
  auto fast = correct_biases(g, thresholds, {}, calib, {});
  ASSERT_TRUE(ref.ok() && fast.ok());
  expect_same_biases(ref->graph, fast->graph);
}

TEST(BiasCorrection, NoSamplesIsAnError) {
  const Graph g = network();
  const auto calib = samples(100, 2);
  const auto thresholds = max_thresholds(g, calib);
  auto no_samples = correct_biases(g, thresholds, {}, {}, {});
  ASSERT_FALSE(no_samples.ok());
  EXPECT_NE(no_samples.status().message().find("no calibration samples"), std::string::npos);
}

}  // namespace
}  // namespace qmap
