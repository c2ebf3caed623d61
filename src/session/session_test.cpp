// Session over each model stage (plain float ONNX, makertbin's original float and quantized
// ONNX), input checks, clones on threads, and the image / raw-file inputs.
#include "session/session.h"

#include <thread>

#include <gtest/gtest.h>

#include <cstring>

#include "calib/dataset.h"
#include "image/decode.h"
#include "image/transform.h"
#include "report/compare.h"
#include "session/image_input.h"
#include "session/session_test_util.h"

namespace qmap {
namespace {

using testing::tiny_models;

std::unique_ptr<Session> open_ok(const std::string& path) {
  auto s = Session::open(path);
  EXPECT_TRUE(s.ok()) << s.status().message();
  return s.ok() ? std::move(*s) : nullptr;
}

ImageInputOptions tiny_flags() {
  ImageInputOptions o;
  o.mean = testing::kTinyMean;
  o.scale = testing::kTinyScale;
  return o;
}

// The image through `s` as infer does it: specs from metadata, else the flags.
std::vector<Tensor> run_image(Session& s, const Image& img, const ImageInputOptions& opt) {
  const auto specs = input_specs_for(s, {}, opt);
  auto in = image_to_model_input(img, specs[0], s.inputs()[0], opt);
  EXPECT_TRUE(in.ok()) << in.status().message();
  if (!in.ok()) return {};
  auto out = s.run({*in});
  EXPECT_TRUE(out.ok()) << out.status().message();
  return out.ok() ? *out : std::vector<Tensor>{};
}

TEST(SessionTest, PlainFloatOnnxHasItsIoAndNoSpecs) {
  auto s = open_ok(tiny_models().plain);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind(), "float onnx");
  ASSERT_EQ(s->inputs().size(), 1u);
  EXPECT_EQ(s->inputs()[0].name, "input");
  EXPECT_EQ(s->inputs()[0].dtype, DType::kFloat32);
  EXPECT_EQ(s->inputs()[0].dims, (Dims{1, 3, 16, 16}));
  ASSERT_EQ(s->outputs().size(), 1u);
  EXPECT_EQ(s->outputs()[0].dims, (Dims{1, 10}));
  EXPECT_TRUE(s->input_specs().empty());
}

TEST(SessionTest, QuantizedOnnxTakesTheRuntimeInputAndCarriesTheYamlSpecs) {
  auto s = open_ok(tiny_models().quantized);
  ASSERT_TRUE(s);
  EXPECT_EQ(s->kind(), "quantized onnx");
  EXPECT_EQ(s->inputs()[0].dtype, DType::kUInt8);
  EXPECT_EQ(s->inputs()[0].dims, (Dims{1, 16, 16, 3}));  // input_layout_rt NHWC
  ASSERT_EQ(s->input_specs().size(), 1u);
  const InputSpec& spec = s->input_specs()[0];
  EXPECT_EQ(spec.name, "input");
  EXPECT_EQ(spec.type_rt, ColorType::kRgb);
  EXPECT_EQ(spec.layout_rt, Layout::kNHWC);
  EXPECT_EQ(spec.layout_train, Layout::kNCHW);
  // input_shape was left out of the YAML: the training shape comes from the model.
  EXPECT_EQ(spec.shape, (Dims{1, 3, 16, 16}));
  EXPECT_EQ(spec.mean, testing::kTinyMean);
}

TEST(SessionTest, EveryStageGivesTheSameAnswerForOneImage) {
  const Image img = testing::random_image(20, 24, 3, 5);
  auto plain = open_ok(tiny_models().plain);
  auto original = open_ok(tiny_models().original);
  auto quantized = open_ok(tiny_models().quantized);
  ASSERT_TRUE(plain && original && quantized);
  EXPECT_EQ(original->kind(), "float onnx");
  EXPECT_FALSE(original->input_specs().empty());
  const auto a = run_image(*plain, img, tiny_flags());
  const auto b = run_image(*original, img, tiny_flags());  // metadata wins over the flags
  const auto c = run_image(*quantized, img, {});
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  ASSERT_EQ(c.size(), 1u);
  // The preprocess node computes the flags' (x - mean) * scale inside the model: issue 4
  // promises the original model's outputs within 1e-5 of the source model's.
  const auto pa = a[0].data<float>(), pb = b[0].data<float>();
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_NEAR(pa[i], pb[i], 1e-5) << i;
  // int8 vs float on a 10-class softmax: makertbin's own e2e bar for this model is 0.97.
  EXPECT_GE(compare_tensors(a[0], c[0]).cosine, 0.97);
}

TEST(SessionTest, BinEqualsTheQuantizedOnnxBitForBit) {
  // The .bin runs in the runtime library; the quantized ONNX in the integer simulator. Both
  // run the same lowered program with the same kernels: outputs must be identical.
  auto quantized = open_ok(tiny_models().quantized);
  auto bin = open_ok(tiny_models().bin);
  ASSERT_TRUE(quantized && bin);
  EXPECT_EQ(bin->kind(), "bin");
  ASSERT_FALSE(bin->input_specs().empty());  // the YAML stored in the .bin
  for (uint32_t seed : {1u, 2u, 3u}) {
    const Image img = testing::random_image(16, 16, 3, seed);
    const auto q = run_image(*quantized, img, {});
    const auto b = run_image(*bin, img, {});
    ASSERT_EQ(q.size(), 1u);
    ASSERT_EQ(b.size(), 1u);
    ASSERT_EQ(q[0].nbytes(), b[0].nbytes());
    EXPECT_EQ(std::memcmp(q[0].raw(), b[0].raw(), q[0].nbytes()), 0) << "seed " << seed;
  }
  // A clone has its own context and gives the same answer.
  auto clone = bin->clone();
  const Image img = testing::random_image(16, 16, 3, 9);
  const auto x = run_image(*bin, img, {}), y = run_image(*clone, img, {});
  ASSERT_EQ(x.size(), 1u);
  ASSERT_EQ(y.size(), 1u);
  EXPECT_EQ(std::memcmp(x[0].raw(), y[0].raw(), x[0].nbytes()), 0);
}

TEST(SessionTest, RunRejectsWrongCountDtypeAndShape) {
  auto s = open_ok(tiny_models().quantized);
  ASSERT_TRUE(s);
  auto none = s->run({});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("0 inputs given, the model takes 1"), std::string::npos)
      << none.status().message();
  auto dtype = s->run({Tensor(DType::kFloat32, {1, 16, 16, 3})});
  ASSERT_FALSE(dtype.ok());
  EXPECT_EQ(dtype.status().message(), "session: input 'input': dtype float32, the model takes uint8");
  auto shape = s->run({Tensor(DType::kUInt8, {1, 3, 16, 16})});
  ASSERT_FALSE(shape.ok());
  EXPECT_EQ(shape.status().message(), "session: input 'input': shape 1x3x16x16, the model takes 1x16x16x3");
}

