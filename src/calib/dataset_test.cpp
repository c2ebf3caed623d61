// Calibration data reader tests: raw files (types, sizes, order), images with preprocess_on,
// the training -> runtime conversion (rounding, layout, nv12 chroma loss) and every named
// error (empty folder, wrong size, count mismatch, undecodable image, odd nv12).
#include "calib/dataset.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "core/file_io.h"
#include "image/test_image_writers.h"
#include "image/transform.h"

namespace qmap {
namespace {

namespace fs = std::filesystem;
using testing::encode_jpeg;
using testing::encode_png;
using testing::random_image;

// A fresh folder per test under the system temp dir, removed at the end.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = (fs::temp_directory_path() /
             fmt::format("qmap_dataset_{}_{}", tag, ::testing::UnitTest::GetInstance()->random_seed() + getpid()))
                .string();
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  std::string sub(const std::string& name) const {
    const std::string p = path_ + "/" + name;
    fs::create_directories(p);
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void write(const std::string& path, std::string_view data) { ASSERT_TRUE(write_file_atomic(path, data).ok()); }

template <typename T>
std::string raw_bytes(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

InputSpec featuremap(const std::string& name, Dims shape) {
  InputSpec s;
  s.name = name;
  s.shape = std::move(shape);
  return s;
}

InputSpec image_spec(ColorType train, Layout lt, ColorType rt, Layout lr, int64_t h, int64_t w) {
  InputSpec s;
  s.name = "data";
  s.type_train = train;
  s.layout_train = lt;
  s.type_rt = rt;
  s.layout_rt = lr;
  const int64_t c = color_channels(train);
  s.shape = lt == Layout::kNCHW ? Dims{1, c, h, w} : Dims{1, h, w, c};
  return s;
}

std::vector<float> floats(const Tensor& t) {
  auto s = t.data<float>();
  return {s.begin(), s.end()};
}
std::vector<uint8_t> bytes(const Tensor& t) {
  auto s = t.data<uint8_t>();
  return {s.begin(), s.end()};
}

TEST(CalibDataset, RawFilesSortedTypedAndHiddenIgnored) {
  TempDir tmp("raw");
  const std::string d = tmp.sub("feat");
  write(d + "/b.bin", raw_bytes<uint8_t>({1, 2, 3, 4, 5, 6}));
  write(d + "/a_f32.bin", raw_bytes<float>({0.5f, -1.f, 2.f, 3.f, 4.f, 1e9f}));
  write(d + "/.DS_Store", "junk");
  fs::create_directories(d + "/subdir");
  auto ds = CalibDataset::open({featuremap("x", {1, 2, 3})}, {d}, {}, false);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  ASSERT_EQ(ds->size(), 2u);
  EXPECT_EQ(ds->sample_name(0), "a_f32.bin");
  EXPECT_EQ(ds->sample_name(1), "b.bin");
  auto s0 = ds->load_training(0);
  ASSERT_TRUE(s0.ok()) << s0.status().message();
  EXPECT_EQ((*s0)[0].dims(), (Dims{1, 2, 3}));
  EXPECT_EQ(floats((*s0)[0]), (std::vector<float>{0.5f, -1.f, 2.f, 3.f, 4.f, 1e9f}));
  auto s1 = ds->load_runtime(1);  // featuremap: runtime == training, float32
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(floats((*s1)[0]), (std::vector<float>{1, 2, 3, 4, 5, 6}));

  // A folder named *_f32 makes every file float32; an explicit type overrides names.
  const std::string f = tmp.sub("calib_f32");
  write(f + "/s.bin", raw_bytes<float>({1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(CalibDataset::open({featuremap("x", {1, 2, 3})}, {f + "/"}, {}, false).ok());
  auto forced = CalibDataset::open({featuremap("x", {1, 2, 3})}, {f}, {"uint8"}, false);
  ASSERT_FALSE(forced.ok());
  EXPECT_NE(forced.status().message().find("24 bytes, expected 6"), std::string::npos)
      << forced.status().message();
}

TEST(CalibDataset, ErrorsNameFolderFileAndCounts) {
  TempDir tmp("errors");
  const std::string empty = tmp.sub("empty");
  auto r = CalibDataset::open({featuremap("x", {2, 2})}, {empty}, {}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), fmt::format("calibration data: input 'x': folder '{}' is empty: it "
                                              "needs calibration files", empty));
  r = CalibDataset::open({featuremap("x", {2, 2})}, {tmp.path() + "/missing"}, {}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            fmt::format("calibration data: input 'x': folder '{}/missing': does not exist", tmp.path()));

  const std::string a = tmp.sub("a"), b = tmp.sub("b");
  write(a + "/0.bin", raw_bytes<float>({1, 2, 3, 4}));
  write(a + "/1.bin", raw_bytes<float>({1, 2, 3}));
  r = CalibDataset::open({featuremap("x", {2, 2})}, {a}, {"float32"}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), fmt::format("calibration data: file '{}/1.bin': 12 bytes, expected 16 "
                                              "(2x2 float32 of input 'x')", a));

  write(a + "/1.bin", raw_bytes<float>({1, 2, 3, 4}));
  write(b + "/0.bin", raw_bytes<uint8_t>({1, 2, 3, 4, 5, 6}));
  r = CalibDataset::open({featuremap("x", {2, 2}), featuremap("y", {6})}, {a, b}, {"float32", "uint8"}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            fmt::format("calibration data: the input folders hold different numbers of samples: '{}' "
                        "(x): 2, '{}' (y): 1: every input needs one file per sample", a, b));

  r = CalibDataset::open({featuremap("x", {2, 2})}, {a}, {"int8"}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "cal_data_type 'int8': allowed values are uint8 and float32");

  r = CalibDataset::open({featuremap("x", {2, 2})}, {a, b}, {}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("2 folders for 1 model inputs"), std::string::npos);

  // Non-finite values would poison min/max calibration.
  const std::string n = tmp.sub("nan");
  write(n + "/0.bin", raw_bytes<float>({1, std::nanf(""), 3, 4}));
  auto ds = CalibDataset::open({featuremap("x", {2, 2})}, {n}, {"float32"}, false);
  ASSERT_TRUE(ds.ok());
  auto s = ds->load_training(0);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("0.bin': element 1 is nan"), std::string::npos) << s.status().message();

  // An image in a raw folder gets a hint.
  const std::string im = tmp.sub("imgs");
  write(im + "/cat.jpg", encode_jpeg(random_image(4, 4, 3, 1)));
  r = CalibDataset::open({image_spec(ColorType::kRgb, Layout::kNCHW, ColorType::kRgb, Layout::kNCHW, 4, 4)},
                         {im}, {}, false);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("set preprocess_on: True"), std::string::npos) << r.status().message();
}

TEST(CalibDataset, ImagesDecodedResizedAndConverted) {
  TempDir tmp("images");
  const std::string d = tmp.sub("imgs");
  const Image src = random_image(12, 16, 3, 9);
  write(d + "/b.png", encode_png(src));
  write(d + "/a.PNG", encode_png(random_image(6, 6, 1, 3)));  // gray: replicated to rgb
  write(d + "/labels.txt", "0 cat\n1 dog\n");                  // not an image name: skipped
  const InputSpec spec = image_spec(ColorType::kBgr, Layout::kNCHW, ColorType::kRgb, Layout::kNHWC, 6, 8);
  auto ds = CalibDataset::open({spec}, {d}, {}, true);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  ASSERT_EQ(ds->size(), 2u);
  auto t = ds->load_training(1);
  ASSERT_TRUE(t.ok()) << t.status().message();
  const Tensor& train = (*t)[0];
  EXPECT_EQ(train.dims(), (Dims{1, 3, 6, 8}));
  // Training: BGR planes of the OpenCV-resized image, float 0..255.
  const Image resized = resize_bilinear(src, 6, 8);
  const auto rs = resized.pixels.data<uint8_t>();
  const auto tv = floats(train);
  for (int64_t y = 0; y < 6; ++y)
    for (int64_t x = 0; x < 8; ++x)
      for (int64_t c = 0; c < 3; ++c)
        ASSERT_EQ(tv[size_t(c * 48 + y * 8 + x)], float(rs[size_t((y * 8 + x) * 3 + (2 - c))]))
            << "y " << y << " x " << x << " c " << c;
  // Runtime: RGB NHWC uint8 = the resized pixels themselves.
  auto rt = ds->load_runtime(1);
  ASSERT_TRUE(rt.ok());
  EXPECT_EQ((*rt)[0].dims(), (Dims{1, 6, 8, 3}));
  EXPECT_EQ(bytes((*rt)[0]), std::vector<uint8_t>(rs.begin(), rs.end()));
  auto direct = load_image_as_runtime_input(d + "/b.png", spec);
  ASSERT_TRUE(direct.ok());
  EXPECT_EQ(bytes(*direct), bytes((*rt)[0]));

  // An undecodable image is named when its sample is loaded.
  write(d + "/c.jpg", "this is not a jpeg");
  ds = CalibDataset::open({spec}, {d}, {}, true);
  ASSERT_TRUE(ds.ok());
  auto bad = ds->load_training(2);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), fmt::format("calibration data: image '{}/c.jpg': not a JPEG/PNG/BMP "
                                                "file (first bytes: 74 68 69 73)", d));
  // No images at all.
  const std::string txt = tmp.sub("txt");
  write(txt + "/readme.txt", "x");
  auto none = CalibDataset::open({spec}, {txt}, {}, true);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("is empty: it needs JPEG/PNG/BMP images"), std::string::npos);
}

