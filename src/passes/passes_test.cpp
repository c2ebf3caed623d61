// Tests of the float canonicalization passes: structure after the pass (IR text or op
// sequence) and unchanged float numerics on seeded random inputs.
#include "passes/passes.h"

#include "passes/pass_test_util.h"

namespace qmap {
namespace {

using testing::GraphBuilder;
using testing::op_sequence;
using testing::expect_untouched;
using testing::run_pass;
using testing::same_numerics;

TEST(FoldBatchnorm, ConvBnReluFoldsIntoConvWeights) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 3, 6, 6});
  const ValueId conv = b.node("Conv", "conv1", {x, b.random("w", {4, 3, 3, 3}, 1), b.random("bias", {4}, 2)},
                              {{"pads", Dims{1, 1, 1, 1}}});
  const ValueId y = b.node("Relu", "relu1", {b.batchnorm("bn1", conv, 4, 10)});
  const Graph before = b.build({y});
  PassLog log;
  const Graph after = run_pass(fold_batchnorm, before, &log);
  EXPECT_EQ(dump_graph(after),
            "graph '' opset 17\n"
            "input  %x: float32[1x3x6x6]\n"
            "const  %conv1_W: float32[4x3x3x3]\n"
            "const  %conv1_B: float32[4]\n"
            "%bn1: float32[1x4x6x6] = Conv 'conv1' (%x, %conv1_W, %conv1_B) {pads=[1,1,1,1]}\n"
            "%relu1: float32[1x4x6x6] = Relu 'relu1' (%bn1)\n"
            "output %relu1\n");
  EXPECT_EQ(log, (PassLog{"fold_batchnorm: 'bn1' folded into Conv 'conv1'"}));
  EXPECT_TRUE(same_numerics(before, after, 100));
}

TEST(FoldBatchnorm, ConvWithoutBiasAndBnAsGraphOutput) {
  GraphBuilder b;
  const ValueId x = b.input("x", {2, 2, 5, 5});
  const ValueId conv = b.node("Conv", "conv", {x, b.random("w", {6, 1, 3, 3}, 3)}, {{"group", int64_t{2}}});
  const Graph before = b.build({b.batchnorm("bn", conv, 6, 20)});
  const Graph after = run_pass(fold_batchnorm, before);
  EXPECT_EQ(op_sequence(after), "Conv");
  EXPECT_EQ(after.value(after.outputs[0]).name, "bn");
  EXPECT_TRUE(same_numerics(before, after, 101));
}

TEST(FoldBatchnorm, ConvTransposeGroupedAndGemm) {
  for (int64_t trans_b : {0, 1}) {
    GraphBuilder b;
    const ValueId x = b.input("x", {1, 4, 3, 3});
    // ConvTranspose W [Cin 4, Cout/group 3, 2, 2], group 2: Cout 6.
    const ValueId ct = b.node("ConvTranspose", "ct", {x, b.random("w", {4, 3, 2, 2}, 4)},
                              {{"group", int64_t{2}}, {"strides", Dims{2, 2}}});
    const ValueId bn1 = b.batchnorm("bn_ct", ct, 6, 30);
    const ValueId a = b.input("a", {3, 5});
    const ValueId gemm = b.node("Gemm", "fc",
                                {a, b.random("fc_w", trans_b ? Dims{7, 5} : Dims{5, 7}, 5), b.random("fc_c", {7}, 6)},
                                {{"transB", trans_b}, {"alpha", 0.5f}, {"beta", 2.f}});
    const ValueId bn2 = b.batchnorm("bn_fc", gemm, 7, 40);
    const Graph before = b.build({bn1, bn2});
    PassLog log;
    const Graph after = run_pass(fold_batchnorm, before, &log);
    EXPECT_EQ(op_sequence(after), "ConvTranspose Gemm") << "transB " << trans_b;
    EXPECT_EQ(log.size(), 2u);
    EXPECT_TRUE(same_numerics(before, after, 102)) << "transB " << trans_b;
  }
}