TEST(SessionTest, OpenErrorsNameTheFile) {
  auto missing = Session::open("/nonexistent/m.onnx");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("'/nonexistent/m.onnx'"), std::string::npos);
  auto ext = Session::open(tiny_models().dir + "/cfg.yaml");
  ASSERT_FALSE(ext.ok());
  EXPECT_NE(ext.status().message().find("unknown extension '.yaml'"), std::string::npos) << ext.status().message();
}

TEST(SessionTest, ClonesOnThreadsGiveTheSequentialResults) {
  auto s = open_ok(tiny_models().quantized);
  ASSERT_TRUE(s);
  std::vector<Tensor> inputs;
  std::vector<std::vector<float>> expected;
  for (uint32_t k = 0; k < 4; ++k) {
    Tensor t(DType::kUInt8, {1, 16, 16, 3});
    const Image img = testing::random_image(16, 16, 3, 100 + k);
    std::copy(img.pixels.data<uint8_t>().begin(), img.pixels.data<uint8_t>().end(), t.data<uint8_t>().begin());
    inputs.push_back(t);
    auto out = s->run({t});
    ASSERT_TRUE(out.ok());
    expected.emplace_back((*out)[0].data<float>().begin(), (*out)[0].data<float>().end());
  }
  std::vector<std::vector<float>> got(inputs.size());
  std::vector<std::thread> threads;
  for (size_t k = 0; k < inputs.size(); ++k)
    threads.emplace_back([&, k, clone = std::shared_ptr<Session>(s->clone())] {
      for (int rep = 0; rep < 3; ++rep) {
        auto out = clone->run({inputs[k]});
        if (out.ok()) got[k].assign((*out)[0].data<float>().begin(), (*out)[0].data<float>().end());
      }
    });
  for (auto& t : threads) t.join();
  for (size_t k = 0; k < inputs.size(); ++k) EXPECT_EQ(got[k], expected[k]) << k;
}

// --- image and raw inputs ---

class SessionImageInputTest : public ::testing::Test {
 protected:
  std::string dir_ = testing::process_test_dir("session_image_input_test");
  void SetUp() override { std::filesystem::create_directories(dir_); }
};

