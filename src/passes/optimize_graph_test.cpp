// Tests of fold_constants, remove_identity and the whole optimize_graph sequence on the
// blocks real models are made of (MobileNetV2's inverted residual, Caffe's Conv-BN-Scale).
#include "passes/passes.h"

#include "passes/pass_test_util.h"

namespace qmap {
namespace {

using testing::GraphBuilder;
using testing::op_sequence;
using testing::run_pass;
using testing::same_numerics;

// A copy of `g` after optimize_graph, which must succeed.
Graph optimized(const Graph& g, std::vector<std::string>* log, const OptimizeOptions& opts = {}) {
  Graph out = g;
  const Status st = optimize_graph(out, opts, log);
  EXPECT_TRUE(st.ok()) << st.message();
  return out;
}

TEST(FoldConstants, ConstantSubgraphsBecomeInitializers) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 16, 6, 6});
  // Weights stored transposed (32x16x3x3 = 4608 elements: more than shape inference folds).
  const ValueId wt = b.random("w_t", {16, 32, 3, 3}, 1);
  const ValueId w = b.node("Transpose", "w_transpose", {wt}, {{"perm", Dims{1, 0, 2, 3}}});
  const ValueId bias = b.node("Add", "bias_sum", {b.random("b1", {32}, 2), b.random("b2", {32}, 3)});
  const ValueId conv = b.node("Conv", "conv", {x, w, bias}, {{"pads", Dims{1, 1, 1, 1}}});
  // A constant computation that is a graph output stays a node: the model computes it.
  const ValueId k = b.node("Mul", "k", {b.random("k1", {2}, 4), b.random("k2", {2}, 5)});
  const Graph before = b.build({conv, k});
  PassLog log;
  const Graph after = run_pass(fold_constants, before, &log);
  EXPECT_EQ(op_sequence(after), "Conv Mul");
  EXPECT_EQ(log, (PassLog{"fold_constants: Transpose 'w_transpose' folded into constant 'w_transpose'",
                          "fold_constants: Add 'bias_sum' folded into constant 'bias_sum'"}));
  EXPECT_TRUE(after.value(after.nodes[0].inputs[1]).is_initializer);
  EXPECT_FALSE(after.find_value("w_t").has_value()) << "the unused source weights are pruned";
  EXPECT_TRUE(same_numerics(before, after, 200));
}

TEST(FoldConstants, ShapeArithmeticOfStaticTensorsFolds) {
  GraphBuilder b;
  const ValueId x = b.input("x", {2, 3, 4});
  const ValueId shape = b.node("Shape", "shape", {x});
  const ValueId y = b.node("Reshape", "reshape", {x, shape});
  const Graph before = b.build({y});
  const Graph after = run_pass(fold_constants, before);
  EXPECT_EQ(op_sequence(after), "Reshape");
  EXPECT_TRUE(same_numerics(before, after, 201));
}

TEST(RemoveIdentity, IdentityAndDropoutBypassedOutputNamesKept) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 2, 3, 3});
  const ValueId conv = b.node("Conv", "conv", {x, b.random("w", {2, 2, 1, 1}, 1)});
  const ValueId id = b.node("Identity", "id", {conv});
  const ValueId relu = b.node("Relu", "relu", {id});
  const ValueId y = b.node("Dropout", "drop", {relu});  // graph output: Relu writes 'drop'
  const ValueId passthrough = b.node("Identity", "id_in", {x});  // input -> output: must stay
  const Graph before = b.build({y, passthrough});
  PassLog log;
  const Graph after = run_pass(remove_identity, before, &log);
  EXPECT_EQ(dump_graph(after),
            "graph '' opset 17\n"
            "input  %x: float32[1x2x3x3]\n"
            "const  %w: float32[2x2x1x1]\n"
            "%conv: float32[1x2x3x3] = Conv 'conv' (%x, %w)\n"
            "%drop: float32[1x2x3x3] = Relu 'relu' (%conv)\n"
            "%id_in: float32[1x2x3x3] = Identity 'id_in' (%x)\n"
            "output %drop\n"
            "output %id_in\n");
  EXPECT_EQ(log, (PassLog{"remove_identity: Identity 'id' removed", "remove_identity: Dropout 'drop' removed"}));
  EXPECT_TRUE(same_numerics(before, after, 202));
}

