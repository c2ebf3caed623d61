// IntSimulator and lower_qdq_graph on hand-built QDQ graphs: each recognized pattern lowers
// to the integer step it should (a pattern silently falling back to float fails the step
// counts), and the simulator's outputs stay within one output quantization step of the
// FloatEngine running the same QDQ graph in float (as ONNX Runtime does). One step is the
// bound because both sides quantize the same real value, differing only by the multiplier's
// 2^-31 relative error, float32 rounding in the float path and tie direction (half away
// vs half even).
#include "quant/int_simulator.h"

#include "passes/pass_test_util.h"
#include "quant/float_range_test_util.h"
#include "quant/lower.h"
#include "quant/qdq_test_util.h"
#include "quant/quantize.h"

namespace qmap {
namespace {

using testing::QdqBuilder;

int count(const IntProgram& p, StepKind k) { return testing::count_steps(p, k); }

// Expects exactly the listed step kinds (and counts), nothing else.
void expect_steps(const IntProgram& p, const std::map<StepKind, int>& want) {
  int total = 0;
  for (const auto& [k, n] : want) {
    EXPECT_EQ(count(p, k), n) << step_kind_name(k);
    total += n;
  }
  EXPECT_EQ(static_cast<int>(p.steps.size()), total) << "program:\n" << program_text(p);
}

IntProgram lowered(const Graph& g) {
  auto p = lower_qdq_graph(g);
  QMAP_CHECK(p.ok(), "{}", p.status().message());
  return std::move(p).value();
}

// x (float) -> Q/DQ -> Conv(per-channel W, B) [-> Relu] -> Q -> DQ -> output.
struct ConvCase {
  Dims x;
  int64_t m, k, group, stride, pad, dilation;
  bool relu;
  uint32_t seed;
};

void run_conv_case(const ConvCase& c) {
  SCOPED_TRACE(::testing::Message() << "x " << dims_str(c.x) << " m " << c.m << " k " << c.k << " group " << c.group
                                    << " stride " << c.stride << " pad " << c.pad << " seed " << c.seed);
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor(c.x, c.seed, -1.f, 1.f));
  const ValueId xq = b.quantize(x);
  const ValueId xd = b.dequantize(xq);
  const ValueId w = b.weight("w", testing::random_tensor({c.m, c.x[1] / c.group, c.k, c.k}, c.seed + 1, -0.5f, 0.5f), 0);
  std::vector<float> bias;
  for (int64_t i = 0; i < c.m; ++i) bias.push_back(0.05f * static_cast<float>(i % 5) - 0.1f);
  const ValueId bb = b.bias("b", bias, xq, "w");
  const ValueId y = b.op("Conv", {xd, w, bb},
                         {{"group", c.group}, {"strides", std::vector<int64_t>{c.stride, c.stride}},
                          {"pads", std::vector<int64_t>{c.pad, c.pad, c.pad, c.pad}},
                          {"dilations", std::vector<int64_t>{c.dilation, c.dilation}}});
  const ValueId r = c.relu ? b.op("Relu", {y}) : y;
  const ValueId yq = b.quantize(r, c.relu);
  b.output(b.dequantize(yq));
  const Graph g = b.finish();
  const IntProgram p = lowered(g);
  expect_steps(p, {{StepKind::kQuantize, 1}, {StepKind::kConv, 1}, {StepKind::kDequantize, 1}});
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(yq)});
}

TEST(IntSimulator, ConvRelu) { run_conv_case({{1, 3, 8, 8}, 4, 3, 1, 1, 1, 1, true, 1}); }
TEST(IntSimulator, ConvStrideDilationNoRelu) { run_conv_case({{2, 4, 9, 7}, 5, 3, 1, 2, 2, 2, false, 2}); }
TEST(IntSimulator, Depthwise) { run_conv_case({{1, 6, 10, 10}, 6, 3, 6, 2, 1, 1, true, 3}); }
TEST(IntSimulator, GroupedPointwise) { run_conv_case({{1, 8, 5, 5}, 4, 1, 2, 1, 0, 1, false, 4}); }