TEST(CalibDataset, TrainingToRuntimeRoundsConvertsAndSubsamplesNv12) {
  // rgb NCHW float -> bgr NHWC uint8: 1.5 -> 2 and 2.5 -> 3 (half away), -3 -> 0, 300 -> 255.
  InputSpec spec = image_spec(ColorType::kRgb, Layout::kNCHW, ColorType::kBgr, Layout::kNHWC, 1, 2);
  const Tensor t = Tensor::from_vector<float>({1, 3, 1, 2}, {1.5f, 2.5f, 10.f, 20.f, -3.f, 300.f});
  auto rt = training_to_runtime(t, spec);
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  EXPECT_EQ(rt->dims(), (Dims{1, 1, 2, 3}));
  EXPECT_EQ(bytes(*rt), (std::vector<uint8_t>{0, 10, 2, 255, 20, 3}));

  // nv12: the runtime sample is yuv444 whose chroma is constant over each 2x2 block and
  // equals the rounded block mean of the full-resolution chroma.
  spec = image_spec(ColorType::kRgb, Layout::kNHWC, ColorType::kNv12, Layout::kNCHW, 4, 6);
  const Image src = to_float32(random_image(4, 6, 3, 12));
  const Tensor train = src.pixels.reshaped({1, 4, 6, 3});
  rt = training_to_runtime(train, spec);
  ASSERT_TRUE(rt.ok()) << rt.status().message();
  EXPECT_EQ(rt->dims(), (Dims{1, 3, 4, 6}));
  const Image yuv = to_uint8(*convert_color(src, ColorType::kYuv444));
  const auto full = yuv.pixels.data<uint8_t>();
  const auto out = bytes(*rt);
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 6; ++x) {
      EXPECT_EQ(out[size_t(y * 6 + x)], full[size_t((y * 6 + x) * 3)]) << "Y at " << y << "," << x;
      for (int64_t c = 1; c <= 2; ++c) {
        const int64_t by = y / 2 * 2, bx = x / 2 * 2;
        int sum = 0;
        for (int64_t dy = 0; dy < 2; ++dy)
          for (int64_t dx = 0; dx < 2; ++dx) sum += full[size_t(((by + dy) * 6 + bx + dx) * 3 + c)];
        EXPECT_EQ(out[size_t(c * 24 + y * 6 + x)], (sum + 2) / 4) << "chroma " << c << " at " << y << "," << x;
      }
    }

  // Featuremaps pass through untouched.
  const Tensor fm = Tensor::from_vector<float>({1, 2}, {-1.25f, 7.f});
  auto same = training_to_runtime(fm, featuremap("f", {1, 2}));
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(floats(*same), floats(fm));
}