TEST(FoldBatchnorm, StandaloneBnBecomesDepthwiseConv) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 3, 4, 4});
  const ValueId conv = b.node("Conv", "conv", {x, b.random("w", {3, 3, 1, 1}, 7)});
  // conv's output has two readers, so the BN cannot fold into it.
  const ValueId bn = b.batchnorm("bn", conv, 3, 50);
  const ValueId y = b.node("Add", "add", {bn, conv});
  const ValueId r = b.node("Relu", "relu", {x});
  const ValueId bn2 = b.batchnorm("bn2", r, 3, 60);
  const ValueId flat = b.input("f", {2, 3});
  const ValueId bn3 = b.batchnorm("bn3", flat, 3, 70);  // 2-D: stays a BN
  const Graph before = b.build({y, bn2, bn3});
  PassLog log;
  const Graph after = run_pass(fold_batchnorm, before, &log);
  EXPECT_EQ(op_sequence(after), "Conv Conv Add Relu Conv BatchNormalization");
  EXPECT_EQ(log, (PassLog{"fold_batchnorm: 'bn' became a depthwise 1x1 Conv",
                          "fold_batchnorm: 'bn2' became a depthwise 1x1 Conv"}));
  const Node& dw = after.nodes[1];
  EXPECT_EQ(dw.name, "bn");
  EXPECT_EQ(attr_int(dw, "group", 1), 3);
  EXPECT_EQ(*after.value(dw.inputs[1]).dims, (Dims{3, 1, 1, 1}));
  EXPECT_TRUE(same_numerics(before, after, 103));
}

TEST(FoldScaleIntoConv, MulAddSubDivByPerChannelConstants) {
  struct Case {
    const char* op;
    bool const_first;
    Dims c_dims;
    bool folds;
  };
  const Case cases[] = {
      {"Mul", false, {1, 4, 1, 1}, true}, {"Add", true, {4, 1, 1}, true},  {"Sub", false, {1}, true},
      {"Sub", true, {4, 1, 1}, true},     {"Div", false, {4, 1, 1}, true}, {"Div", true, {4, 1, 1}, false},
      {"Mul", false, {1, 1, 5, 1}, false},  // varies along H: not per channel
      {"Add", false, {2, 4, 1, 1}, false},  // would broadcast N from 1 to 2
  };
  for (const Case& c : cases) {
    GraphBuilder b;
    const ValueId x = b.input("x", {1, 2, 5, 5});
    const ValueId conv = b.node("Conv", "conv", {x, b.random("w", {4, 2, 1, 1}, 8)});
    const ValueId k = b.random("k", c.c_dims, 9, 0.5f, 1.5f);
    const ValueId y = b.node(c.op, "scale", c.const_first ? std::vector{k, conv} : std::vector{conv, k});
    const Graph before = b.build({y});
    const Graph after = run_pass(fold_scale_into_conv, before);
    const std::string what = fmt::format("{} const_first {} c {}", c.op, c.const_first, dims_str(c.c_dims));
    EXPECT_EQ(op_sequence(after), c.folds ? "Conv" : "Conv " + std::string(c.op)) << what;
    EXPECT_TRUE(same_numerics(before, after, 104)) << what;
  }
}