TEST(IntSimulator, ConvClipFusedAndHighPrecisionOutput) {
  // Conv -> Clip(0, 0.5) -> Q: the clip becomes lo/hi; a second Conv whose float output is a
  // graph output is computed from the accumulator ("high precision"), with its Relu in float.
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({1, 3, 6, 6}, 5, -1.f, 1.f));
  const ValueId xq = b.quantize(x);
  const ValueId w = b.weight("w", testing::random_tensor({4, 3, 3, 3}, 6, -0.5f, 0.5f), 0);
  const ValueId y = b.op("Conv", {b.dequantize(xq), w}, {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  // The lower bound arrives through an Identity of an initializer (as in exported models):
  // shape inference folds it, so no step runs for it and the Clip still fuses.
  const ValueId lo = b.op("Identity", {b.constant("lo", Tensor::scalar<float>(0.f))});
  const ValueId hi = b.constant("hi", Tensor::scalar<float>(0.5f));
  // Scale 1/256 (threshold above the clip's 0.5), so the clip narrows the range.
  const ValueId yq = b.quantize_with(b.op("Clip", {y, lo, hi}), 1.f / 256.f, true);
  const ValueId w2 = b.weight("w2", testing::random_tensor({2, 4, 1, 1}, 7, -1.f, 1.f), 0);
  const ValueId z = b.op("Relu", {b.op("Conv", {b.dequantize(yq), w2})});
  b.output(z);
  const Graph g = b.finish();
  const IntProgram p = lowered(g);
  expect_steps(p, {{StepKind::kQuantize, 1}, {StepKind::kConv, 1}, {StepKind::kConvFloatOut, 1}});
  EXPECT_EQ(p.steps[1].as<ConvParams>().lo, 0);    // Q(0) = zero point
  EXPECT_EQ(p.steps[1].as<ConvParams>().hi, 128);  // Q(0.5) = 0.5 / 2^-8, exact
  // High precision: within float rounding of the float path, not a quantization step.
  testing::expect_sim_matches_float(g, b.inputs(), {1e-5f}, 1.0, 0.0);
}

TEST(IntSimulator, PerTensorWeights) {
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({1, 4, 6, 6}, 25, -1.f, 1.f));
  const ValueId xq = b.quantize(x);
  const ValueId w = b.weight("w", testing::random_tensor({3, 4, 3, 3}, 26, -0.5f, 0.5f), 0, true);
  const ValueId bb = b.bias("b", {0.1f, -0.2f, 0.3f}, xq, "w");
  const ValueId yq = b.quantize(b.op("Conv", {b.dequantize(xq), w, bb}));
  b.output(b.dequantize(yq));
  const Graph g = b.finish();
  const IntProgram p = lowered(g);
  expect_steps(p, {{StepKind::kQuantize, 1}, {StepKind::kConv, 1}, {StepKind::kDequantize, 1}});
  const auto& mults = p.steps[1].as<ConvParams>().multipliers;
  EXPECT_EQ(mults.size(), 3u);  // one per channel, all equal
  EXPECT_EQ(mults[0].m, mults[2].m);
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(yq)});
}

TEST(IntSimulator, MismatchedDequantizeParamsFallBackToFloat) {
  // The DQ reads the int8 tensor with another scale than its Q wrote it with: the Conv
  // pattern does not match (it would mix the two), the nodes run literally and still agree.
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({1, 2, 4, 4}, 27, -1.f, 1.f));
  const ValueId xq = b.quantize(x);
  const ValueId s2 = b.constant("other_scale", Tensor::scalar<float>(b.scale_of(xq) * 2.f));
  const ValueId z2 = b.constant("other_zp", Tensor::scalar<int8_t>(0));
  const ValueId xd = b.op("DequantizeLinear", {xq, s2, z2});
  const ValueId w = b.weight("w", testing::random_tensor({2, 2, 1, 1}, 28, -1.f, 1.f), 0);
  const ValueId yq = b.quantize(b.op("Conv", {xd, w}));
  b.output(yq);  // an int8 graph output keeps its dtype
  const Graph g = b.finish();
  const IntProgram p = lowered(g);
  // Q (quantize), DQ x (float), Conv (float), Q (quantize); DQ W was folded to a constant.
  expect_steps(p, {{StepKind::kQuantize, 2}, {StepKind::kFloat, 2}});
  testing::expect_sim_matches_float(g, b.inputs(), {1.f}, 0.0, 1.0);
}

