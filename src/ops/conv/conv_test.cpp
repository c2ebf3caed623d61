#include "ops/common/conv_pool_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

using testing::fails_with;
using testing::infer_op;
using testing::Ints;

Tensor arange(Dims dims, float start = 0.f) {
  Tensor t(DType::kFloat32, std::move(dims));
  float v = start;
  for (float& e : t.data<float>()) e = v++;
  return t;
}

Tensor ones(Dims dims) {
  Tensor t(DType::kFloat32, std::move(dims));
  for (float& e : t.data<float>()) e = 1.f;
  return t;
}

TEST(ConvOp, ShapeInference) {
  auto r = infer_op("Conv", {{Dims{1, 3, 224, 224}}, {Dims{32, 3, 3, 3}}, {Dims{32}}},
                    {{"pads", Ints{1, 1, 1, 1}}, {"strides", Ints{2, 2}}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(*r.outputs[0].dims, (Dims{1, 32, 112, 112}));
  // SAME_UPPER: ceil(in / stride); dilation 2 on 1-D.
  r = infer_op("Conv", {{Dims{2, 4, 11}}, {Dims{6, 2, 3}}},
               {{"auto_pad", std::string("SAME_UPPER")}, {"strides", Ints{2}}, {"group", int64_t{2}}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(*r.outputs[0].dims, (Dims{2, 6, 6}));
  r = infer_op("Conv", {{Dims{1, 1, 9, 9, 9}}, {Dims{2, 1, 3, 3, 3}}},
               {{"dilations", Ints{2, 2, 2}}, {"auto_pad", std::string("VALID")}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(*r.outputs[0].dims, (Dims{1, 2, 5, 5, 5}));
  // Unknown input dims: unknown output dims, not an error.
  r = infer_op("Conv", {{std::nullopt}, {Dims{2, 1, 3, 3}}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.outputs[0].dims.has_value());
  EXPECT_EQ(r.outputs[0].dtype, DType::kFloat32);
}

TEST(ConvOp, Rejections) {
  EXPECT_TRUE(fails_with(infer_op("Conv", {{Dims{1, 3, 8, 8}}, {Dims{4, 2, 3, 3}}}).status,
                         "input channels 3 must equal W's dim 1 (2) x group (1)"));
  EXPECT_TRUE(fails_with(infer_op("Conv", {{Dims{1, 4, 8, 8}}, {Dims{3, 2, 3, 3}}},
                                  {{"group", int64_t{2}}}).status,
                         "not divisible by group 2"));
  EXPECT_TRUE(fails_with(infer_op("Conv", {{Dims{1, 3, 8, 8}}, {Dims{4, 3, 3, 3}}},
                                  {{"auto_pad", std::string("SAME")}}).status,
                         "auto_pad 'SAME' is not valid"));
  EXPECT_TRUE(fails_with(infer_op("Conv", {{Dims{1, 3, 8, 8}}, {Dims{4, 3, 3, 3}}},
                                  {{"kernel_shape", Ints{5, 5}}}).status,
                         "kernel_shape 5x5 does not match"));
  EXPECT_TRUE(fails_with(infer_op("Conv", {{Dims{1, 3, 8, 8}}, {Dims{4, 3, 3, 3}}, {Dims{3}}}).status,
                         "bias B has shape 3: must be [4]"));
  EXPECT_TRUE(fails_with(infer_op("Conv", {{Dims{1, 3, 8, 8}}, {Dims{4, 3, 3, 3}}},
                                  {{"strides", Ints{0, 1}}}).status,
                         "strides 0x1 has value 0: must be >= 1"));
  EXPECT_TRUE(fails_with(infer_op("Conv", {{Dims{1, 3, 8, 8}}, {Dims{4, 3, 3, 3}}},
                                  {{"pads", Ints{1, 1}}}).status,
                         "pads 1x1 has 2 values: must have 4"));
  EXPECT_TRUE(fails_with(infer_op("Conv", {{Dims{1, 3, 2, 8}}, {Dims{4, 3, 3, 3}}}).status,
                         "smaller than the dilated kernel size 3"));
  EXPECT_TRUE(fails_with(infer_op("Conv", {{Dims{1, 3, 8}}, {Dims{4, 3, 3, 3}}}).status,
                         "must have the input's rank 3"));
  EXPECT_TRUE(fails_with(infer_op("Conv", {{Dims{1, 3, 8, 8}, DType::kInt8}, {Dims{4, 3, 3, 3}}}).status,
                         "supported types are float32"));
}

TEST(ConvOp, FloatGoldenWithPaddingAndStrides) {
  // ONNX Conv operator documentation (test_basic_conv_with_padding / strides examples):
  // x = 0..24 as 1x1x5x5, W = ones 1x1x3x3.
  Tensor x = arange({1, 1, 5, 5});
  Tensor w = ones({1, 1, 3, 3});
  auto y = testing::run_op("Conv", {&x, &w}, {{"pads", Ints{1, 1, 1, 1}}});
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({1, 1, 5, 5}, {
      12, 21, 27, 33, 24, 33, 54, 63, 72, 51, 63, 99, 108, 117, 81,
      93, 144, 153, 162, 111, 72, 111, 117, 123, 84})));
  // Stride 2 and asymmetric padding on a 7x5 input (ONNX docs: 3x2 output).
  Tensor x2 = arange({1, 1, 7, 5});
  y = testing::run_op("Conv", {&x2, &w}, {{"pads", Ints{1, 0, 1, 0}}, {"strides", Ints{2, 2}}});
  ASSERT_TRUE(y.ok());
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({1, 1, 4, 2}, {
      21, 33, 99, 117, 189, 207, 171, 183})));
}

TEST(ConvOp, GroupedBiasAndOneD) {
  // Depthwise with bias, 1-D: x channel c = [1, 2, 3, 4] * (c + 1), w = [1, 1], b = [10, 20]:
  // y_c = (x[i] + x[i+1]) + b_c -> c0: 13 15 17, c1: 26 30 34 (hand computation).
  Tensor x = Tensor::from_vector<float>({1, 2, 4}, {1, 2, 3, 4, 2, 4, 6, 8});
  Tensor w = ones({2, 1, 2});
  Tensor b = Tensor::from_vector<float>({2}, {10, 20});
  auto y = testing::run_op("Conv", {&x, &w, &b}, {{"group", int64_t{2}}});
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({1, 2, 3}, {13, 15, 17, 26, 30, 34})));
}

TEST(ConvOp, ThreeDMatchesTorch) {
  // Values from /usr/bin/python3 with torch: conv3d(arange(128.).view(1,2,4,4,4),
  // arange(32.).view(2,2,2,2,2) / 10, stride=2, padding=1)[0, :, 0, 0, :]
  // = [[96.0, 192.0, 95.6], [198.4, 406.4, 207.6]].
  Tensor x = arange({1, 2, 4, 4, 4});
  Tensor w = arange({2, 2, 2, 2, 2});
  for (float& v : w.data<float>()) v /= 10.f;
  auto y = testing::run_op("Conv", {&x, &w}, {{"pads", Ints{1, 1, 1, 1, 1, 1}}, {"strides", Ints{2, 2, 2}}});
  ASSERT_TRUE(y.ok()) << y.status().message();
  ASSERT_EQ((*y)[0].dims(), (Dims{1, 2, 3, 3, 3}));
  auto v = (*y)[0].data<float>();
  const float want[2][3] = {{96.0f, 192.0f, 95.6f}, {198.4f, 406.4f, 207.6f}};
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 3; ++i) EXPECT_NEAR(v[static_cast<size_t>(c * 27 + i)], want[c][i], 1e-3) << c << " " << i;
}