TEST(FusePadIntoConv, PadIntoConvAndAveragePool) {
  struct Case {
    const char* consumer;
    int64_t count_include_pad;
    std::vector<int64_t> pads;
    const char* mode;
    bool fuses;
  };
  const Case cases[] = {
      {"Conv", 0, {0, 0, 1, 2, 0, 0, 2, 1}, "constant", true},
      {"AveragePool", 1, {0, 0, 1, 1, 0, 0, 1, 1}, "constant", true},
      {"AveragePool", 0, {0, 0, 1, 1, 0, 0, 1, 1}, "constant", false},  // zeros would not count
      {"Conv", 0, {1, 0, 1, 1, 0, 0, 1, 1}, "constant", false},         // pads the batch axis
      {"Conv", 0, {0, 0, 1, 1, 0, 0, 1, 1}, "reflect", false},
  };
  for (const Case& c : cases) {
    GraphBuilder b;
    const ValueId x = b.input("x", {1, 2, 5, 6});
    const ValueId p = b.node("Pad", "pad", {x, b.constant("pads", Tensor::from_vector<int64_t>({8}, c.pads))},
                             {{"mode", std::string(c.mode)}});
    ValueId y;
    if (std::string(c.consumer) == "Conv")
      y = b.node("Conv", "conv", {p, b.random("w", {3, 2, 3, 3}, 11)}, {{"pads", Dims{1, 0, 0, 1}}});
    else
      y = b.node("AveragePool", "pool", {p},
                 {{"kernel_shape", Dims{3, 3}}, {"count_include_pad", c.count_include_pad}});
    const Graph before = b.build({y});
    PassLog log;
    const Graph after = run_pass(fuse_pad_into_conv, before, &log);
    const std::string what = fmt::format("{} cip {} pads [{}] {}", c.consumer, c.count_include_pad,
                                         fmt::join(c.pads, ","), c.mode);
    EXPECT_EQ(op_sequence(after), c.fuses ? c.consumer : "Pad " + std::string(c.consumer)) << what;
    if (c.fuses && std::string(c.consumer) == "Conv") {
      EXPECT_EQ(attr_ints(after.nodes[0], "pads"), (Dims{2, 2, 2, 2})) << what;
      EXPECT_EQ(log, (PassLog{"fuse_pad_into_conv: Pad 'pad' merged into the pads of Conv 'conv'"}));
    }
    EXPECT_TRUE(same_numerics(before, after, 105)) << what;
  }
}

TEST(GemmToConv, FlattenGemmOnOneByOneMapBecomesConv) {
  for (int64_t trans_b : {0, 1}) {
    GraphBuilder b;
    const ValueId x = b.input("x", {2, 8, 4, 4});
    const ValueId gap = b.node("GlobalAveragePool", "gap", {x});
    const ValueId flat = b.node("Flatten", "flatten", {gap});
    const ValueId y = b.node("Gemm", "fc",
                             {flat, b.random("fc_w", trans_b ? Dims{5, 8} : Dims{8, 5}, 12), b.random("fc_b", {5}, 13)},
                             {{"transB", trans_b}, {"alpha", 1.5f}, {"beta", 0.5f}});
    const Graph before = b.build({b.node("Relu", "relu", {y})});
    PassLog log;
    const Graph after = run_pass(gemm_to_conv, before, &log);
    EXPECT_EQ(dump_graph(after),
              "graph '' opset 17\n"
              "input  %x: float32[2x8x4x4]\n"
              "const  %fc_W: float32[5x8x1x1]\n"
              "const  %fc_B: float32[5]\n"
              "%gap: float32[2x8x1x1] = GlobalAveragePool 'gap' (%x)\n"
              "%fc_nchw: float32[2x5x1x1] = Conv 'fc' (%gap, %fc_W, %fc_B) {kernel_shape=[1,1]}\n"
              "%fc: float32[2x5] = Flatten 'fc_flatten' (%fc_nchw) {axis=1}\n"
              "%relu: float32[2x5] = Relu 'relu' (%fc)\n"
              "output %relu\n")
        << "transB " << trans_b;
    EXPECT_EQ(log, (PassLog{"gemm_to_conv: Gemm 'fc' became a 1x1 Conv on 'gap' followed by Flatten 'fc_flatten'"}));
    EXPECT_TRUE(same_numerics(before, after, 106)) << "transB " << trans_b;
  }
}