TEST(IntSimulator, GemmAndMatMul) {
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({3, 16}, 8, -2.f, 2.f));
  const ValueId xq = b.quantize(x);
  const ValueId w = b.weight("w", testing::random_tensor({10, 16}, 9, -0.3f, 0.3f), 0);  // transB = 1: [N, K]
  std::vector<float> bias(10, 0.1f);
  const ValueId y = b.op("Gemm", {b.dequantize(xq), w, b.bias("b", bias, xq, "w")}, {{"transB", int64_t{1}}});
  const ValueId yq = b.quantize(y);
  const ValueId w2 = b.weight("w2", testing::random_tensor({10, 7}, 10, -0.3f, 0.3f), -1);  // MatMul B [K, N], axis -1
  const ValueId z = b.op("MatMul", {b.dequantize(yq), w2});
  const ValueId zq = b.quantize(z);
  const ValueId w3 = b.weight("w3", testing::random_tensor({7, 5}, 11, -0.3f, 0.3f), 1);  // Gemm transB = 0
  const ValueId u = b.op("Gemm", {b.dequantize(zq), w3});
  const ValueId uq = b.quantize(u);
  b.output(b.dequantize(uq));
  const Graph g = b.finish();
  expect_steps(lowered(g), {{StepKind::kQuantize, 1}, {StepKind::kConv, 3}, {StepKind::kDequantize, 1}});
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(uq)});
}

// int16 outputs (the higher-precision form): x -> conv1 3x3 + Relu -> conv2 1x1 -> Add with
// conv3(x) -> y, with conv1, conv2 and the Add in int16. Each lowers to its integer step with
// int16 tensors (no float fallback, the exact add rather than add_q15), and the simulator stays
// close to the float engine running the same QDQ graph.
TEST(IntSimulator, Int16OutputsLowerToIntegerSteps) {
  testing::GraphBuilder b;
  const ValueId x = b.input("x", {1, 3, 8, 8});
  const ValueId c1 = b.node("Conv", "conv1", {x, b.random("w1", {6, 3, 3, 3}, 31), b.random("b1", {6}, 32, -0.1f, 0.1f)},
                            {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const ValueId r1 = b.node("Relu", "relu1", {c1});
  const ValueId c2 = b.node("Conv", "conv2", {r1, b.random("w2", {4, 6, 1, 1}, 33)});
  const ValueId c3 = b.node("Conv", "conv3", {x, b.random("w3", {4, 3, 1, 1}, 34)});
  const ValueId y = b.node("Add", "add", {c2, c3});
  const Graph g = b.build({y});
  const auto samples = testing::seeded_samples({1, 3, 8, 8}, 35, 4, -1.f, 1.f);
  const auto t = testing::max_abs_thresholds(g, samples);
  QuantizeOptions o;
  o.int16_outputs = {"conv1", "conv2", "add"};
  auto q = quantize_graph(g, t, o);
  ASSERT_TRUE(q.ok()) << q.status().message();
  const IntProgram p = lowered(q->graph);
  expect_steps(p, {{StepKind::kQuantize, 1}, {StepKind::kConv, 3}, {StepKind::kAdd, 1}, {StepKind::kDequantize, 1}});
  int wide = 0;
  for (const ProgramTensor& pt : p.tensors)
    if (pt.dtype == DType::kInt16) {
      ++wide;
      ASSERT_TRUE(pt.quant.has_value()) << pt.name;
      EXPECT_EQ(pt.quant->zero_point, 0) << pt.name;
    }
  EXPECT_EQ(wide, 3) << program_text(p);  // relu1's, conv2's and the add's outputs
  // Tolerance: 16 steps of y's int16 scale (T/32767), one sixteenth of an int8 step (T/127
  // = 258 int16 steps). The two sides round each layer's output differently (half away from
  // zero on the exact accumulator against half even on a float32 sum), and an upstream code
  // that differs by one moves a downstream int16 output by the weights' l1 norm times the
  // step ratio: a few steps, where an int8 step absorbs it. Fewer elements agree exactly.
  const float step = t.at("add") / 32767.f;
  testing::expect_sim_matches_float(q->graph, {samples[0][0]}, {step}, 16.0, 0.2);
}

TEST(IntSimulator, AddReluAndMul) {
  QdqBuilder b;
  const ValueId x1 = b.input("x1", testing::random_tensor({1, 4, 5, 5}, 12, -1.f, 1.f));
  const ValueId x2 = b.input("x2", testing::random_tensor({1, 4, 1, 1}, 13, -3.f, 3.f));  // broadcast per channel
  const ValueId a = b.qdq(x1), c = b.qdq(x2);
  const ValueId sum = b.op("Relu", {b.op("Add", {a, c})});
  const ValueId sq = b.quantize(sum, true);
  const ValueId prod = b.op("Mul", {b.dequantize(sq), a});
  const ValueId pq = b.quantize(prod);
  b.output(b.dequantize(sq));
  b.output(b.dequantize(pq));
  const Graph g = b.finish();
  expect_steps(lowered(g), {{StepKind::kQuantize, 2}, {StepKind::kAddQ15, 1}, {StepKind::kMul, 1}, {StepKind::kDequantize, 2}});
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(sq), b.scale_of(pq)});
}