TEST(ConvOp, NpuParams) {
  auto r = infer_op("Conv", {{Dims{1, 8, 16, 16}}, {Dims{8, 1, 3, 3}}},
                    {{"group", int64_t{8}}, {"pads", Ints{1, 1, 1, 1}}, {"strides", Ints{2, 2}}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(testing::find_param(r.params, "kernel")->ints, (Ints{3, 3}));
  EXPECT_EQ(testing::find_param(r.params, "stride")->ints, (Ints{2, 2}));
  EXPECT_EQ(testing::find_param(r.params, "dilation")->ints, (Ints{1, 1}));
  EXPECT_EQ(testing::find_param(r.params, "pad")->ints, (Ints{1, 1, 1, 1}));
  EXPECT_EQ(testing::find_param(r.params, "group")->ints, (Ints{8}));
  EXPECT_EQ(testing::find_param(r.params, "in_channels")->ints, (Ints{8}));
  EXPECT_EQ(testing::find_param(r.params, "out_channels")->ints, (Ints{8}));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Conv, {.build = [](testing::GraphBuilder& b, ValueId x) {
  return std::vector<ValueId>{b.node("Conv", "n", {x, b.random("w", {8, 4, 3, 3}, 1), b.random("b", {8}, 2)},
                                     {{"pads", std::vector<int64_t>{1, 1, 1, 1}}})};
}});

}  // namespace
}  // namespace qmap