// MobileNetV2 inverted residual: Conv-BN-Relu6, depthwise Conv-BN-Relu6, Conv-BN, + input.
TEST(OptimizeGraph, MobileNetBlockFoldsEveryBatchNorm) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 4, 8, 8});
  const ValueId six = b.constant("six", Tensor::scalar<float>(6.f));
  const ValueId zero = b.constant("zero", Tensor::scalar<float>(0.f));
  const ValueId c1 = b.node("Conv", "expand", {x, b.random("w1", {24, 4, 1, 1}, 1)});
  const ValueId r1 = b.node("Clip", "relu6_1", {b.batchnorm("bn1", c1, 24, 10), zero, six});
  const ValueId c2 = b.node("Conv", "dw", {r1, b.random("w2", {24, 1, 3, 3}, 2)},
                            {{"group", int64_t{24}}, {"pads", Dims{1, 1, 1, 1}}});
  const ValueId r2 = b.node("Clip", "relu6_2", {b.batchnorm("bn2", c2, 24, 20), zero, six});
  const ValueId c3 = b.node("Conv", "project", {r2, b.random("w3", {4, 24, 1, 1}, 3)});
  const ValueId y = b.node("Add", "residual", {b.batchnorm("bn3", c3, 4, 30), x});
  const Graph before = b.build({y});
  std::vector<std::string> log;
  const Graph after = optimized(before, &log);
  EXPECT_EQ(op_sequence(after), "Conv Clip Conv Clip Conv Add");
  EXPECT_EQ(log, (std::vector<std::string>{"fold_batchnorm: 'bn1' folded into Conv 'expand'",
                                           "fold_batchnorm: 'bn2' folded into Conv 'dw'",
                                           "fold_batchnorm: 'bn3' folded into Conv 'project'"}));
  EXPECT_TRUE(same_numerics(before, after, 203, 3.f));
}

// Caffe exports Convolution -> BatchNorm -> Scale -> ReLU as Conv, BN, Mul, Add, Relu.
TEST(OptimizeGraph, CaffeConvBnScaleReluBecomesConvRelu) {
  GraphBuilder b;
  const ValueId x = b.input("data", {1, 3, 7, 7});
  const ValueId conv = b.node("Conv", "conv1", {x, b.random("w", {8, 3, 3, 3}, 1), b.random("bias", {8}, 2)},
                              {{"strides", Dims{2, 2}}});
  const ValueId bn = b.batchnorm("bn1", conv, 8, 10);
  const ValueId mul = b.node("Mul", "scale1_mul", {bn, b.random("gamma", {1, 8, 1, 1}, 3)});
  const ValueId add = b.node("Add", "scale1_add", {mul, b.random("beta", {1, 8, 1, 1}, 4)});
  const ValueId y = b.node("Relu", "relu1", {add});
  const Graph before = b.build({y});
  std::vector<std::string> log;
  const Graph after = optimized(before, &log);
  EXPECT_EQ(op_sequence(after), "Conv Relu");
  EXPECT_EQ(log, (std::vector<std::string>{"fold_batchnorm: 'bn1' folded into Conv 'conv1'",
                                           "fold_scale_into_conv: Mul 'scale1_mul' folded into Conv 'conv1'",
                                           "fold_scale_into_conv: Add 'scale1_add' folded into Conv 'conv1'"}));
  EXPECT_TRUE(same_numerics(before, after, 204));
}

// A classifier tail: Pad -> Conv -> Sub(mean) -> Div(std) -> GAP -> Flatten -> Dropout -> Gemm.
TEST(OptimizeGraph, ClassifierTailReachesFixedPoint) {
  GraphBuilder b;
  const ValueId x = b.input("x", {2, 3, 6, 6});
  const ValueId pad = b.node("Pad", "pad", {x, b.constant("pads", Tensor::from_vector<int64_t>({8}, {0, 0, 1, 1, 0, 0, 1, 1}))});
  const ValueId conv = b.node("Conv", "conv", {pad, b.random("w", {5, 3, 3, 3}, 1)});
  const ValueId sub = b.node("Sub", "sub", {conv, b.random("m", {5, 1, 1}, 2)});
  const ValueId div = b.node("Div", "div", {sub, b.random("s", {5, 1, 1}, 3, 0.5f, 2.f)});
  const ValueId gap = b.node("GlobalAveragePool", "gap", {div});
  const ValueId flat = b.node("Flatten", "flatten", {gap});
  const ValueId drop = b.node("Dropout", "drop", {flat});
  const ValueId y = b.node("Gemm", "fc", {drop, b.random("fc_w", {10, 5}, 4), b.random("fc_b", {10}, 5)},
                           {{"transB", int64_t{1}}});
  const Graph before = b.build({y});
  std::vector<std::string> log;
  const Graph after = optimized(before, &log);
  EXPECT_EQ(op_sequence(after), "Conv GlobalAveragePool Flatten Gemm");  // the Gemm gives the output
  EXPECT_EQ(log.size(), 6u) << fmt::format("{}", fmt::join(log, "\n"));
  EXPECT_TRUE(same_numerics(before, after, 205));
  // A second run finds nothing to do.
  std::vector<std::string> again;
  (void)optimized(after, &again);
  EXPECT_TRUE(again.empty());
}

TEST(OptimizeGraph, DisabledPassesDoNotRun) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 2, 3, 3});
  const ValueId y = b.batchnorm("bn", b.node("Conv", "conv", {x, b.random("w", {2, 2, 1, 1}, 1)}), 2, 10);
  OptimizeOptions opts;
  opts.fold_batchnorm = false;
  std::vector<std::string> log;
  EXPECT_EQ(op_sequence(optimized(b.build({y}), &log, opts)), "Conv BatchNormalization");
  EXPECT_TRUE(log.empty());
}

}  // namespace
}  // namespace qmap