TEST(IntSimulator, ConstantOperandAndProgramText) {
  // Mul by a constant read through DequantizeLinear (int8 per tensor) is integer too.
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({2, 3}, 29, -1.f, 1.f));
  const ValueId k = b.op("DequantizeLinear", {b.constant("k_quantized", Tensor::from_vector<int8_t>({3}, {-100, 50, 127})),
                                               b.constant("k_scale", Tensor::scalar<float>(0.02f)),
                                               b.constant("k_zero_point", Tensor::scalar<int8_t>(0))});
  const ValueId yq = b.quantize(b.op("Mul", {b.qdq(x), k}));
  b.output(b.dequantize(yq));
  const Graph g = b.finish();
  const IntProgram p = lowered(g);
  expect_steps(p, {{StepKind::kQuantize, 1}, {StepKind::kMul, 1}, {StepKind::kDequantize, 1}});
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(yq)});
  const std::string text = program_text(p);
  EXPECT_NE(text.find("k_quantized int8 3 q(0.02, 0) const"), std::string::npos) << text;
  EXPECT_NE(text.find("s1 mul(Mul_"), std::string::npos) << text;
  EXPECT_NE(text.find("[out dims [2 3], a strides [3 1], b strides [0 1], multipliers 1, lo -128, hi 127]"), std::string::npos) << text;
}

TEST(IntSimulator, ConcatRequantizesAndCopies) {
  QdqBuilder b;
  const ValueId x1 = b.input("x1", testing::random_tensor({1, 2, 4, 4}, 14, -1.f, 1.f));
  const ValueId x2 = b.input("x2", testing::random_tensor({1, 3, 4, 4}, 15, -4.f, 4.f));
  const ValueId q1 = b.quantize(x1), q2 = b.quantize(x2);
  const ValueId cat = b.op("Concat", {b.dequantize(q1), b.dequantize(q2)}, {{"axis", int64_t{1}}});
  const ValueId cq = b.qdq_like(cat, q2);  // x2's scale: x2 copied, x1 requantized
  b.output(cq);
  const Graph g = b.finish();
  const IntProgram p = lowered(g);
  expect_steps(p, {{StepKind::kQuantize, 2}, {StepKind::kConcat, 1}, {StepKind::kDequantize, 1}});
  EXPECT_EQ(p.steps[2].as<ConcatParams>().requant, (std::vector<uint8_t>{1, 0}));
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(q2)});
}

