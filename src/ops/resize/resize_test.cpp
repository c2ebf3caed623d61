#include <cmath>

#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

using testing::has_text;
Tensor floats(std::vector<float> v) { return Tensor::from_vector<float>({static_cast<int64_t>(v.size())}, v); }
Tensor ints(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }
Tensor iota16() {
  Tensor x(DType::kFloat32, {1, 1, 4, 4});
  for (int i = 0; i < 16; ++i) x.data<float>()[static_cast<size_t>(i)] = static_cast<float>(i + 1);
  return x;
}
using Attrs = std::map<std::string, AttrValue>;

TEST(Resize, LinearUpsampleHalfPixel) {
  // Expected: ONNX test_resize_upsample_scales_linear (onnx/backend/test/case/node/resize.py).
  Tensor x = Tensor::from_vector<float>({1, 1, 2, 2}, {1, 2, 3, 4});
  Tensor scales = floats({1, 1, 2, 2});
  auto out = testing::run_op("Resize", {&x, nullptr, &scales}, {{"mode", std::string("linear")}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({1, 1, 4, 4},
      {1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4})));
}

TEST(Resize, Linear1DHalfPixel) {
  // By hand: x_in = (x + 0.5) / 2 - 0.5 = -0.25, 0.25, ..., 2.25; neighbours clamped to the edge.
  Tensor x = floats({1, 2, 3});
  Tensor sizes = ints({6});
  auto out = testing::run_op("Resize", {&x, nullptr, nullptr, &sizes}, {{"mode", std::string("linear")}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], floats({1, 1.25, 1.75, 2.25, 2.75, 3})));
}

TEST(Resize, AlignCornersUsesScaledWidth) {
  // Expected: ONNX test_resize_downsample_scales_linear_align_corners: x_in = 1 * 3 / (0.6 * 4 - 1).
  Tensor x = Tensor::from_vector<float>({1, 1, 2, 4}, {1, 2, 3, 4, 5, 6, 7, 8});
  Tensor scales = floats({1, 1, 0.6f, 0.6f});
  auto out = testing::run_op("Resize", {&x, nullptr, &scales},
                             {{"mode", std::string("linear")}, {"coordinate_transformation_mode", std::string("align_corners")}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({1, 1, 1, 2}, {1, 3.142857f})));
}

