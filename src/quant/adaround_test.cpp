// Adaptive rounding on a small network: every layer's output error falls below
// round-to-nearest's, the weights stay on the quantizer's int8 grids with its scales, the
// quantized model's output moves closer to float on samples the rounding never saw, and the
// result does not depend on the thread count.
#include "quant/adaround.h"

#include <gtest/gtest.h>

#include <cmath>

#include "engine/float_engine.h"
#include "passes/pass_test_util.h"
#include "quant/float_range_test_util.h"
#include "quant/quantize_params.h"

namespace qmap {
namespace {

// conv 3x3 (4 -> 8) -> Relu -> depthwise 3x3 (8) -> Relu -> conv 1x1 (8 -> 6) -> Gemm-free.
Graph network() {
  testing::GraphBuilder b;
  const ValueId x = b.input("x", {1, 4, 10, 10});
  const ValueId c1 = b.node("Conv", "c1", {x, b.random("w1", {8, 4, 3, 3}, 31), b.random("b1", {8}, 32, -0.1f, 0.1f)},
                            {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const ValueId r1 = b.node("Relu", "r1", {c1});
  const ValueId c2 = b.node("Conv", "c2", {r1, b.random("w2", {8, 1, 3, 3}, 33)},
                            {{"group", int64_t{8}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const ValueId r2 = b.node("Relu", "r2", {c2});
  const ValueId c3 = b.node("Conv", "c3", {r2, b.random("w3", {6, 8, 1, 1}, 34), b.random("b3", {6}, 35)});
  return b.build({c3});
}

std::vector<std::vector<Tensor>> samples(uint32_t seed, int n) {
  return testing::seeded_samples({1, 4, 10, 10}, seed, n, -1.f, 1.f);
}

const Tensor& weight_of(const Graph& g, const std::string& node) {
  for (const Node& n : g.nodes)
    if (n.name == node) return *g.value(n.inputs[1]).constant;
  QMAP_CHECK(false, "no node {}", node);
  return *g.value(0).constant;
}

TEST(AdaRound, LowersEveryLayersErrorAndTheModelsOnUnseenSamples) {
  const Graph g = network();
  const auto calib = samples(100, 16);
  const auto unseen = samples(700, 16);
  const auto t = testing::max_abs_thresholds(g, calib);
  for (bool per_channel : {true, false}) {
    SCOPED_TRACE(per_channel ? "per channel" : "per tensor");
    QuantizeOptions o;
    o.per_channel = per_channel;
    auto r = adaround_weights(g, o, calib, {.threads = 2});
    ASSERT_TRUE(r.ok()) << r.status().message();
    ASSERT_EQ(r->layers.size(), 3u);
    EXPECT_TRUE(r->skipped.empty());
    int64_t flipped = 0;
    for (const AdaRoundLayer& l : r->layers) {
      EXPECT_LE(l.error_adaround, l.error_nearest) << l.node;
      flipped += l.flipped;
      // The weights lie on the quantizer's grid with its scales: quantizing them again gives
      // the same scales, and dequantizing gives them back exactly.
      const Tensor& before = weight_of(g, l.node);
      const Tensor& after = weight_of(r->graph, l.node);
      const QuantizedWeights qa = quantize_weights(after, per_channel ? 0 : -1);
      const QuantizedWeights qb = quantize_weights(before, per_channel ? 0 : -1);
      const auto sa = qa.scale.data<float>(), sb = qb.scale.data<float>();
      for (size_t c = 0; c < sa.size(); ++c) EXPECT_EQ(sa[c], sb[c]) << l.node << " channel " << c;
      const int64_t per = after.numel() / static_cast<int64_t>(sa.size() == 1 && per_channel ? 1 : sa.size());
      for (int64_t i = 0; i < after.numel(); ++i) {
        const float s = sa[sa.size() == 1 ? 0 : static_cast<size_t>(i / per)];
        EXPECT_EQ(after.data<float>()[static_cast<size_t>(i)], s * static_cast<float>(qa.q.data<int8_t>()[static_cast<size_t>(i)]));
        // Each weight moved to a neighbour of w / s: at most one step from nearest.
        EXPECT_LE(std::abs(qa.q.data<int8_t>()[static_cast<size_t>(i)] - qb.q.data<int8_t>()[static_cast<size_t>(i)]), 1);
      }
    }
    EXPECT_GT(flipped, 0);
    // The summed layer errors fall by a tenth at least (typically a third to a half).
    double nearest = 0, rounded = 0;
    for (const AdaRoundLayer& l : r->layers) nearest += l.error_nearest, rounded += l.error_adaround;
    EXPECT_LT(rounded, 0.9 * nearest);
    // The whole model, quantized, on samples the rounding never saw: closer to float.
    const double mse_nearest = testing::quantized_output_mse(g, g, t, o, unseen);
    const double mse_rounded = testing::quantized_output_mse(g, r->graph, t, o, unseen);
    EXPECT_LT(mse_rounded, mse_nearest);
  }
}

// Weights already on their grids (a model exported for int8, or rounded once): nothing to
// gain, every layer left as it is without measuring anything.
TEST(AdaRound, WeightsOnTheirGridAreLeftAlone) {
  const Graph g = network();
  const auto calib = samples(100, 8);
  auto once = adaround_weights(g, {}, calib);
  ASSERT_TRUE(once.ok());
  auto twice = adaround_weights(once->graph, {}, calib);
  ASSERT_TRUE(twice.ok());
  EXPECT_TRUE(twice->layers.empty());
  ASSERT_EQ(twice->skipped.size(), 3u);
  for (const auto& [node, why] : twice->skipped)
    EXPECT_NE(why.find("already lie on their int8 grid"), std::string::npos) << node << ": " << why;
}

TEST(AdaRound, SameWeightsWhateverTheThreads) {
  const Graph g = network();
  const auto calib = samples(100, 8);
  auto a = adaround_weights(g, {}, calib, {.threads = 1});
  auto b = adaround_weights(g, {}, calib, {.threads = 3});
  ASSERT_TRUE(a.ok() && b.ok());
  for (const char* node : {"c1", "c2", "c3"}) {
    const auto x = weight_of(a->graph, node).data<float>(), y = weight_of(b->graph, node).data<float>();
    ASSERT_EQ(x.size(), y.size());
    for (size_t i = 0; i < x.size(); ++i) EXPECT_EQ(x[i], y[i]) << node << " " << i;
  }
}

TEST(AdaRound, SkipsSharedWeightsLayersWithTooFewPositionsAndCpuNodes) {
  // Two 1x1 convs reading one weight, and a Gemm seen on 2 samples (2 rows for 16 taps).
  testing::GraphBuilder b;
  const ValueId x = b.input("x", {1, 4, 4, 4});
  const ValueId w = b.random("w", {4, 4, 1, 1}, 41);
  const ValueId c1 = b.node("Conv", "c1", {x, w});
  const ValueId c2 = b.node("Conv", "c2", {c1, w});
  const ValueId f = b.node("Flatten", "f", {c2});
  const ValueId gm = b.node("Gemm", "gm", {f, b.random("wg", {3, 64}, 42)}, {{"transB", int64_t{1}}});
  const Graph g = b.build({gm});
  std::vector<std::vector<Tensor>> s;
  for (int i = 0; i < 2; ++i) s.push_back({testing::random_tensor({1, 4, 4, 4}, 50 + i, -1.f, 1.f)});
  auto r = adaround_weights(g, {}, s);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->layers.empty());
  ASSERT_EQ(r->skipped.size(), 3u);
  EXPECT_EQ(r->skipped[0].first, "c1");
  EXPECT_NE(r->skipped[0].second.find("shared"), std::string::npos);
  EXPECT_EQ(r->skipped[2].first, "gm");
  EXPECT_NE(r->skipped[2].second.find("2 output positions in the samples for 64 taps"), std::string::npos)
      << r->skipped[2].second;
  // A node the options keep on the CPU is not a layer at all.
  QuantizeOptions cpu;
  cpu.run_on_cpu = {"gm"};
  auto rc = adaround_weights(g, cpu, s);
  ASSERT_TRUE(rc.ok());
  EXPECT_EQ(rc->skipped.size(), 2u);
}

TEST(AdaRound, NoSamplesIsAnError) {
  auto r = adaround_weights(network(), {}, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("no calibration samples"), std::string::npos);
}

}  // namespace
}  // namespace qmap