TEST(GemmToConv, ReshapeMatMulAndLargerMapsLeftAlone) {
  for (int64_t hw : {1, 2}) {
    GraphBuilder b;
    const ValueId x = b.input("x", {3, 4, hw, hw});
    const ValueId r = b.node("Reshape", "reshape", {x, b.constant("shape", Tensor::from_vector<int64_t>({2}, {3, -1}))});
    const ValueId y = b.node("MatMul", "mm", {r, b.random("w", {4 * hw * hw, 6}, 14)});
    const Graph before = b.build({b.node("Relu", "relu", {y})});
    const Graph after = run_pass(gemm_to_conv, before);
    EXPECT_EQ(op_sequence(after), hw == 1 ? "Conv Flatten Relu" : "Reshape MatMul Relu") << "hw " << hw;
    EXPECT_TRUE(same_numerics(before, after, 107)) << "hw " << hw;
  }
}

// Exporters write Gemm as MatMul + Add (MobileNetV2's classifier): the Add becomes the bias.
TEST(GemmToConv, MatMulAddBiasBecomesConvBias) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 6, 1, 1});
  const ValueId r = b.node("Reshape", "reshape", {x, b.constant("shape", Tensor::from_vector<int64_t>({2}, {1, 6}))});
  const ValueId mm = b.node("MatMul", "mm", {r, b.random("w", {6, 4}, 16)});
  const ValueId y = b.node("Add", "bias", {b.random("c", {4}, 17), mm});
  const Graph before = b.build({b.node("Relu", "relu", {y})});
  PassLog log;
  const Graph after = run_pass(gemm_to_conv, before, &log);
  EXPECT_EQ(op_sequence(after), "Conv Flatten Relu");
  EXPECT_EQ(after.value(after.nodes[1].outputs[0]).name, "bias");
  EXPECT_EQ(after.nodes[0].inputs.size(), 3u);
  EXPECT_EQ(log, (PassLog{"gemm_to_conv: MatMul 'mm' with Add 'bias' became a 1x1 Conv on 'x' followed by Flatten 'mm_flatten'"}));
  EXPECT_TRUE(same_numerics(before, after, 109));
}

// A layer giving a graph output is left a Gemm (a MatMul + bias Add becomes one): the
// quantizer gives a Gemm's graph output in float from the int32 accumulator, where Conv +
// Flatten would requantize the logits to 8 bits first.
TEST(GemmToConv, GraphOutputLayerStaysAGemm) {
  {
    GraphBuilder b;
    const ValueId x = b.input("x", {2, 8, 1, 1});
    const ValueId flat = b.node("Flatten", "flatten", {x});
    const ValueId y = b.node("Gemm", "fc", {flat, b.random("fc_w", {5, 8}, 12), b.random("fc_b", {5}, 13)},
                             {{"transB", int64_t{1}}});
    expect_untouched(gemm_to_conv, b.build({y}), "Flatten Gemm");
  }
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 6, 1, 1});
  const ValueId r = b.node("Reshape", "reshape", {x, b.constant("shape", Tensor::from_vector<int64_t>({2}, {1, 6}))});
  const ValueId mm = b.node("MatMul", "mm", {r, b.random("w", {6, 4}, 16)});
  const ValueId y = b.node("Add", "bias", {b.random("c", {4}, 17), mm});
  const Graph before = b.build({y});
  PassLog log;
  const Graph after = run_pass(gemm_to_conv, before, &log);
  EXPECT_EQ(op_sequence(after), "Reshape Gemm");
  EXPECT_EQ(after.value(after.outputs[0]).name, "bias");
  EXPECT_EQ(after.nodes[1].inputs.size(), 3u);
  EXPECT_EQ(log, (PassLog{"gemm_to_conv: MatMul 'mm' with Add 'bias' became a Gemm with its bias: it gives the graph "
                          "output 'bias'"}));
  EXPECT_TRUE(same_numerics(before, after, 110));
}

