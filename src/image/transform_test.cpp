// Transform tests: OpenCV-golden and hand-computed resizes, crop/letterbox geometry, color
// round trips, NV12 sampling and its odd-size error.
#include "image/transform.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "image/test_image_writers.h"

namespace qmap {
namespace {

using testing::random_image;

Image u8_image(Dims dims, const std::vector<uint8_t>& v, ColorType color = ColorType::kRgb) {
  Image img;
  img.pixels = Tensor::from_vector<uint8_t>(std::move(dims), v);
  img.color = color;
  return img;
}

std::vector<uint8_t> u8(const Image& img) {
  auto s = img.pixels.data<uint8_t>();
  return {s.begin(), s.end()};
}
std::vector<float> f32(const Image& img) {
  auto s = img.pixels.data<float>();
  return {s.begin(), s.end()};
}

// img[y][x] = (y * 5 + x) * 37 mod 256, a 3x5 gray ramp with wrap-arounds (sharp edges).
Image ramp_3x5() {
  std::vector<uint8_t> v(15);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 37 % 256);
  return u8_image({3, 5, 1}, v, ColorType::kGray);
}

TEST(ImageResize, Uint8MatchesOpenCvGolden) {
  // Expected values: cv2.resize(img, (W, H), interpolation=cv2.INTER_LINEAR), OpenCV 4.6.0.
  EXPECT_EQ(u8(resize_bilinear(ramp_3x5(), 4, 7)),
            (std::vector<uint8_t>{0,   21,  47,  74,  100, 127, 148, 116, 137, 117, 30,  56,  82,  104,
                                  158, 179, 160, 72,  99,  84,  50,  114, 135, 161, 188, 214, 131, 6}));
  EXPECT_EQ(u8(resize_bilinear(ramp_3x5(), 2, 2)), (std::vector<uint8_t>{74, 102, 159, 140}));
  std::vector<uint8_t> v(4 * 6 * 3);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i * 53 % 256);
  EXPECT_EQ(u8(resize_bilinear(u8_image({4, 6, 3}, v), 3, 4)),
            (std::vector<uint8_t>{60,  113, 81,  106, 128, 127, 185, 78,  99,  71,  92,  146,
                                  127, 180, 137, 173, 130, 87,  124, 145, 102, 170, 95,  148,
                                  87,  86,  139, 133, 133, 154, 62,  105, 104, 109, 151, 151}));
}

TEST(ImageResize, Float32MatchesOpenCvGolden) {
  Image f = to_float32(ramp_3x5());
  for (float& x : f.pixels.data<float>()) x /= 7.f;
  const std::vector<float> expected = {
      0.0f,      3.020408f, 6.795918f, 10.571428f, 14.346937f, 18.122448f, 21.142857f,
      16.517857f, 19.538265f, 16.783165f, 4.232143f, 8.007652f, 11.783163f, 14.803572f,
      22.625f,   25.645409f, 22.890306f, 10.339286f, 14.114796f, 12.012754f, 7.196429f,
      16.285715f, 19.306124f, 23.081633f, 26.857143f, 30.632652f, 18.734694f, 0.857143f};
  const auto got = f32(resize_bilinear(f, 4, 7));
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-5) << "index " << i;
}

TEST(ImageResize, HandComputedUpscaleWithClampedBorders) {
  // 1x2 -> 1x4: source x = (dx + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25; the outer two
  // clamp to the border pixels, the inner two weigh 0.75/0.25: 0, 25, 75, 100.
  EXPECT_EQ(u8(resize_bilinear(u8_image({1, 2, 1}, {0, 100}, ColorType::kGray), 1, 4)),
            (std::vector<uint8_t>{0, 25, 75, 100}));
  // Exact 2x downscale = mean of each 2x2 block rounded half up ((a+b+c+d+2) >> 2), which
  // OpenCV computes on its INTER_AREA path: (1+2+3+5+2)>>2 = 3, (10+11+20+21+2)>>2 = 16.
  EXPECT_EQ(u8(resize_bilinear(u8_image({2, 4, 1}, {1, 2, 10, 11, 3, 5, 20, 21}, ColorType::kGray), 1, 2)),
            (std::vector<uint8_t>{3, 16}));
}

