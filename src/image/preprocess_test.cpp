// `qmap preprocess` end to end through the library entry point: generated images in, raw
// files out, checked against the transform functions, the calibration reader and the errors.
#include "image/preprocess.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "calib/dataset.h"
#include "core/file_io.h"
#include "image/decode.h"
#include "image/test_image_writers.h"
#include "image/transform.h"

namespace qmap {
namespace {

namespace fs = std::filesystem;
using testing::encode_bmp;
using testing::encode_jpeg;
using testing::encode_png;
using testing::random_image;

class PreprocessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = (fs::temp_directory_path() /
             fmt::format("qmap_preprocess_{}_{}", ::testing::UnitTest::GetInstance()->current_test_info()->name(),
                         getpid()))
                .string();
    fs::remove_all(root_);
    in_ = root_ + "/images";
    out_ = root_ + "/out";
    fs::create_directories(in_);
    put("c.bmp", encode_bmp(random_image(30, 24, 3, 3)));
    put("a.png", encode_png(random_image(20, 28, 3, 1)));
    put("b.jpg", encode_jpeg(random_image(26, 22, 3, 2)));
    put("labels.txt", "0\n1\n2\n");
    put(".hidden.png", "not read");
  }
  void TearDown() override { fs::remove_all(root_); }
  void put(const std::string& name, std::string_view data) {
    ASSERT_TRUE(write_file_atomic(in_ + "/" + name, data).ok());
  }
  PreprocessOptions options() const {
    PreprocessOptions o;
    o.input_dir = in_;
    o.output_dir = out_;
    return o;
  }
  std::string read(const std::string& name) const { return *read_file(out_ + "/" + name); }

  std::string root_, in_, out_;
  Logger log_{nullptr};
};

TEST_F(PreprocessTest, WritesOneRawFilePerImageInNameOrder) {
  PreprocessOptions o = options();
  o.short_side = 20;
  o.crop_h = o.crop_w = 16;
  o.color = ColorType::kBgr;
  std::vector<size_t> seen;
  auto s = preprocess_directory(o, &log_, [&](size_t done, size_t total) {
    seen.push_back(done);
    EXPECT_EQ(total, 3u);
  });
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->written, (std::vector<std::string>{out_ + "/a.bin", out_ + "/b.bin", out_ + "/c.bin"}));
  EXPECT_EQ(seen, (std::vector<size_t>{1, 2, 3}));
  // a.png 20x28: short side 20 already (same-size resize is a copy), crop 16x16 at top 2,
  // left round(6) = 6; BGR planes.
  const Image a = *read_image(in_ + "/a.png");
  const Image want = *convert_color(*center_crop(resize_short_side(a, 20), 16, 16), ColorType::kBgr);
  const Tensor chw = hwc_to_chw(want.pixels);
  EXPECT_EQ(read("a.bin"), std::string(reinterpret_cast<const char*>(chw.raw()), chw.nbytes()));
  EXPECT_EQ(read("c.bin").size(), 3u * 16 * 16);

  // The files are what the calibration reader expects for a [1, 3, 16, 16] bgr input.
  InputSpec spec;
  spec.name = "data";
  spec.shape = {1, 3, 16, 16};
  spec.type_train = spec.type_rt = ColorType::kBgr;
  auto ds = CalibDataset::open({spec}, {out_}, {}, false);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  ASSERT_EQ(ds->size(), 3u);
  auto t = ds->load_training(0);
  ASSERT_TRUE(t.ok());
  const auto f = (*t)[0].data<float>();
  const auto u = chw.data<uint8_t>();
  for (size_t i = 0; i < u.size(); ++i) ASSERT_EQ(f[i], float(u[i])) << "index " << i;

  // Same inputs, same bytes.
  const std::string first = read("b.bin");
  ASSERT_TRUE(preprocess_directory(o, &log_).ok());
  EXPECT_EQ(read("b.bin"), first);
}