TEST(IntSimulator, PoolsAndMoves) {
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({1, 3, 9, 9}, 16, -1.f, 1.f));
  const ValueId xq = b.quantize(x);
  const ValueId mp = b.op("MaxPool", {b.dequantize(xq)}, {{"kernel_shape", std::vector<int64_t>{3, 3}},
                                                          {"strides", std::vector<int64_t>{2, 2}},
                                                          {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const ValueId mq = b.qdq_like(mp, xq);
  const ValueId ap = b.op("AveragePool", {mq}, {{"kernel_shape", std::vector<int64_t>{3, 3}},
                                               {"pads", std::vector<int64_t>{1, 1, 1, 1}},
                                               {"count_include_pad", int64_t{0}}});
  const ValueId aq = b.quantize(ap);
  const ValueId ap2 = b.op("AveragePool", {b.dequantize(aq)}, {{"kernel_shape", std::vector<int64_t>{2, 2}},
                                                               {"pads", std::vector<int64_t>{1, 1, 0, 0}},
                                                               {"count_include_pad", int64_t{1}}});
  const ValueId a2q = b.quantize(ap2);
  const ValueId t = b.op("Transpose", {b.dequantize(a2q)}, {{"perm", std::vector<int64_t>{0, 2, 3, 1}}});
  const ValueId tq = b.qdq_like(t, a2q);
  const ValueId shape = b.constant("shape", Tensor::from_vector<int64_t>({2}, {1, -1}));
  const ValueId rs = b.op("Reshape", {tq, shape});
  const ValueId rq = b.qdq_like(rs, a2q);
  const ValueId pads = b.constant("pads", Tensor::from_vector<int64_t>({4}, {0, 2, 0, 1}));
  const ValueId pv = b.constant("pad_value", Tensor::scalar<float>(0.25f));
  const ValueId pd = b.op("Pad", {rq, pads, pv});
  const ValueId pq = b.qdq_like(pd, a2q);
  const ValueId gp = b.op("GlobalAveragePool", {b.dequantize(aq)});
  const ValueId gq = b.quantize(gp);
  b.output(pq);
  b.output(b.dequantize(gq));
  const Graph g = b.finish();
  expect_steps(lowered(g), {{StepKind::kQuantize, 1}, {StepKind::kMaxPool, 1}, {StepKind::kAvgPool, 3},
                            {StepKind::kMove, 3}, {StepKind::kDequantize, 2}});
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(a2q), b.scale_of(gq)});
}

TEST(IntSimulator, SpatialReduceIsGlobalPoolingAndOtherAxesStayFloat) {
  // ReduceMean / ReduceMax over H and W (squeeze-excitation blocks) are global average / max
  // pooling; over the channels they have no integer form and run in float.
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({1, 3, 4, 5}, 31, -1.f, 1.f));
  const ValueId xq = b.quantize(x);
  const ValueId mean = b.op("ReduceMean", {b.dequantize(xq)}, {{"axes", std::vector<int64_t>{-1, 2}}});
  const ValueId mq = b.quantize(mean);
  const ValueId mx = b.op("ReduceMax", {b.dequantize(xq)}, {{"axes", std::vector<int64_t>{2, 3}}, {"keepdims", int64_t{0}}});
  const ValueId xx = b.qdq_like(mx, xq);
  const ValueId ch = b.op("ReduceMean", {b.dequantize(xq)}, {{"axes", std::vector<int64_t>{1}}});
  const ValueId cq = b.quantize(ch);
  b.output(b.dequantize(mq));
  b.output(xx);
  b.output(b.dequantize(cq));
  const Graph g = b.finish();
  expect_steps(lowered(g), {{StepKind::kQuantize, 2}, {StepKind::kAvgPool, 1}, {StepKind::kMaxPool, 1},
                            {StepKind::kFloat, 1}, {StepKind::kDequantize, 4}});
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(mq), b.scale_of(xq), b.scale_of(cq)});
}

TEST(IntSimulator, PReluWithOneSlopeIsATableAndPerChannelSlopesATablePerChannel) {
  // Every channel's slope equal: a table, like LeakyRelu. Per-channel slopes: one table per
  // channel (src/steps/channel_lut/).
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({1, 2, 3, 3}, 32, -2.f, 2.f));
  const ValueId xd = b.qdq(x);
  const ValueId same = b.constant("same", Tensor::from_vector<float>({2, 1, 1}, {0.25f, 0.25f}));
  const ValueId pq = b.quantize(b.op("PRelu", {xd, same}));
  const ValueId diff = b.constant("diff", Tensor::from_vector<float>({2, 1, 1}, {0.25f, 0.5f}));
  const ValueId dq = b.quantize(b.op("PRelu", {xd, diff}));
  b.output(b.dequantize(pq));
  b.output(b.dequantize(dq));
  const Graph g = b.finish();
  expect_steps(lowered(g), {{StepKind::kQuantize, 1}, {StepKind::kLut, 1}, {StepKind::kChannelLut, 1},
                            {StepKind::kDequantize, 2}});
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(pq), b.scale_of(dq)}, 0.0, 1.0);
}