TEST(ImageResize, ConstantStaysConstantAndSameSizeIsIdentity) {
  std::mt19937 rng(11);
  for (int i = 0; i < 50; ++i) {
    const int64_t h = 1 + rng() % 30, w = 1 + rng() % 30, oh = 1 + rng() % 60, ow = 1 + rng() % 60;
    const uint8_t value = static_cast<uint8_t>(rng() % 256);
    Image img = u8_image({h, w, 3}, std::vector<uint8_t>(size_t(h * w * 3), value));
    const auto out = u8(resize_bilinear(img, oh, ow));
    for (size_t k = 0; k < out.size(); ++k)
      ASSERT_EQ(out[k], value) << "seed 11 case " << i << ": " << h << "x" << w << " -> " << oh << "x" << ow;
  }
  const Image img = random_image(9, 13, 3, 2);
  EXPECT_EQ(u8(resize_bilinear(img, 9, 13)), u8(img));
}

TEST(ImageResize, ShortSideKeepsAspectLikeTorchvision) {
  const Image wide = random_image(300, 500, 3, 1);
  // int(256 * 500 / 300) = int(426.67) = 426.
  EXPECT_EQ(resize_short_side(wide, 256).pixels.dims(), (Dims{256, 426, 3}));
  EXPECT_EQ(resize_short_side(random_image(500, 300, 1, 1), 256).pixels.dims(), (Dims{426, 256, 1}));
  EXPECT_EQ(resize_short_side(random_image(7, 7, 1, 1), 3).pixels.dims(), (Dims{3, 3, 1}));
}

TEST(ImageCrop, CenterCropRoundsHalfToEven) {
  std::vector<uint8_t> v(5 * 8);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<uint8_t>(i);
  const Image img = u8_image({5, 8, 1}, v, ColorType::kGray);
  // top = round(1.5) = 2, left = round(2.5) = 2 (Python rounds half to even).
  auto c = center_crop(img, 2, 3);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(u8(*c), (std::vector<uint8_t>{18, 19, 20, 26, 27, 28}));
  // top = round(0.5) = 0, left = round(3.5) = 4.
  c = center_crop(img, 4, 1);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(u8(*c), (std::vector<uint8_t>{4, 12, 20, 28}));
  auto bad = center_crop(img, 6, 3);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "center crop 6x3 (HxW) does not fit the image 5x8 (HxW)");
}

TEST(ImageLetterbox, CentersAndPadsLikeYolo) {
  // 3x8 into 8x8: ratio 1, no resize, 5 rows of padding: 2 above, 3 below.
  const Image img = random_image(3, 8, 3, 4);
  LetterboxGeometry g;
  const Image out = letterbox(img, 8, 8, 114.f, &g);
  EXPECT_EQ(out.pixels.dims(), (Dims{8, 8, 3}));
  EXPECT_EQ(g.top, 2);
  EXPECT_EQ(g.left, 0);
  EXPECT_EQ(g.resized_h, 3);
  const auto o = u8(out), src = u8(img);
  for (int64_t y = 0; y < 8; ++y)
    for (int64_t x = 0; x < 8 * 3; ++x) {
      const uint8_t want = (y >= 2 && y < 5) ? src[size_t((y - 2) * 24 + x)] : 114;
      ASSERT_EQ(o[size_t(y * 24 + x)], want) << "y " << y << " x " << x;
    }
  // 2x4 into 6x6: ratio min(3, 1.5) = 1.5 -> 3x6 resized, top = floor(3 / 2) = 1.
  const Image small = letterbox(random_image(2, 4, 1, 5), 6, 6, 0.f, &g);
  EXPECT_EQ(g.resized_h, 3);
  EXPECT_EQ(g.resized_w, 6);
  EXPECT_EQ(g.top, 1);
  EXPECT_DOUBLE_EQ(g.ratio, 1.5);
  EXPECT_EQ(u8(small)[0], 0);
  // Float images are padded with the exact value; 3x8 into 3x10: one column on the left.
  const Image f = letterbox(to_float32(img), 3, 10, 0.5f, &g);
  EXPECT_EQ(g.left, 1);
  EXPECT_EQ(f32(f)[0], 0.5f);
}