TEST_F(SessionImageInputTest, WithoutTransformsEqualsTheCalibrationReader) {
  auto s = open_ok(tiny_models().quantized);
  ASSERT_TRUE(s);
  const std::string png = dir_ + "/a.png";
  testing::write_png(png, 21, 30, 9);
  auto img = read_image(png);
  ASSERT_TRUE(img.ok());
  auto mine = image_to_model_input(*img, s->input_specs()[0], s->inputs()[0], {});
  auto reader = load_image_as_runtime_input(png, s->input_specs()[0]);
  ASSERT_TRUE(mine.ok()) << mine.status().message();
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  ASSERT_EQ(mine->dims(), reader->dims());
  EXPECT_TRUE(std::equal(mine->data<uint8_t>().begin(), mine->data<uint8_t>().end(), reader->data<uint8_t>().begin()));
}

TEST_F(SessionImageInputTest, CenterCropRunsBeforeTheModelResize) {
  auto s = open_ok(tiny_models().quantized);
  ASSERT_TRUE(s);
  const Image img = testing::random_image(24, 30, 3, 3);
  auto cropped = center_crop(img, 16, 16);
  ASSERT_TRUE(cropped.ok());
  ImageInputOptions crop;
  crop.transforms.crop_h = crop.transforms.crop_w = 16;
  auto a = image_to_model_input(img, s->input_specs()[0], s->inputs()[0], crop);
  auto b = image_to_model_input(*cropped, s->input_specs()[0], s->inputs()[0], {});
  auto plain = image_to_model_input(img, s->input_specs()[0], s->inputs()[0], {});
  ASSERT_TRUE(a.ok() && b.ok() && plain.ok());
  const auto da = a->data<uint8_t>(), db = b->data<uint8_t>(), dp = plain->data<uint8_t>();
  EXPECT_TRUE(std::equal(da.begin(), da.end(), db.begin()));
  EXPECT_FALSE(std::equal(da.begin(), da.end(), dp.begin()));  // the crop did something
  // A crop larger than the image is preprocess's error, naming both sizes.
  crop.transforms.crop_h = crop.transforms.crop_w = 40;
  auto big = image_to_model_input(img, s->input_specs()[0], s->inputs()[0], crop);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.status().message().find("40"), std::string::npos) << big.status().message();
}

TEST_F(SessionImageInputTest, FlagsNormalizeFloatInputsPerChannel) {
  auto s = open_ok(tiny_models().plain);
  ASSERT_TRUE(s);
  Image gray_img;  // a constant image: every pixel (10, 20, 30)
  gray_img.pixels = Tensor(DType::kUInt8, {16, 16, 3});
  auto p = gray_img.pixels.data<uint8_t>();
  for (size_t i = 0; i < p.size(); ++i) p[i] = static_cast<uint8_t>(10 * (i % 3 + 1));
  ImageInputOptions o;
  o.mean = {10.f, 20.f, 40.f};
  o.scale = {2.f};
  const auto specs = input_specs_for(*s, {}, o);
  auto in = image_to_model_input(gray_img, specs[0], s->inputs()[0], o);
  ASSERT_TRUE(in.ok()) << in.status().message();
  const auto x = in->data<float>();
  EXPECT_EQ(x[0], 0.f);             // (10 - 10) * 2, channel 0 (NCHW)
  EXPECT_EQ(x[256], 0.f);           // (20 - 20) * 2
  EXPECT_EQ(x[512], -20.f);         // (30 - 40) * 2
  o.mean = {1.f, 2.f};
  auto bad = image_to_model_input(gray_img, input_specs_for(*s, {}, o)[0], s->inputs()[0], o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("mean has 2 values"), std::string::npos) << bad.status().message();
}

TEST_F(SessionImageInputTest, RawFilesAreSizeChecked) {
  auto s = open_ok(tiny_models().quantized);
  ASSERT_TRUE(s);
  const std::string good = dir_ + "/good.bin", bad = dir_ + "/bad.bin";
  ASSERT_TRUE(write_file_atomic(good, std::string(16 * 16 * 3, '\x07')).ok());
  ASSERT_TRUE(write_file_atomic(bad, std::string(700, '\x07')).ok());
  auto t = read_raw_input(good, s->inputs()[0]);
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->data<uint8_t>()[5], 7);
  auto e = read_raw_input(bad, s->inputs()[0]);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(),
            "input: file '" + bad + "': 700 bytes, input 'input' takes 768 (1x16x16x3 uint8)");
}

}  // namespace
}  // namespace qmap