TEST(IntSimulator, MoreMovesKeepTheScale) {
  // Resize nearest, Slice, Split, Flatten, Unsqueeze, Identity, Squeeze on the 8-bit values.
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({1, 4, 3, 5}, 24, -1.f, 1.f));
  const ValueId xq = b.quantize(x);
  const ValueId scales = b.constant("scales", Tensor::from_vector<float>({4}, {1.f, 1.f, 2.f, 1.5f}));
  const ValueId rz = b.op("Resize", {b.dequantize(xq), kNoValue, scales},
                          {{"mode", std::string("nearest")}, {"coordinate_transformation_mode", std::string("asymmetric")}});
  const ValueId r1 = b.qdq_like(rz, xq);
  const ValueId starts = b.constant("starts", Tensor::from_vector<int64_t>({1}, {1}));
  const ValueId ends = b.constant("ends", Tensor::from_vector<int64_t>({1}, {5}));
  const ValueId axes = b.constant("axes", Tensor::from_vector<int64_t>({1}, {2}));
  const ValueId sl = b.qdq_like(b.op("Slice", {r1, starts, ends, axes}), xq);
  const ValueId split = b.constant("split", Tensor::from_vector<int64_t>({2}, {1, 3}));
  const auto parts = b.ops("Split", {sl, split}, {{"axis", int64_t{1}}}, 2);
  const ValueId p0 = b.qdq_like(parts[0], xq), p1 = b.qdq_like(parts[1], xq);
  const ValueId fl = b.qdq_like(b.op("Flatten", {p1}, {{"axis", int64_t{2}}}), xq);
  const ValueId ax0 = b.constant("ax0", Tensor::from_vector<int64_t>({1}, {0}));
  const ValueId un = b.qdq_like(b.op("Unsqueeze", {fl, ax0}), xq);
  const ValueId id = b.qdq_like(b.op("Identity", {un}), xq);
  const ValueId sq = b.qdq_like(b.op("Squeeze", {id, ax0}), xq);
  b.output(p0);
  b.output(sq);
  const Graph g = b.finish();
  expect_steps(lowered(g), {{StepKind::kQuantize, 1}, {StepKind::kMove, 7}, {StepKind::kDequantize, 2}});
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(xq), b.scale_of(xq)}, 0.0, 1.0);
}

TEST(IntSimulator, SigmoidAndTanhTables) {
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({2, 300}, 17, -6.f, 6.f));
  const ValueId xd = b.qdq(x);
  const ValueId sq = b.quantize(b.op("Sigmoid", {xd}), true);
  const ValueId tq = b.quantize(b.op("Tanh", {xd}));
  const ValueId hq = b.quantize(b.op("HardSwish", {xd}));
  const ValueId lq = b.quantize(b.op("LeakyRelu", {xd}, {{"alpha", 0.1f}}));
  const ValueId lo = b.constant("lo", Tensor::scalar<float>(-1.f)), hi = b.constant("hi", Tensor::scalar<float>(2.f));
  const ValueId cq = b.quantize(b.op("Clip", {xd, lo, hi}));
  for (ValueId q : {sq, tq, hq, lq, cq}) b.output(b.dequantize(q));
  const Graph g = b.finish();
  expect_steps(lowered(g), {{StepKind::kQuantize, 1}, {StepKind::kLut, 5}, {StepKind::kDequantize, 5}});
  // A table is Q(f(DQ(q))) with the same float eval: exactly the float path.
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(sq), b.scale_of(tq), b.scale_of(hq), b.scale_of(lq), b.scale_of(cq)},
                                    0.0, 1.0);
}