TEST(Resize, CubicExcludeOutside) {
  // Expected (first row): ONNX test_resize_upsample_scales_cubic_A_n0p5_exclude_outside.
  Tensor x = iota16();
  Tensor scales = floats({1, 1, 2, 2});
  auto out = testing::run_op("Resize", {&x, nullptr, &scales},
                             {{"mode", std::string("cubic")}, {"cubic_coeff_a", -0.5f}, {"exclude_outside", int64_t{1}}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ((*out)[0].dims(), (Dims{1, 1, 8, 8}));
  const float row0[] = {0.5588235f, 0.81494206f, 1.3569825f, 1.8970588f, 2.3970587f, 2.9371352f, 3.4791756f, 3.735294f};
  for (int i = 0; i < 8; ++i) EXPECT_NEAR((*out)[0].data<float>()[static_cast<size_t>(i)], row0[i], 1e-5) << i;
  EXPECT_NEAR((*out)[0].data<float>()[63], 16.441177f, 1e-5);
}

TEST(Resize, TfCropAndResizeExtrapolates) {
  // Expected: ONNX test_resize_tf_crop_and_resize.
  Tensor x = iota16();
  Tensor roi = floats({0, 0, 0.4f, 0.6f, 1, 1, 1.2f, 1.7f});
  Tensor sizes = ints({1, 1, 3, 3});
  auto out = testing::run_op("Resize", {&x, &roi, nullptr, &sizes},
                             {{"mode", std::string("linear")}, {"extrapolation_value", 10.f},
                              {"coordinate_transformation_mode", std::string("tf_crop_and_resize")}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({1, 1, 3, 3},
      {7.6000004f, 10, 10, 12.400001f, 10, 10, 10, 10, 10})));
}

TEST(Resize, NearestCeilHalfPixelInt8) {
  // Expected (first row): ONNX test_resize_upsample_sizes_nearest_ceil_half_pixel; nearest is
  // pure data movement so int8 data works too.
  Tensor x(DType::kInt8, {1, 1, 4, 4});
  for (int i = 0; i < 16; ++i) x.data<int8_t>()[static_cast<size_t>(i)] = static_cast<int8_t>(i + 1);
  Tensor sizes = ints({1, 1, 8, 8});
  auto out = testing::run_op("Resize", {&x, nullptr, nullptr, &sizes},
                             {{"nearest_mode", std::string("ceil")}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  auto v = (*out)[0].to_int64();
  EXPECT_EQ(std::vector<int64_t>(v.begin(), v.begin() + 8), (std::vector<int64_t>{1, 2, 2, 3, 3, 4, 4, 4}));
}

TEST(Resize, Errors) {
  Tensor x(DType::kFloat32, {1, 1, 2, 2});
  Tensor s = floats({1, 1, 2, 2}), s3 = floats({1, 2, 2}), s0 = floats({1, 1, 0, 2}), z = ints({1, 1, 4, 4});
  EXPECT_TRUE(has_text(testing::run_op("Resize", {&x, nullptr, &s}, {{"mode", std::string("area")}}).status(),
                       "mode 'area' is not valid"));
  EXPECT_TRUE(has_text(testing::run_op("Resize", {&x, nullptr, &s}, {{"nearest_mode", std::string("up")}}).status(),
                       "nearest_mode 'up' is not valid"));
  EXPECT_TRUE(has_text(testing::run_op("Resize", {&x, nullptr, &s},
                                       {{"coordinate_transformation_mode", std::string("x")}}).status(),
                       "coordinate_transformation_mode 'x' is not valid"));
  EXPECT_TRUE(has_text(testing::run_op("Resize", {&x, nullptr, &s, &z}).status(), "both scales and sizes"));
  EXPECT_TRUE(has_text(testing::run_op("Resize", {&x}).status(), "neither scales nor sizes"));
  EXPECT_TRUE(has_text(testing::run_op("Resize", {&x, nullptr, &s3}).status(), "one per axis"));
  EXPECT_TRUE(has_text(testing::run_op("Resize", {&x, nullptr, &s0}).status(), "scales must be > 0"));
  Tensor roi = floats({0, 0, 1});
  EXPECT_TRUE(has_text(testing::run_op("Resize", {&x, nullptr, nullptr, &z},
                                       {{"coordinate_transformation_mode", std::string("tf_crop_and_resize")}}).status(),
                       "roi is not given"));
  EXPECT_TRUE(has_text(testing::run_op("Resize", {&x, &roi, nullptr, &z},
                                       {{"coordinate_transformation_mode", std::string("tf_crop_and_resize")}}).status(),
                       "needs 2 * rank"));
  Tensor xi(DType::kInt8, {1, 1, 2, 2});
  EXPECT_TRUE(has_text(testing::run_op("Resize", {&xi, nullptr, &s}, {{"mode", std::string("linear")}}).status(),
                       "supports float32 only"));
}

// Plain per-pixel reference for 2-D bilinear, half_pixel (ONNX Resize-13 formula, edge clamp).
Tensor ref_bilinear(const Tensor& x, int64_t oh, int64_t ow) {
  const int64_t h = x.dims()[2], w = x.dims()[3];
  Tensor y(DType::kFloat32, {1, 1, oh, ow});
  auto at = [&](int64_t i, int64_t j) {
    i = std::clamp<int64_t>(i, 0, h - 1);
    j = std::clamp<int64_t>(j, 0, w - 1);
    return static_cast<double>(x.data<float>()[static_cast<size_t>(i * w + j)]);
  };
  for (int64_t i = 0; i < oh; ++i)
    for (int64_t j = 0; j < ow; ++j) {
      const double yi = (i + 0.5) * h / oh - 0.5, xj = (j + 0.5) * w / ow - 0.5;
      const double fi = std::floor(yi), fj = std::floor(xj), ri = yi - fi, rj = xj - fj;
      const auto i0 = static_cast<int64_t>(fi), j0 = static_cast<int64_t>(fj);
      const double v = (1 - ri) * ((1 - rj) * at(i0, j0) + rj * at(i0, j0 + 1)) +
                       ri * ((1 - rj) * at(i0 + 1, j0) + rj * at(i0 + 1, j0 + 1));
      y.data<float>()[static_cast<size_t>(i * ow + j)] = static_cast<float>(v);
    }
  return y;
}

TEST(Resize, RandomBilinearAgainstReferenceLoop) {
  for (uint32_t seed = 0; seed < 40; ++seed) {
    const int64_t h = 1 + seed % 5, w = 1 + (seed * 3) % 7, oh = 1 + (seed * 7) % 9, ow = 1 + (seed * 5) % 11;
    Tensor x = testing::random_tensor({1, 1, h, w}, seed);
    Tensor sizes = ints({1, 1, oh, ow});
    auto out = testing::run_op("Resize", {&x, nullptr, nullptr, &sizes}, {{"mode", std::string("linear")}});
    ASSERT_TRUE(out.ok()) << out.status().message();
    ASSERT_TRUE(testing::tensors_near((*out)[0], ref_bilinear(x, oh, ow)))
        << "seed " << seed << " " << h << "x" << w << " -> " << oh << "x" << ow;
  }
}

TEST(Resize, UnknownSizesGiveUnknownDims) {
  auto out = testing::infer_op("Resize", {testing::unknown(DType::kFloat32, Dims{1, 1, 4, 4}), testing::absent(),
                                          testing::absent(), testing::unknown(DType::kInt64, Dims{4})});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_FALSE((*out)[0].dims.has_value());
}

TEST(Resize, UpgradeUpsample7ScalesAttribute) {
  auto c = testing::upgrade_case("Resize", "Upsample", 1,
                                 {{"mode", std::string("nearest")}, {"scales", std::vector<float>{1, 1, 2, 3}}});
  ASSERT_TRUE(op_def(OpId::Resize).upgrade_onnx(c.graph, 7, c.nodes).ok());
  const Node& n = c.nodes[0];
  EXPECT_EQ(n.op, OpId::Resize);
  EXPECT_FALSE(n.has_attr("scales"));
  ASSERT_EQ(n.inputs.size(), 3u);
  EXPECT_EQ(n.inputs[1], kNoValue);
  EXPECT_EQ(testing::input_constant(c, 2).to_double(), (std::vector<double>{1, 1, 2, 3}));
  EXPECT_EQ(attr_string(n, "coordinate_transformation_mode", ""), "asymmetric");
  EXPECT_EQ(attr_string(n, "nearest_mode", ""), "floor");
}

TEST(Resize, UpgradeResize10Downsample) {
  // Resize-10 nearest downsampling rounds up (ONNX Runtime's rule for opset 10).
  auto c = testing::upgrade_case("Resize", "Resize", 2, {{"mode", std::string("nearest")}},
                                 {{1, floats({1, 1, 0.6f, 0.6f})}});
  ASSERT_TRUE(op_def(OpId::Resize).upgrade_onnx(c.graph, 10, c.nodes).ok());
  EXPECT_EQ(attr_string(c.nodes[0], "nearest_mode", ""), "ceil");
  EXPECT_EQ(testing::input_constant(c, 2).numel(), 4);
  // Upsample-9 linear: scales input kept, asymmetric coordinates, no nearest_mode.
  auto d = testing::upgrade_case("Resize", "Upsample", 2, {{"mode", std::string("linear")}});
  ASSERT_TRUE(op_def(OpId::Resize).upgrade_onnx(d.graph, 9, d.nodes).ok());
  EXPECT_EQ(attr_string(d.nodes[0], "mode", ""), "linear");
  EXPECT_FALSE(d.nodes[0].has_attr("nearest_mode"));
  // Mixed up/down nearest cannot be one nearest_mode.
  auto e = testing::upgrade_case("Resize", "Upsample", 2, {}, {{1, floats({1, 1, 0.5f, 2})}});
  EXPECT_TRUE(has_text(op_def(OpId::Resize).upgrade_onnx(e.graph, 9, e.nodes), "mix up- and downsampling"));
  // Resize-11+ is already in the IR form.
  auto f = testing::upgrade_case("Resize", "Resize", 3, {});
  ASSERT_TRUE(op_def(OpId::Resize).upgrade_onnx(f.graph, 11, f.nodes).ok());
  EXPECT_TRUE(f.nodes[0].attrs.empty());
}

TEST(Resize, NpuParams) {
  Tensor x(DType::kFloat32, {1, 3, 4, 4});
  Tensor s = floats({1, 1, 2, 2});
  const OpParams p = testing::npu_params_of("Resize", {{"mode", std::string("linear")}}, {testing::known(x), testing::absent(), testing::known(s)}, Dims{1, 3, 8, 8});
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0].text, "linear");
  EXPECT_EQ(p[1].text, "half_pixel");
  EXPECT_EQ(p[2].ints, (std::vector<int64_t>{1, 1, 2, 2}));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Resize, {.build = [](testing::GraphBuilder& b, ValueId x) {
  return std::vector<ValueId>{b.node("Resize", "n", {x, kNoValue, b.constant("scales", Tensor::from_vector<float>({4}, {1, 1, 2, 2}))},
                                     {{"mode", std::string("nearest")}})};
}});

}  // namespace
}  // namespace qmap
