// Tests of the preprocess node: the chain's structure, its numerics against a direct
// computation of (convert(x) - mean) * scale from the BT.601 tables, and the input errors.
#include "passes/preprocess.h"

#include <algorithm>

#include "image/color.h"
#include "passes/pass_test_util.h"

namespace qmap {
namespace {

using testing::op_sequence;

InputSpec image_spec(ColorType rt, Layout lrt, ColorType train, Layout ltrain) {
  InputSpec s;
  s.name = "img";
  s.type_rt = rt;
  s.layout_rt = lrt;
  s.type_train = train;
  s.layout_train = ltrain;
  s.norm = NormType::kMeanAndScale;
  s.mean = {123.675f, 116.28f, 103.53f};
  s.scale = {0.0171f, 0.0175f, 0.0174f};
  return s;
}

// The float model: its image input (training type/layout) straight to an output through a
// Relu, so the output shows the preprocessed tensor wherever it is >= 0 and the model has a
// node the chain must feed. dims in layout_train.
Graph identity_model(const Dims& dims) {
  testing::GraphBuilder b;
  const ValueId x = b.input("img", dims);
  const ValueId y = b.node("Identity", "model", {x});
  return b.build({y});
}

// The oracle: (convert(x) - mean) * scale per pixel, in double, from the spec's definition.
Tensor expected_output(const Tensor& rt, const InputSpec& s, const Dims& train_dims) {
  const bool rt_nchw = s.layout_rt == Layout::kNCHW, tr_nchw = s.layout_train == Layout::kNCHW;
  const int64_t n = train_dims[0], c = tr_nchw ? train_dims[1] : train_dims[3];
  const int64_t h = tr_nchw ? train_dims[2] : train_dims[1], w = tr_nchw ? train_dims[3] : train_dims[2];
  const auto x = rt.data<uint8_t>();
  Tensor out(DType::kFloat32, train_dims);
  auto y = out.data<float>();
  const ColorType r = s.type_rt == ColorType::kNv12 ? ColorType::kYuv444 : s.type_rt;
  for (int64_t b = 0; b < n; ++b)
    for (int64_t i = 0; i < h; ++i)
      for (int64_t j = 0; j < w; ++j) {
        std::array<double, 3> px{};
        for (int64_t k = 0; k < c; ++k)
          px[static_cast<size_t>(k)] = x[static_cast<size_t>(rt_nchw ? ((b * c + k) * h + i) * w + j : ((b * h + i) * w + j) * c + k)];
        std::array<double, 3> cv = px;
        if (r == ColorType::kYuv444 && s.type_train != ColorType::kYuv444) {
          const auto& m = color::yuv_to_rgb(s.range);
          const auto& off = color::yuv_offset(s.range);
          for (size_t o = 0; o < 3; ++o) {
            double v = 0;
            for (size_t q = 0; q < 3; ++q) v += m[o][q] * (px[q] - off[q]);
            cv[o] = std::clamp(v, 0.0, 255.0);
          }
          if (s.type_train == ColorType::kBgr) std::swap(cv[0], cv[2]);
        } else if (r != s.type_train) {  // rgb <-> bgr
          std::swap(cv[0], cv[2]);
        }
        for (int64_t k = 0; k < c; ++k) {
          const size_t ks = static_cast<size_t>(k);
          double v = cv[ks];
          const bool mean = s.norm == NormType::kMeanAndScale || s.norm == NormType::kMean;
          const bool scale = s.norm == NormType::kMeanAndScale || s.norm == NormType::kScale;
          if (mean) v -= s.mean.size() == 1 ? s.mean[0] : s.mean[ks];
          if (scale) v *= s.scale.size() == 1 ? s.scale[0] : s.scale[ks];
          y[static_cast<size_t>(tr_nchw ? ((b * c + k) * h + i) * w + j : ((b * h + i) * w + j) * c + k)] =
              static_cast<float>(v);
        }
      }
  return out;
}

// Inserts the chain for `s` into the identity model of `train_dims`, checks the graph input,
// the op sequence and the numerics on a seeded random uint8 image.
void check_chain(const InputSpec& s, const Dims& train_dims, const std::string& ops, uint32_t seed) {
  const std::string what = fmt::format("{} {} -> {} {} seed {}", color_type_name(s.type_rt), layout_name(s.layout_rt),
                                       color_type_name(s.type_train), layout_name(s.layout_train), seed);
  Graph g = identity_model(train_dims);
  const Status st = insert_preprocess(g, std::span(&s, 1));
  ASSERT_TRUE(st.ok()) << what << ": " << st.message();
  ASSERT_TRUE(verify_graph(g).ok()) << what << ": " << verify_graph(g).message();
  EXPECT_EQ(op_sequence(g), ops + " Identity") << what;
  const Value& in = g.value(g.inputs[0]);
  EXPECT_EQ(in.name, "img") << what;
  EXPECT_EQ(in.dtype, DType::kUInt8) << what;
  EXPECT_EQ(g.nodes[g.nodes.size() - 2].name, "PREPROCESS_img") << what;
  EXPECT_EQ(g.nodes[0].name, ops == "Cast" ? "PREPROCESS_img" : "PREPROCESS_img_cast") << what;
  const std::vector<Tensor> ins = testing::random_inputs(g, seed);
  auto out = testing::run_graph(g, ins);
  ASSERT_TRUE(out.ok()) << what << ": " << out.status().message();
  // Tolerance: float32 accumulation of three products of values up to 255 (relative 1e-6 of
  // ~1000), then the scale; 1e-3 absolute leaves room for it and catches any wrong
  // coefficient (the smallest, 0.344 * 1, moves results by far more).
  EXPECT_TRUE(testing::tensors_near((*out)[0], expected_output(ins[0], s, train_dims), 1e-3, 1e-5)) << what;
}

TEST(InsertPreprocess, RgbNhwcToRgbNchwTransposesThenNormalizes) {
  const InputSpec s = image_spec(ColorType::kRgb, Layout::kNHWC, ColorType::kRgb, Layout::kNCHW);
  check_chain(s, {1, 3, 5, 6}, "Cast Transpose Conv", 1);
  Graph g = identity_model({1, 3, 5, 6});
  ASSERT_TRUE(insert_preprocess(g, std::span(&s, 1)).ok());
  EXPECT_EQ(*g.value(g.inputs[0]).dims, (Dims{1, 5, 6, 3}));
  EXPECT_EQ(attr_int(g.nodes[2], "group", 1), 3) << "normalization is a depthwise conv";
}

TEST(InsertPreprocess, BgrToRgbFoldsThePermutationIntoTheNormalization) {
  check_chain(image_spec(ColorType::kBgr, Layout::kNCHW, ColorType::kRgb, Layout::kNCHW), {2, 3, 4, 4}, "Cast Conv", 2);
  InputSpec s = image_spec(ColorType::kRgb, Layout::kNCHW, ColorType::kBgr, Layout::kNCHW);
  s.norm = NormType::kNone;
  check_chain(s, {1, 3, 4, 4}, "Cast Conv", 3);
}

TEST(InsertPreprocess, Yuv444FullAndVideoRangeToRgb) {
  for (ColorRange range : {ColorRange::kRegular, ColorRange::kBt601Video}) {
    InputSpec s = image_spec(ColorType::kYuv444, Layout::kNCHW, ColorType::kRgb, Layout::kNCHW);
    s.range = range;
    check_chain(s, {1, 3, 6, 4}, "Cast Conv Clip Conv", 4);
  }
}

TEST(InsertPreprocess, Nv12AsYuv444ToBgr) {
  InputSpec s = image_spec(ColorType::kNv12, Layout::kNHWC, ColorType::kBgr, Layout::kNCHW);
  s.range = ColorRange::kBt601Video;
  check_chain(s, {1, 3, 4, 6}, "Cast Transpose Conv Clip Conv", 5);
}

TEST(InsertPreprocess, GrayToGrayScaleOnly) {
  InputSpec s = image_spec(ColorType::kGray, Layout::kNCHW, ColorType::kGray, Layout::kNCHW);
  s.norm = NormType::kScale;
  s.scale = {1.f / 255};
  check_chain(s, {1, 1, 5, 5}, "Cast Conv", 6);
  s.norm = NormType::kMean;
  s.mean = {128.f};
  check_chain(s, {1, 1, 5, 5}, "Cast Conv", 7);
}

TEST(InsertPreprocess, NhwcModelsUseMatMulSubMul) {
  check_chain(image_spec(ColorType::kRgb, Layout::kNHWC, ColorType::kRgb, Layout::kNHWC), {1, 4, 5, 3},
              "Cast Sub Mul", 8);
  check_chain(image_spec(ColorType::kRgb, Layout::kNCHW, ColorType::kBgr, Layout::kNHWC), {1, 4, 5, 3},
              "Cast Transpose MatMul Add", 9);
  check_chain(image_spec(ColorType::kYuv444, Layout::kNHWC, ColorType::kRgb, Layout::kNHWC), {1, 4, 4, 3},
              "Cast MatMul Add Clip Sub Mul", 10);
}

TEST(InsertPreprocess, NoPreprocessIsJustTheCast) {
  InputSpec s = image_spec(ColorType::kYuv444, Layout::kNCHW, ColorType::kYuv444, Layout::kNCHW);
  s.norm = NormType::kNone;
  check_chain(s, {1, 3, 2, 2}, "Cast", 11);
}

TEST(InsertPreprocess, FeaturemapInputsAreUntouched) {
  Graph g = identity_model({1, 3, 2, 2});
  const std::string before = dump_graph(g);
  InputSpec s;
  s.name = "img";
  ASSERT_TRUE(insert_preprocess(g, std::span(&s, 1)).ok());
  EXPECT_EQ(dump_graph(g), before);
}

TEST(InsertPreprocess, ImageAndFeaturemapInputsTogether) {
  testing::GraphBuilder b;
  const ValueId feat = b.input("feat", {1, 3, 4, 4});
  const ValueId img = b.input("img", {1, 3, 4, 4});
  const ValueId y = b.node("Add", "sum", {img, feat});
  Graph g = b.build({y});
  InputSpec specs[2];
  specs[0].name = "feat";
  specs[1] = image_spec(ColorType::kBgr, Layout::kNHWC, ColorType::kBgr, Layout::kNCHW);
  ASSERT_TRUE(insert_preprocess(g, specs).ok());
  EXPECT_EQ(op_sequence(g), "Cast Transpose Conv Add");
  EXPECT_EQ(g.value(g.inputs[0]).dtype, DType::kFloat32);
  EXPECT_EQ(*g.value(g.inputs[0]).dims, (Dims{1, 3, 4, 4}));
  EXPECT_EQ(g.value(g.inputs[1]).dtype, DType::kUInt8);
  EXPECT_EQ(*g.value(g.inputs[1]).dims, (Dims{1, 4, 4, 3}));
  EXPECT_EQ(g.nodes[3].inputs[0], g.nodes[2].outputs[0]) << "the model reads the chain's output";
  EXPECT_EQ(g.value(g.nodes[2].outputs[0]).name, "PREPROCESS_img");
  EXPECT_TRUE(testing::run_graph(g, testing::random_inputs(g, 12)).ok());
}

Status insert_with(const InputSpec& s, const Dims& model_dims) {
  Graph g = identity_model(model_dims);
  return insert_preprocess(g, std::span(&s, 1));
}

TEST(InsertPreprocess, InputErrorsNameTheInputAndTheRule) {
  const InputSpec rgb = image_spec(ColorType::kRgb, Layout::kNCHW, ColorType::kRgb, Layout::kNCHW);
  InputSpec s = rgb;
  s.name = "image";
  EXPECT_EQ(insert_with(s, {1, 3, 4, 4}).message(),
            "preprocess: input 'image' is not an input of the model: its inputs are 'img'");
  s = rgb;
  s.shape = {1, 3, 8, 8};
  EXPECT_EQ(insert_with(s, {1, 3, 4, 4}).message(),
            "preprocess: input 'img': input_shape 1x3x8x8 does not match the model's input shape 1x3x4x4");
  s = rgb;
  s.mean = {1.f, 2.f};
  EXPECT_EQ(insert_with(s, {1, 3, 4, 4}).message(),
            "preprocess: input 'img': mean_value has 2 values: needs 1 or 3 (the channels of input_type_train rgb)");
  s = rgb;
  s.scale = {};
  EXPECT_EQ(insert_with(s, {1, 3, 4, 4}).message(),
            "preprocess: input 'img': scale_value has 0 values: needs 1 or 3 (the channels of input_type_train rgb)");
  s = image_spec(ColorType::kNv12, Layout::kNCHW, ColorType::kRgb, Layout::kNCHW);
  EXPECT_EQ(insert_with(s, {1, 3, 223, 224}).message(),
            "preprocess: nv12 needs even height and width: input 'img' is 1x3x223x224");
  EXPECT_EQ(insert_with(rgb, {1, 3, 4}).message(),
            "preprocess: input 'img' has shape 1x3x4: an image input must be 4-D (N, C, H, W in input_layout_train NCHW)");
  EXPECT_EQ(insert_with(rgb, {1, 1, 4, 4}).message(),
            "preprocess: input 'img' has 1 channels in shape 1x1x4x4 (NCHW): input_type_train rgb has 3");
  s = image_spec(ColorType::kGray, Layout::kNCHW, ColorType::kRgb, Layout::kNCHW);
  EXPECT_EQ(insert_with(s, {1, 3, 4, 4}).message(),
            "preprocess: input 'img': input_type_rt gray cannot feed input_type_train rgb: supported are the same "
            "type, rgb <-> bgr, and yuv444/nv12 -> rgb/bgr/yuv444");
  s = rgb;
  s.type_train = ColorType::kFeaturemap;
  EXPECT_EQ(insert_with(s, {1, 3, 4, 4}).message(),
            "preprocess: input 'img': input_type_rt rgb needs an image input_type_train, not featuremap");
}

}  // namespace
}  // namespace qmap