TEST(IntSimulator, SoftmaxStaysFloatOnCpu) {
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({1, 12}, 18, -1.f, 1.f));
  const ValueId xq = b.quantize(x);
  const ValueId w = b.weight("w", testing::random_tensor({10, 12}, 19, -1.f, 1.f), 0);
  const ValueId y = b.op("Gemm", {b.dequantize(xq), w}, {{"transB", int64_t{1}}});
  const ValueId yd = b.qdq(y);
  b.output(b.op("Softmax", {yd}));
  const Graph g = b.finish();
  const IntProgram p = lowered(g);
  expect_steps(p, {{StepKind::kQuantize, 1}, {StepKind::kConv, 1}, {StepKind::kDequantize, 1}, {StepKind::kFloat, 1}});
  EXPECT_EQ(p.stats().float_steps, 1);
  // Softmax of a one-step error in its logits moves a probability by at most about one step.
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(b.quantize(y)) * 0.5f}, 1.0, 0.5);
}

TEST(IntSimulator, Uint8ImageInputReadByDequantizeScaleOne) {
  QdqBuilder b;
  Tensor img(DType::kUInt8, {1, 3, 6, 6});
  for (int64_t i = 0; i < img.numel(); ++i) img.data<uint8_t>()[static_cast<size_t>(i)] = static_cast<uint8_t>((i * 37) % 256);
  const ValueId x = b.input("image", img);
  const ValueId s = b.constant("image_scale", Tensor::scalar<float>(1.f));
  const ValueId z = b.constant("image_zero_point", Tensor::scalar<uint8_t>(0));
  const ValueId xd = b.op("DequantizeLinear", {x, s, z});
  const ValueId w = b.weight("w", testing::random_tensor({4, 3, 3, 3}, 20, -0.02f, 0.02f), 0);
  const ValueId yq = b.quantize(b.op("Relu", {b.op("Conv", {xd, w})}), true);
  b.output(b.dequantize(yq));
  const Graph g = b.finish();
  const IntProgram p = lowered(g);
  expect_steps(p, {{StepKind::kConv, 1}, {StepKind::kDequantize, 1}});
  EXPECT_EQ(p.tensors[static_cast<size_t>(p.inputs[0])].dtype, DType::kUInt8);
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(yq)});
}

TEST(IntSimulator, UnmatchedNodesRunInFloatAndAllValuesAreReported) {
  // Sub has no integer pattern: it runs literally in float between a DQ and a Q.
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({4, 4}, 21, -1.f, 1.f));
  const ValueId xd = b.qdq(x);
  const ValueId d = b.op("Sub", {xd, b.constant("c", Tensor::scalar<float>(0.25f))});
  const ValueId dq = b.quantize(d);
  const ValueId out = b.dequantize(dq);
  b.output(out);
  const Graph g = b.finish();
  const IntProgram p = lowered(g);
  expect_steps(p, {{StepKind::kQuantize, 2}, {StepKind::kDequantize, 2}, {StepKind::kFloat, 1}});
  testing::expect_sim_matches_float(g, b.inputs(), {b.scale_of(dq)}, 0.0, 1.0);
  auto sim = IntSimulator::create(g, true);
  ASSERT_TRUE(sim.ok());
  ASSERT_TRUE(sim->run(b.inputs()).ok());
  for (const Value& v : g.values)
    if (!v.constant) {
      EXPECT_TRUE(sim->all_values().count(v.name)) << v.name;
    }
}

TEST(IntSimulator, BadScaleIsAnErrorNamingTheNode) {
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({4}, 22));
  const ValueId q = b.quantize_with(x, 0.f, false);
  b.output(b.dequantize(q));
  Graph g = b.finish();
  auto p = lower_qdq_graph(g);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("QuantizeLinear 'QuantizeLinear_0': scale 0"), std::string::npos)
      << p.status().message();
}

TEST(IntSimulator, WrongInputIsAnError) {
  QdqBuilder b;
  const ValueId x = b.input("x", testing::random_tensor({4}, 23));
  b.output(b.qdq(x));
  auto sim = IntSimulator::create(b.finish());
  ASSERT_TRUE(sim.ok());
  auto r = sim->run({Tensor(DType::kFloat32, {5})});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input 'x' is float32 5: the model expects float32 4"), std::string::npos)
      << r.status().message();
}

}  // namespace
}  // namespace qmap
