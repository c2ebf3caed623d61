#include "ops/common/conv_pool_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

using testing::fails_with;
using testing::infer_op;
using testing::Ints;

Tensor arange9() {
  std::vector<float> v(9);
  for (int i = 0; i < 9; ++i) v[static_cast<size_t>(i)] = static_cast<float>(i);
  return Tensor::from_vector<float>({1, 1, 3, 3}, v);
}

Tensor ones(Dims dims) {
  Tensor t(DType::kFloat32, std::move(dims));
  for (float& e : t.data<float>()) e = 1.f;
  return t;
}

TEST(ConvTransposeOp, ShapeInference) {
  // out = stride * (in - 1) + output_padding + (k - 1) * dilation + 1 - pads.
  auto r = infer_op("ConvTranspose", {{Dims{1, 4, 7, 7}}, {Dims{4, 3, 4, 4}}, {Dims{6}}},
                    {{"strides", Ints{2, 2}}, {"pads", Ints{1, 1, 1, 1}}, {"group", int64_t{2}}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(*r.outputs[0].dims, (Dims{1, 6, 14, 14}));
  r = infer_op("ConvTranspose", {{Dims{1, 1, 3}}, {Dims{1, 2, 3}}},
               {{"auto_pad", std::string("SAME_UPPER")}, {"strides", Ints{2}}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(*r.outputs[0].dims, (Dims{1, 2, 6}));
  r = infer_op("ConvTranspose", {{Dims{1, 1, 3, 3}}, {Dims{1, 2, 3, 3}}},
               {{"output_shape", Ints{10, 8}}, {"strides", Ints{3, 2}}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(*r.outputs[0].dims, (Dims{1, 2, 10, 8}));
  EXPECT_EQ(testing::find_param(r.params, "out_channels")->ints, (Ints{2}));
  r = infer_op("ConvTranspose", {{std::nullopt}, {Dims{1, 2, 3, 3}}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.outputs[0].dims.has_value());
}

TEST(ConvTransposeOp, Rejections) {
  EXPECT_TRUE(fails_with(infer_op("ConvTranspose", {{Dims{1, 3, 4, 4}}, {Dims{2, 2, 3, 3}}}).status,
                         "dim 0 must equal the input channels 3"));
  EXPECT_TRUE(fails_with(infer_op("ConvTranspose", {{Dims{1, 2, 4, 4}}, {Dims{2, 2, 3, 3}}},
                                  {{"output_padding", Ints{2, 0}}, {"strides", Ints{2, 2}}}).status,
                         "output_padding 2 along axis 0 must be smaller than the stride 2"));
  EXPECT_TRUE(fails_with(infer_op("ConvTranspose", {{Dims{1, 2, 4, 4}}, {Dims{2, 2, 3, 3}}},
                                  {{"output_shape", Ints{8}}}).status,
                         "must have 2 spatial sizes"));
  EXPECT_TRUE(fails_with(infer_op("ConvTranspose", {{Dims{1, 2, 2, 2}}, {Dims{2, 2, 3, 3}}},
                                  {{"pads", Ints{2, 2, 2, 2}}}).status,
                         "is not positive"));
  EXPECT_TRUE(fails_with(infer_op("ConvTranspose", {{Dims{1, 2, 4, 4}}, {Dims{2, 2, 3, 3}}, {Dims{3}}}).status,
                         "bias B has shape 3: must be [2]"));
}

TEST(ConvTransposeOp, FloatGolden) {
  // ONNX ConvTranspose documentation (test_convtranspose): x = 0..8 as 1x1x3x3, W = ones
  // 1x2x3x3; both output channels equal this 5x5.
  Tensor x = arange9();
  Tensor w = ones({1, 2, 3, 3});
  auto y = testing::run_op("ConvTranspose", {&x, &w});
  ASSERT_TRUE(y.ok()) << y.status().message();
  const std::vector<float> plane{0, 1, 3, 3, 2, 3, 8, 15, 12, 7, 9, 21, 36, 27, 15,
                                 9, 20, 33, 24, 13, 6, 13, 21, 15, 8};
  std::vector<float> both = plane;
  both.insert(both.end(), plane.begin(), plane.end());
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({1, 2, 5, 5}, both)));
}

TEST(ConvTransposeOp, OutputShapeLargerThanFullKeepsBiasOnly) {
  // ONNX test_convtranspose_output_shape: the unpadded output is 9x7, output_shape asks 10x8;
  // the extra last row / column receive no taps (expected rows from the ONNX test data:
  // first row 0 0 1 1 3 2 2 0, last row zeros). A bias of 0.5 shows there.
  Tensor x = arange9();
  Tensor w = ones({1, 2, 3, 3});
  Tensor b = Tensor::from_vector<float>({2}, {0.5f, 0.5f});
  auto y = testing::run_op("ConvTranspose", {&x, &w, &b},
                           {{"output_shape", Ints{10, 8}}, {"strides", Ints{3, 2}}});
  ASSERT_TRUE(y.ok()) << y.status().message();
  ASSERT_EQ((*y)[0].dims(), (Dims{1, 2, 10, 8}));
  auto v = (*y)[0].data<float>();
  const float row0[8] = {0, 0, 1, 1, 3, 2, 2, 0};
  for (int i = 0; i < 8; ++i) {
    EXPECT_FLOAT_EQ(v[static_cast<size_t>(i)], row0[i] + 0.5f) << i;
    EXPECT_FLOAT_EQ(v[static_cast<size_t>(72 + i)], 0.5f) << i;
  }
}

TEST(ConvTransposeOp, ThreeDReferenceMatchesTwoDFastPath) {
  // A 3-D transposed conv with a unit depth axis equals the 2-D one (reference loop vs the
  // sgemm + col2im path), with groups, bias, strides, pads and output_padding.
  Tensor x = testing::random_tensor({2, 4, 5, 6}, 11);
  Tensor w = testing::random_tensor({4, 3, 3, 2}, 12);
  Tensor b = testing::random_tensor({6}, 13);
  const std::map<std::string, AttrValue> a2{{"group", int64_t{2}}, {"strides", Ints{2, 3}},
                                            {"pads", Ints{1, 0, 0, 1}}, {"output_padding", Ints{1, 2}}};
  const std::map<std::string, AttrValue> a3{{"group", int64_t{2}}, {"strides", Ints{1, 2, 3}},
                                            {"pads", Ints{0, 1, 0, 0, 0, 1}}, {"output_padding", Ints{0, 1, 2}}};
  auto y2 = testing::run_op("ConvTranspose", {&x, &w, &b}, a2);
  Tensor x3 = x.reshaped({2, 4, 1, 5, 6}), w3 = w.reshaped({4, 3, 1, 3, 2});
  auto y3 = testing::run_op("ConvTranspose", {&x3, &w3, &b}, a3);
  ASSERT_TRUE(y2.ok()) << y2.status().message();
  ASSERT_TRUE(y3.ok()) << y3.status().message();
  const Dims d = (*y2)[0].dims();
  EXPECT_TRUE(testing::tensors_near((*y3)[0].reshaped(d), (*y2)[0], 1e-5, 1e-5));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(ConvTranspose, {.build = [](testing::GraphBuilder& b, ValueId x) {
  return std::vector<ValueId>{b.node("ConvTranspose", "n", {x, b.random("w", {4, 4, 2, 2}, 3)},
                                     {{"strides", std::vector<int64_t>{2, 2}}})};
}});

}  // namespace
}  // namespace qmap
