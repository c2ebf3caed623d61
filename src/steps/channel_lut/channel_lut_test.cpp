// The channel-table step family (kChannelLut): lowering of PRelu with per-channel slopes, its
// results against the float QDQ graph, the kernel tester (every ISA this CPU has and several
// thread counts against the reference kernels::ref::lut8_per_channel, bit for bit), and the
// checks a forged step must fail.
#include <gtest/gtest.h>

#include <random>

#include "kernels/isa.h"
#include "kernels/ref/qelementwise.h"
#include "program/step_check.h"
#include "quant/lower.h"
#include "quant/qdq_test_util.h"
#include "runtime/executor.h"

namespace qmap {
namespace {

using testing::QdqBuilder;

using testing::count_steps;

const Step* first(const IntProgram& p, StepKind k) {
  for (const Step& s : p.steps)
    if (s.kind == k) return &s;
  return nullptr;
}

// PRelu with slopes along one axis lowers to a table per channel of that axis, and the
// integer result equals the float QDQ graph's exactly: each table entry is the op's own float
// eval on the dequantized code, quantized as QuantizeLinear does (0 steps apart, every
// element equal).
TEST(ChannelLut, PReluSlopesPerAxisLowerToATablePerChannel) {
  struct Case {
    Dims x, slope;
    int64_t channels, inner;
  };
  for (const Case& c : {Case{{2, 5, 3, 7}, {5, 1, 1}, 5, 21},     // per channel (NCHW)
                        Case{{1, 6, 4, 4}, {1, 6, 1, 1}, 6, 16},   // per channel, 4-D slope
                        Case{{2, 3, 2, 7}, {7}, 7, 1},             // along the last axis (ONNX alignment)
                        Case{{3, 9}, {9}, 9, 1}}) {                // a Gemm-like [N, C] activation
    SCOPED_TRACE(dims_str(c.x) + " slope " + dims_str(c.slope));
    QdqBuilder b;
    const ValueId x = b.input("x", testing::random_tensor(c.x, 7, -2.f, 2.f));
    std::vector<float> sv;
    for (int64_t i = 0; i < num_elements(c.slope); ++i) sv.push_back(0.05f + 0.11f * static_cast<float>(i % 7) - (i % 3 == 2 ? 0.3f : 0.f));
    const ValueId slope = b.constant("slope", Tensor::from_vector<float>(c.slope, sv));
    const ValueId yq = b.quantize(b.op("PRelu", {b.qdq(x), slope}));
    b.output(b.dequantize(yq));
    const Graph g = b.finish();
    auto p = lower_qdq_graph(g);
    ASSERT_TRUE(p.ok()) << p.status().message();
    ASSERT_EQ(count_steps(*p, StepKind::kChannelLut), 1) << program_text(*p);
    EXPECT_EQ(count_steps(*p, StepKind::kFloat), 0) << program_text(*p);
    const auto& cp = first(*p, StepKind::kChannelLut)->as<ChannelLutParams>();
    EXPECT_EQ(cp.channels, c.channels);
    EXPECT_EQ(cp.inner, c.inner);
    EXPECT_EQ(cp.tables.size(), static_cast<size_t>(c.channels) * 256);
    testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(yq)}, 0.0, 1.0);
  }
}

// One slope in a rank-3 tensor ([1, 1, 1], as a Caffe PReLU with channel_shared exports):
// one table, its parameter taken as a scalar (kept at rank 3 it would broadcast the 256
// table inputs to [1, 1, 256], which PRelu's shape rule refuses).
TEST(ChannelLut, OneSlopeOfAnyRankIsOneTable) {
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({1, 3, 4, 4}, 8, -2.f, 2.f));
  const ValueId slope = b.constant("slope", Tensor::from_vector<float>({1, 1, 1}, {0.25f}));
  const ValueId yq = b.quantize(b.op("PRelu", {b.qdq(x), slope}));
  b.output(b.dequantize(yq));
  const Graph g = b.finish();
  auto p = lower_qdq_graph(g);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(count_steps(*p, StepKind::kLut), 1) << program_text(*p);
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(yq)}, 0.0, 1.0);
}

// Slopes varying along two axes have no table per channel: the node stays float, and the
// checker's rule says why.
TEST(ChannelLut, SlopesAlongTwoAxesStayFloat) {
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({1, 2, 3, 3}, 9, -1.f, 1.f));
  const ValueId slope = b.constant("slope", Tensor::from_vector<float>({2, 1, 3}, {0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}));
  b.output(b.dequantize(b.quantize(b.op("PRelu", {b.qdq(x), slope}))));
  auto p = lower_qdq_graph(b.finish());
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(count_steps(*p, StepKind::kChannelLut), 0);
  EXPECT_EQ(count_steps(*p, StepKind::kFloat), 1);
}