TEST_F(PreprocessTest, Float32ScaledNhwcAndLetterbox) {
  PreprocessOptions o = options();
  o.letterbox_h = o.letterbox_w = 32;
  o.dtype = DType::kFloat32;
  o.scale = 1.f / 255.f;
  o.layout = Layout::kNHWC;
  o.limit = 2;
  auto s = preprocess_directory(o, &log_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  ASSERT_EQ(s->written.size(), 2u);  // limit: a and b only
  const std::string data = read("a_f32.bin");
  ASSERT_EQ(data.size(), 32u * 32 * 3 * 4);
  std::vector<float> v(32 * 32 * 3);
  std::memcpy(v.data(), data.data(), data.size());
  // a.png is 20x28 -> ratio 32/28 -> 23x32 resized, 9 rows of padding: 4 above.
  EXPECT_EQ(v[0], 114.f * (1.f / 255.f));  // padding row
  const Image a = *read_image(in_ + "/a.png");
  const Image lb = letterbox(a, 32, 32);
  const auto px = lb.pixels.data<uint8_t>();
  for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(v[i], float(px[i]) * (1.f / 255.f)) << "index " << i;
  EXPECT_FALSE(fs::exists(out_ + "/c_f32.bin"));
}

TEST_F(PreprocessTest, Nv12BufferAndOddSizeError) {
  PreprocessOptions o = options();
  o.resize_h = 10;
  o.resize_w = 12;
  o.color = ColorType::kNv12;
  auto s = preprocess_directory(o, &log_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(read("b.bin").size(), 10u * 12 * 3 / 2);
  o.resize_h = 9;
  s = preprocess_directory(o, &log_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), fmt::format("preprocess: image '{}/a.png': nv12: image size 9x12 (HxW) "
                                              "is odd: 4:2:0 chroma needs an even height and width", in_));
}

TEST_F(PreprocessTest, BadImagesFailOrAreSkipped) {
  put("b2.jpg", "garbage");
  PreprocessOptions o = options();
  auto s = preprocess_directory(o, &log_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), fmt::format("preprocess: image '{}/b2.jpg': not a JPEG/PNG/BMP file "
                                              "(first bytes: 67 61 72 62)", in_));
  o.skip_bad = true;
  s = preprocess_directory(o, &log_);
  ASSERT_TRUE(s.ok()) << s.status().message();
  EXPECT_EQ(s->written.size(), 3u);
  ASSERT_EQ(s->skipped.size(), 1u);
  EXPECT_NE(s->skipped[0].find("b2.jpg"), std::string::npos);
  // No temporary files left behind.
  for (const auto& e : fs::directory_iterator(out_))
    EXPECT_EQ(e.path().extension(), ".bin") << e.path();
}

TEST_F(PreprocessTest, OptionAndFolderErrors) {
  PreprocessOptions o = options();
  o.scale = 0.5f;
  auto s = preprocess_directory(o, &log_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "preprocess: --scale 0.5 needs --dtype float32 (scaled pixels are not uint8)");
  o = options();
  o.crop_h = o.crop_w = 64;
  s = preprocess_directory(o, &log_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), fmt::format("preprocess: image '{}/a.png': center crop 64x64 (HxW) does "
                                              "not fit the image 20x28 (HxW)", in_));
  put("a.jpg", encode_jpeg(random_image(8, 8, 3, 1)));
  s = preprocess_directory(options(), &log_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("images 'a.jpg' and 'a.png'"), std::string::npos) << s.status().message();
  o = options();
  o.input_dir = root_ + "/nope";
  s = preprocess_directory(o, &log_);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), fmt::format("preprocess: folder '{}/nope': does not exist", root_));
}

TEST(PreprocessImage, ShortSideResizeOfAThinImageIsCapped) {
  // 1 x 20000 pixels: short side 256 would give 256 x 5120000 (1.3 G pixels); short side 2
  // gives 2 x 40000, which runs.
  const Image thin = random_image(1, 20000, 3, 4);
  PreprocessOptions o;
  o.input_dir = o.output_dir = "/unused";
  o.short_side = 256;
  auto r = preprocess_image(thin, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "preprocess: --short-side-resize 256 of a 1x20000 (HxW) image gives 256x5120000, more than 268435456 pixels");
  o.short_side = 2;
  auto ok = preprocess_image(thin, o);
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ(short_side_size(1, 20000, 2), (std::pair<int64_t, int64_t>{2, 40000}));
}

}  // namespace
}  // namespace qmap