TEST(CalibDataset, Nv12OddSizeNamesFileAndSize) {
  TempDir tmp("nv12");
  const std::string d = tmp.sub("raw");
  write(d + "/odd.bin", std::string(3 * 5 * 4, '\x40'));
  const InputSpec spec = image_spec(ColorType::kYuv444, Layout::kNCHW, ColorType::kNv12, Layout::kNCHW, 5, 4);
  auto ds = CalibDataset::open({spec}, {d}, {"uint8"}, false);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  auto r = ds->load_runtime(0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            fmt::format("calibration data: file '{}/odd.bin': input 'data': nv12: image size 5x4 (HxW) is "
                        "odd: 4:2:0 chroma needs an even height and width", d));
}

TEST(CalibDataset, ParallelLoadsEqualSequentialLoads) {
  TempDir tmp("threads");
  const std::string d = tmp.sub("imgs");
  for (int i = 0; i < 6; ++i)
    write(fmt::format("{}/img{}.jpg", d, i), encode_jpeg(random_image(20 + i, 30, 3, 100 + uint32_t(i))));
  const InputSpec spec = image_spec(ColorType::kRgb, Layout::kNCHW, ColorType::kNv12, Layout::kNHWC, 8, 10);
  auto ds = CalibDataset::open({spec}, {d}, {}, true);
  ASSERT_TRUE(ds.ok()) << ds.status().message();
  std::vector<std::vector<uint8_t>> seq(ds->size()), par(ds->size());
  for (size_t i = 0; i < ds->size(); ++i) seq[i] = bytes((*ds->load_runtime(i))[0]);
  std::vector<std::thread> threads;
  for (size_t t = 0; t < 3; ++t)
    threads.emplace_back([&, t] {
      for (size_t i = t; i < ds->size(); i += 3) par[i] = bytes((*ds->load_runtime(i))[0]);
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(seq, par);
}

}  // namespace
}  // namespace qmap