// A one-step program x -> channel_lut -> y with random tables.
IntProgram one_step(int64_t outer, int64_t channels, int64_t inner, bool x_signed, bool y_signed, uint32_t seed) {
  IntProgram p;
  const Dims d{outer, channels, inner};
  p.tensors.push_back({"x", x_signed ? DType::kInt8 : DType::kUInt8, d, TensorQuant{0.05f, x_signed ? -3 : 7}, {}});
  p.tensors.push_back({"y", y_signed ? DType::kInt8 : DType::kUInt8, d, TensorQuant{0.1f, y_signed ? 5 : 0}, {}});
  Step s;
  s.node = "prelu";
  s.op = OpId::PRelu;
  s.op_type = "PRelu";
  s.inputs = {0};
  s.outputs = {1};
  auto& cp = s.set<ChannelLutParams>(StepKind::kChannelLut);
  cp.channels = channels;
  cp.inner = inner;
  std::mt19937 rng(seed);
  for (int64_t i = 0; i < channels * 256; ++i) cp.tables.push_back(static_cast<uint8_t>(rng()));
  p.steps.push_back(std::move(s));
  p.inputs = {0};
  p.outputs = {1};
  return p;
}

// The kernel tester: channel counts around the vector widths, planes shorter and longer than
// the ISA lookup's threshold (64), both signednesses, every ISA of this CPU, 1 to 3 threads
// with the smallest split size (so planes are divided among workers): the bytes equal the
// reference's.
TEST(ChannelLut, RuntimeEqualsTheReferenceOnEveryIsaAndThreadCount) {
  std::mt19937 rng(11);
  int cases = 0;
  for (int64_t channels : {1, 3, 16, 17, 67})
    for (int64_t inner : {1, 5, 63, 64, 65, 130})
      for (int64_t outer : {1, 2})
        for (int sg = 0; sg < 4; ++sg) {
          const bool xs = sg & 1, ys = sg & 2;
          const IntProgram p = one_step(outer, channels, inner, xs, ys, static_cast<uint32_t>(cases));
          const int64_t n = outer * channels * inner;
          Tensor x(xs ? DType::kInt8 : DType::kUInt8, {outer, channels, inner});
          for (int64_t i = 0; i < n; ++i) reinterpret_cast<uint8_t*>(x.raw())[i] = static_cast<uint8_t>(rng());
          std::vector<uint8_t> want(static_cast<size_t>(n));
          kernels::ref::lut8_per_channel({x.raw(), xs}, outer, channels, inner, p.steps[0].as<ChannelLutParams>().tables,
                                         {want.data(), ys});
          for (kernels::Isa isa : kernels::host_isas()) {
            auto ex = rt::Executor::prepare(p, nullptr, isa);
            ASSERT_TRUE(ex.ok()) << ex.status().message();
            for (int threads : {1, 2, 3}) {
              rt::ExecState st = ex->make_state(false, threads, 1);
              std::memcpy(st.input(0).raw(), x.raw(), static_cast<size_t>(n));
              ASSERT_TRUE(ex->run(st).ok());
              const auto* got = reinterpret_cast<const uint8_t*>(st.tensor(1).raw());
              ASSERT_EQ(std::vector<uint8_t>(got, got + n), want)
                  << kernels::isa_name(isa) << " threads " << threads << " outer " << outer << " channels " << channels
                  << " inner " << inner << " x " << (xs ? "int8" : "uint8") << " y " << (ys ? "int8" : "uint8");
            }
          }
          ++cases;
        }
  EXPECT_EQ(cases, 5 * 6 * 2 * 4);
}

// What a forged step must fail, named (the .bin reader and the executor share the check).
TEST(ChannelLut, CheckNamesWhatIsWrong) {
  auto err = [](IntProgram p) {
    const Status st = check_step(p, 0);
    return st.ok() ? std::string("(accepted)") : st.message();
  };
  EXPECT_EQ(err(one_step(2, 3, 4, true, true, 1)), "(accepted)");
  IntProgram p = one_step(2, 3, 4, true, true, 1);
  p.steps[0].as<ChannelLutParams>().tables.pop_back();
  EXPECT_EQ(err(p), "channel_lut 'prelu' (step 0): tables blob holds 767 values: channels * 256 (one table per "
                    "channel) = 768");
  p = one_step(2, 3, 4, true, true, 1);
  p.steps[0].as<ChannelLutParams>().inner = 5;
  EXPECT_EQ(err(p), "channel_lut 'prelu' (step 0): input 'x' has 24 elements (2x3x4): a whole number of channels 3 * "
                    "inner 5 = 15 blocks");
  p = one_step(2, 3, 4, true, true, 1);
  p.steps[0].as<ChannelLutParams>().channels = 0;
  EXPECT_EQ(err(p), "channel_lut 'prelu' (step 0): channels 0 and inner 4: both are >= 1");
  p = one_step(2, 3, 4, true, true, 1);
  p.steps[0].as<ChannelLutParams>().channels = int64_t{1} << 62;
  EXPECT_EQ(err(p), "channel_lut 'prelu' (step 0): channels * inner overflows int64");
  p = one_step(2, 3, 4, true, true, 1);
  p.tensors[1].dims = {2, 3, 5};
  EXPECT_EQ(err(p), "channel_lut 'prelu' (step 0): output 'y' has 30 elements (2x3x5): the input's element count = 24");
}

}  // namespace
}  // namespace qmap
