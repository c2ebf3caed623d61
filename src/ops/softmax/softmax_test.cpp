#include <cmath>

#include "ops/common/elementwise_test_util.h"
#include "ops/common/helpers.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Softmax, DefaultLastAxisAndAxis0) {
  // Expected: numpy float64 softmax rounded to float32 (/usr/bin/python3).
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto out = testing::run_op("Softmax", {&x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near(
      (*out)[0], Tensor::from_vector<float>({2, 3}, {0.09003057330846786f, 0.2447284758090973f, 0.6652409434318542f,
                                                     0.09003057330846786f, 0.2447284758090973f, 0.6652409434318542f}),
      0, 1e-6));
  auto o0 = testing::run_op("Softmax", {&x}, {{"axis", int64_t{0}}});
  ASSERT_TRUE(o0.ok());
  EXPECT_TRUE(testing::tensors_near(
      (*o0)[0], Tensor::from_vector<float>({2, 3}, {0.04742587357759476f, 0.04742587357759476f, 0.04742587357759476f,
                                                    0.9525741338729858f, 0.9525741338729858f, 0.9525741338729858f}),
      0, 1e-6));
}

TEST(Softmax, LargeNumbersDoNotOverflow) {
  // test_softmax_large_number form: [10000, 10001, 10002, 10003] equals softmax([0, 1, 2, 3]).
  Tensor x = Tensor::from_vector<float>({1, 4}, {10000, 10001, 10002, 10003});
  auto out = testing::run_op("Softmax", {&x});
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(testing::tensors_near(
      (*out)[0], Tensor::from_vector<float>({1, 4}, {0.0320586f, 0.08714432f, 0.2368828f, 0.6439142f}), 0, 1e-6));
}

// Reference: each 1-D slice along `axis` normalized in double, one element at a time.
Tensor reference_softmax(const Tensor& x, int axis) {
  const Dims& d = x.dims();
  const Dims st = ops::strides_of(d);
  Tensor y(DType::kFloat32, d);
  auto xs = x.data<float>();
  auto ys = y.data<float>();
  for (int64_t flat = 0; flat < x.numel(); ++flat) {
    if ((flat / st[static_cast<size_t>(axis)]) % d[static_cast<size_t>(axis)] != 0) continue;  // slice starts only
    double mx = -INFINITY, sum = 0;
    for (int64_t j = 0; j < d[static_cast<size_t>(axis)]; ++j)
      mx = std::max(mx, double(xs[static_cast<size_t>(flat + j * st[static_cast<size_t>(axis)])]));
    for (int64_t j = 0; j < d[static_cast<size_t>(axis)]; ++j)
      sum += std::exp(double(xs[static_cast<size_t>(flat + j * st[static_cast<size_t>(axis)])]) - mx);
    for (int64_t j = 0; j < d[static_cast<size_t>(axis)]; ++j) {
      const size_t k = static_cast<size_t>(flat + j * st[static_cast<size_t>(axis)]);
      ys[k] = static_cast<float>(std::exp(double(xs[k]) - mx) / sum);
    }
  }
  return y;
}

TEST(Softmax, MatchesReferenceOnEveryAxisOfOddShapes) {
  const Dims shapes[] = {{7}, {3, 5}, {2, 3, 5}, {1, 7, 3, 3}, {3, 1, 4, 5}};
  uint32_t seed = 7;
  for (const Dims& d : shapes) {
    Tensor x = testing::random_tensor(d, ++seed, -8.f, 8.f);
    for (int axis = 0; axis < static_cast<int>(d.size()); ++axis) {
      auto out = testing::run_op("Softmax", {&x}, {{"axis", int64_t{axis - static_cast<int>(d.size())}}});
      ASSERT_TRUE(out.ok());
      EXPECT_TRUE(testing::tensors_near((*out)[0], reference_softmax(x, axis), 1e-7, 1e-6))
          << "shape " << dims_str(d) << " axis " << axis << " seed " << seed;
    }
  }
}

TEST(Softmax, Errors) {
  Tensor x(DType::kFloat32, {2, 3});
  EXPECT_TRUE(testing::fails_with(testing::run_op("Softmax", {&x}, {{"axis", int64_t{2}}}),
                                  "axis 2 is out of range for a rank-2 input"));
  Tensor s = Tensor::scalar<float>(1.f);
  EXPECT_TRUE(testing::fails_with(testing::run_op("Softmax", {&s}), "Softmax needs rank >= 1"));
  EXPECT_EQ(testing::param_ints(testing::npu_params_of("Softmax", {&x}), "axis"), (std::vector<int64_t>{1}));
}