TEST(ImageLayout, HwcChwRoundTrip) {
  const Image img = random_image(3, 4, 3, 6);
  const Tensor chw = hwc_to_chw(img.pixels);
  EXPECT_EQ(chw.dims(), (Dims{3, 3, 4}));
  // chw[c][y][x] == hwc[y][x][c]
  EXPECT_EQ(chw.data<uint8_t>()[2 * 12 + 1 * 4 + 3], img.pixels.data<uint8_t>()[(1 * 4 + 3) * 3 + 2]);
  const Tensor back = chw_to_hwc(chw);
  EXPECT_EQ(back.dims(), img.pixels.dims());
  auto a = back.data<uint8_t>(), b = img.pixels.data<uint8_t>();
  EXPECT_TRUE(std::equal(a.begin(), a.end(), b.begin()));
}

TEST(ImageColor, RoundToUint8IsHalfAwayAndClamps) {
  EXPECT_EQ(round_to_uint8(0.5), 1);
  EXPECT_EQ(round_to_uint8(1.5), 2);
  EXPECT_EQ(round_to_uint8(2.5), 3);
  EXPECT_EQ(round_to_uint8(127.49999), 127);
  EXPECT_EQ(round_to_uint8(-0.5), 0);
  EXPECT_EQ(round_to_uint8(254.5), 255);
  EXPECT_EQ(round_to_uint8(300), 255);
  EXPECT_EQ(round_to_uint8(std::nan("")), 0);
}

TEST(ImageColor, Bt601KnownValues) {
  const Image px = u8_image({1, 3, 3}, {255, 255, 255, 0, 0, 0, 255, 0, 0});
  auto full = convert_color(px, ColorType::kYuv444, ColorRange::kRegular);
  ASSERT_TRUE(full.ok());
  // Red: Y = 0.299 * 255 = 76.245 -> 76; U = 128 - 0.168736 * 255 = 84.97 -> 85;
  // V = 128 + 127.5 = 255.5 -> 255 (clamped).
  EXPECT_EQ(u8(*full), (std::vector<uint8_t>{255, 128, 128, 0, 128, 128, 76, 85, 255}));
  auto video = convert_color(px, ColorType::kYuv444, ColorRange::kBt601Video);
  ASSERT_TRUE(video.ok());
  // Studio range: white Y = 235, black Y = 16; red Y = 16 + 65.481 = 81.48 -> 81,
  // U = 128 - 37.797 = 90.2 -> 90, V = 128 + 112 = 240.
  EXPECT_EQ(u8(*video), (std::vector<uint8_t>{235, 128, 128, 16, 128, 128, 81, 90, 240}));
  auto gray = convert_color(px, ColorType::kGray);
  ASSERT_TRUE(gray.ok());
  EXPECT_EQ(u8(*gray), (std::vector<uint8_t>{255, 0, 76}));
  // BGR input: the same red is stored as (0, 0, 255).
  auto bgr_gray = convert_color(u8_image({1, 1, 3}, {0, 0, 255}, ColorType::kBgr), ColorType::kGray);
  ASSERT_TRUE(bgr_gray.ok());
  EXPECT_EQ(u8(*bgr_gray), (std::vector<uint8_t>{76}));
}