// ShuffleNet's channel shuffle: Reshape [N, g, C/g, H, W] -> Transpose (0, 2, 1, 3, 4) ->
// Reshape [N, C, H, W]. A march's rank limit of 4 put all three on the CPU in float; after the
// pass every tensor is rank 4 or less and the result is the same.
TEST(ReduceTransposeRank, ChannelShuffleBecomesRankFour) {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 8, 3, 5});
  const ValueId r1 = b.node("Reshape", "r1", {x, b.constant("s1", Tensor::from_vector<int64_t>({5}, {1, 2, 4, 3, 5}))});
  const ValueId t = b.node("Transpose", "shuffle", {r1}, {{"perm", Dims{0, 2, 1, 3, 4}}});
  const ValueId r2 = b.node("Reshape", "r2", {t, b.constant("s2", Tensor::from_vector<int64_t>({4}, {1, -1, 3, 5}))});
  const Graph before = b.build({b.node("Relu", "relu", {r2})});
  PassLog log;
  const Graph after = run_pass(reduce_transpose_rank, before, &log);
  EXPECT_EQ(op_sequence(after), "Reshape Transpose Reshape Relu");
  for (const Value& v : after.values) {
    if (v.dims && !v.constant) {
      EXPECT_LE(v.dims->size(), 4u) << v.name;
    }
  }
  EXPECT_EQ(attr_ints(after.nodes[1], "perm"), (std::vector<int64_t>{0, 2, 1, 3}));
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0], "reduce_transpose_rank: Transpose 'shuffle' of rank 5 became a rank-4 Transpose between Reshapes "
                    "(perm [0,2,1,3])");
  EXPECT_TRUE(same_numerics(before, after, 111));
}

// A permutation that moves every axis on its own has nothing to merge; rank 4 is left alone.
TEST(ReduceTransposeRank, UnmergeablePermutationsAndRankFourStay) {
  for (const Dims& perm : {Dims{4, 3, 2, 1, 0}, Dims{0, 2, 4, 1, 3}}) {
    GraphBuilder b;
    const ValueId x = b.input("x", {2, 3, 2, 2, 3});
    expect_untouched(reduce_transpose_rank, b.build({b.node("Transpose", "t", {x}, {{"perm", perm}})}), "Transpose");
  }
  GraphBuilder b;
  const ValueId x = b.input("x", {2, 3, 4, 5});
  expect_untouched(reduce_transpose_rank, b.build({b.node("Transpose", "t", {x}, {{"perm", Dims{0, 2, 3, 1}}})}),
                   "Transpose");
}

TEST(CanonicalizeSubDiv, ConstantSubDivBecomeAddMul) {
  GraphBuilder b;
  const ValueId x = b.input("x", {2, 3});
  const ValueId c = b.random("c", {3}, 15, 0.5f, 2.f);
  const ValueId s = b.node("Sub", "sub", {x, c});
  const ValueId d = b.node("Div", "div", {s, c});
  const ValueId r = b.node("Sub", "rsub", {c, d});  // c - x: not an Add of a constant
  const Graph before = b.build({r});
  PassLog log;
  const Graph after = run_pass(canonicalize_sub_div, before, &log);
  EXPECT_EQ(op_sequence(after), "Add Mul Sub");
  EXPECT_EQ(log, (PassLog{"canonicalize_sub_div: Sub 'sub' became Add by the negated constant",
                          "canonicalize_sub_div: Div 'div' became Mul by the reciprocal constant"}));
  EXPECT_TRUE(same_numerics(before, after, 108));
}

TEST(CanonicalizeSubDiv, DivisionByAConstantWithAZeroStays) {
  GraphBuilder b;
  const ValueId x = b.input("x", {2, 3});
  const ValueId y = b.node("Div", "div", {x, b.constant("k", Tensor::from_vector<float>({3}, {1.f, 0.f, 2.f}))});
  Graph g = b.build({y});
  PassLog log;
  ASSERT_TRUE(canonicalize_sub_div(g, &log).ok());
  EXPECT_EQ(op_sequence(g), "Div");
  EXPECT_TRUE(log.empty());
}

}  // namespace
}  // namespace qmap