TEST(Softmax, UpgradeKeepsOpset13Alone) {
  auto g = testing::one_node_graph("Softmax", {Dims{2, 3, 4}}, {{"axis", int64_t{1}}});
  ASSERT_TRUE(op_def(OpId::Softmax).upgrade_onnx(g.graph, 13, g.nodes).ok());
  ASSERT_EQ(g.nodes.size(), 1u);
  EXPECT_EQ(attr_int(g.nodes[0], "axis", 0), 1);
}

TEST(Softmax, UpgradeSingleNodeWhenOneAxisIsNormalized) {
  // Old default axis 1 on NxC logits, on Nx1000x1x1, and an explicit last axis: one Softmax.
  struct Case { Dims dims; std::map<std::string, AttrValue> attrs; int64_t axis; };
  const Case cases[] = {{{1, 1000}, {}, -1},
                        {{1, 1000, 1, 1}, {}, -3},
                        {{2, 3, 4}, {{"axis", int64_t{-1}}}, -1},
                        {{2, 3, 1, 4}, {{"axis", int64_t{2}}}, -1},
                        {{-1, 10}, {}, -1}};  // dynamic batch
  for (const Case& c : cases) {
    auto g = testing::one_node_graph("Softmax", {c.dims}, c.attrs);
    ASSERT_TRUE(op_def(OpId::Softmax).upgrade_onnx(g.graph, 11, g.nodes).ok());
    ASSERT_EQ(g.nodes.size(), 1u) << dims_str(c.dims);
    EXPECT_EQ(attr_int(g.nodes[0], "axis", 0), c.axis) << dims_str(c.dims);
    EXPECT_EQ(g.nodes[0].outputs, std::vector<ValueId>{1});
  }
}

TEST(Softmax, UpgradeFlattensWhenSeveralTrailingAxes) {
  // Softmax-11 axis 1 on 2x3x4 normalizes over 12 elements: Shape, Flatten(1), Softmax(-1),
  // Reshape. Needs the tensor family's ops; until they are merged the hook must say so.
  for (const std::optional<Dims>& dims : {std::optional<Dims>(Dims{2, 3, 4}), std::optional<Dims>()}) {
    auto g = testing::one_node_graph("Softmax", {dims}, {});
    const Status st = op_def(OpId::Softmax).upgrade_onnx(g.graph, 11, g.nodes);
    if (!op_by_name("Flatten") || !op_by_name("Reshape") || !op_by_name("Shape")) {
      EXPECT_TRUE(testing::fails_with(st, "needs op"));
      continue;
    }
    ASSERT_TRUE(st.ok()) << st.message();
    ASSERT_EQ(g.nodes.size(), 4u);
    const Node &shape = g.nodes[0], &flat = g.nodes[1], &soft = g.nodes[2], &reshape = g.nodes[3];
    EXPECT_EQ(shape.op_type, "Shape");
    EXPECT_EQ(shape.inputs, std::vector<ValueId>{0});
    EXPECT_EQ(flat.op_type, "Flatten");
    EXPECT_EQ(flat.inputs, std::vector<ValueId>{0});
    EXPECT_EQ(attr_int(flat, "axis", 0), 1);
    EXPECT_EQ(soft.op, OpId::Softmax);
    EXPECT_EQ(soft.inputs, flat.outputs);
    EXPECT_EQ(attr_int(soft, "axis", 0), -1);
    EXPECT_EQ(reshape.op_type, "Reshape");
    EXPECT_EQ(reshape.inputs, (std::vector<ValueId>{soft.outputs[0], shape.outputs[0]}));
    EXPECT_EQ(reshape.outputs, std::vector<ValueId>{1});
  }
}

TEST(Softmax, UpgradeRejectsAxisOutOfRange) {
  auto g = testing::one_node_graph("Softmax", {Dims{2, 3}}, {{"axis", int64_t{3}}});
  EXPECT_TRUE(testing::fails_with(op_def(OpId::Softmax).upgrade_onnx(g.graph, 11, g.nodes), "axis 3 is out of range"));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Softmax, testing::unary_example("Softmax", {{"axis", int64_t{1}}}));

}  // namespace
}  // namespace qmap