TEST(ImageColor, RoundTripsThroughYuvAndBgr) {
  for (ColorRange range : {ColorRange::kRegular, ColorRange::kBt601Video}) {
    const Image rgb = to_float32(random_image(6, 7, 3, 8));
    auto yuv = convert_color(rgb, ColorType::kYuv444, range);
    ASSERT_TRUE(yuv.ok());
    auto back = convert_color(*yuv, ColorType::kBgr, range);
    ASSERT_TRUE(back.ok());
    auto rgb2 = convert_color(*back, ColorType::kRgb, range);
    ASSERT_TRUE(rgb2.ok());
    const auto a = f32(rgb), b = f32(*rgb2);
    for (size_t i = 0; i < a.size(); ++i)
      ASSERT_NEAR(a[i], b[i], 1e-3) << "range " << color_range_name(range) << " index " << i;
    // Gray from yuv444 is the luma of the same pixels.
    auto g1 = convert_color(*yuv, ColorType::kGray, range);
    auto g2 = convert_color(rgb, ColorType::kGray, range);
    ASSERT_TRUE(g1.ok() && g2.ok());
    for (size_t i = 0; i < f32(*g1).size(); ++i) ASSERT_NEAR(f32(*g1)[i], f32(*g2)[i], 1e-3);
  }
  // gray -> rgb replicates; gray -> yuv444 has neutral chroma.
  const Image g = u8_image({1, 2, 1}, {7, 200}, ColorType::kGray);
  EXPECT_EQ(u8(*convert_color(g, ColorType::kRgb)), (std::vector<uint8_t>{7, 7, 7, 200, 200, 200}));
  EXPECT_EQ(u8(*convert_color(g, ColorType::kYuv444)), (std::vector<uint8_t>{7, 128, 128, 200, 128, 128}));
  auto bad = convert_color(g, ColorType::kNv12);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "cannot convert gray pixels to nv12");
}

TEST(ImageNv12, AveragesChromaPerBlockAndUpsamplesNearest) {
  // 2x4 yuv444: Y = 10..17; U per pixel 1,2,3,4 / 5,6,7,8 in the two blocks; V constant 9.
  const Image yuv = u8_image({2, 4, 3}, {10, 1, 9, 11, 2, 9, 12, 5, 9, 13, 6, 9,  //
                                         14, 3, 9, 15, 4, 9, 16, 7, 9, 17, 9, 9},
                             ColorType::kYuv444);
  auto nv = to_nv12(yuv);
  ASSERT_TRUE(nv.ok()) << nv.status().message();
  EXPECT_EQ(nv->data.dims(), (Dims{3, 4}));
  // U: (1+2+3+4+2)>>2 = 3 (2.5 rounds up), (5+6+7+9+2)>>2 = 7 (6.75).
  EXPECT_EQ(std::vector<uint8_t>(nv->data.data<uint8_t>().begin(), nv->data.data<uint8_t>().end()),
            (std::vector<uint8_t>{10, 11, 12, 13, 14, 15, 16, 17, 3, 9, 7, 9}));
  const Image up = nv12_to_yuv444(*nv);
  EXPECT_EQ(u8(up), (std::vector<uint8_t>{10, 3, 9, 11, 3, 9, 12, 7, 9, 13, 7, 9,  //
                                          14, 3, 9, 15, 3, 9, 16, 7, 9, 17, 7, 9}));
  // Chroma already constant per block survives the round trip exactly.
  auto again = to_nv12(up);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(u8(nv12_to_yuv444(*again)), u8(up));
}

TEST(ImageNv12, OddSizeIsAnError) {
  auto r = to_nv12(*convert_color(random_image(5, 4, 3, 1), ColorType::kYuv444));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "nv12: image size 5x4 (HxW) is odd: 4:2:0 chroma needs an even height and width");
  EXPECT_FALSE(to_nv12(*convert_color(random_image(4, 3, 3, 1), ColorType::kYuv444)).ok());
  EXPECT_FALSE(to_nv12(random_image(4, 4, 3, 1)).ok());  // rgb, not yuv444
}

TEST(ImageScale, MultipliesInFloat32) {
  const Image s = scale_pixels(u8_image({1, 1, 3}, {0, 128, 255}), 1.f / 255.f);
  EXPECT_EQ(s.dtype(), DType::kFloat32);
  EXPECT_EQ(f32(s), (std::vector<float>{0.f, 128.f * (1.f / 255.f), 255.f * (1.f / 255.f)}));
  EXPECT_EQ(u8(to_uint8(scale_pixels(u8_image({1, 1, 1}, {3}, ColorType::kGray), 0.5f))),
            (std::vector<uint8_t>{2}));  // 1.5 rounds half away
}

}  // namespace
}  // namespace qmap
