// AVX2 integer pooling kernels against the references, bit for bit: random NCHW geometries
// (windows 1x1..7x7, strides 1..3, pads, dilations, ceil-mode windows past the padding),
// count_include_pad on/off, both input types, extreme zero points and clamps, and global
// average pools over 7x7, 14x14 and 56x56 planes with many channels. Skipped without AVX2.
#include "kernels/x86_avx2/qpool.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/isa.h"
#include "kernels/qelementwise_test_util.h"
#include "kernels/ref/qpool.h"

namespace qmap::kernels::avx2 {
namespace {

using ref::PoolGeometry2d;
using ref::q8_max;
using ref::q8_min;

using testing::first_diff;
using testing::pick_zero_point;
using testing::random_bytes;

#define REQUIRE_AVX2() QMAP_REQUIRE_ISA(Isa::kAvx2, "AVX2")
#define EXPECT_SAME_BYTES(want, got, what) QMAP_EXPECT_SAME_BYTES(want, got, "avx2", what)

std::string geom_str(const PoolGeometry2d& g) {
  auto s = [](int64_t v) { return std::to_string(v); };
  return "n " + s(g.n) + " c " + s(g.c) + " in " + s(g.h) + "x" + s(g.w) + " out " + s(g.oh) + "x" + s(g.ow) + " k " +
         s(g.kh) + "x" + s(g.kw) + " stride " + s(g.stride_h) + "," + s(g.stride_w) + " dil " + s(g.dil_h) + "," +
         s(g.dil_w) + " pads t" + s(g.pad_top) + " l" + s(g.pad_left) + " b" + s(g.pad_bottom) + " r" + s(g.pad_right);
}

// Output length along one axis (ONNX), floor or ceil mode; 0 when no window fits.
int64_t out_len(int64_t in, int64_t k, int64_t stride, int64_t dil, int64_t pb, int64_t pe, bool ceil_mode) {
  const int64_t span = in + pb + pe - dil * (k - 1) - 1;
  if (span < 0) return 0;
  return (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
}

PoolGeometry2d random_geometry(std::mt19937& rng) {
  PoolGeometry2d g;
  g.n = 1 + rng() % 2;
  g.c = 1 + rng() % 3;
  g.kh = 1 + rng() % 7;
  g.kw = 1 + rng() % 7;
  g.stride_h = 1 + rng() % 3;
  g.stride_w = 1 + rng() % 3;
  g.dil_h = rng() % 4 == 0 ? 2 : 1;
  g.dil_w = rng() % 4 == 0 ? 1 + rng() % 3 : 1;
  g.pad_top = rng() % g.kh;
  g.pad_bottom = rng() % g.kh;
  g.pad_left = rng() % g.kw;
  g.pad_right = rng() % g.kw;
  const int64_t widths[] = {1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 56, 70, 113};
  g.h = 1 + rng() % 20;
  g.w = widths[rng() % std::size(widths)];
  const bool ceil_mode = rng() % 3 == 0;
  g.oh = out_len(g.h, g.kh, g.stride_h, g.dil_h, g.pad_top, g.pad_bottom, ceil_mode);
  g.ow = out_len(g.w, g.kw, g.stride_w, g.dil_w, g.pad_left, g.pad_right, ceil_mode);
  return g;
}

// Tall and wide planes: the kernels run a plane in blocks of output rows (their buffers held
// near 16 KB), so these cross block edges; ceil mode on even t (all-padding rows).
PoolGeometry2d tall_geometry(std::mt19937& rng, int t) {
  PoolGeometry2d g = random_geometry(rng);
  const int64_t wide[] = {113, 200, 261};
  g.n = 1;
  g.h = 90 + rng() % 200;
  g.w = wide[rng() % std::size(wide)];
  const bool ceil_mode = t % 2 == 0;
  g.oh = out_len(g.h, g.kh, g.stride_h, g.dil_h, g.pad_top, g.pad_bottom, ceil_mode);
  g.ow = out_len(g.w, g.kw, g.stride_w, g.dil_w, g.pad_left, g.pad_right, ceil_mode);
  return g;
}

std::vector<QMultiplier> count_multipliers(int64_t taps, double r) {
  std::vector<QMultiplier> m(1, QMultiplier{12345, 77});  // index 0 unused: garbage
  for (int64_t c = 1; c <= taps; ++c) m.push_back(quantize_multiplier(r / static_cast<double>(c)));
  return m;
}

TEST(QPoolAvx2, MaxPool) {
  REQUIRE_AVX2();
  const uint32_t seed = 201;
  std::mt19937 rng(seed);
  int cases = 0;
  for (int t = 0; t < 1500; ++t) {
    const PoolGeometry2d g = random_geometry(rng);
    const bool xs = rng() & 1, ys = rng() & 1;
    const std::vector<uint8_t> x = random_bytes(rng, g.n * g.c * g.h * g.w);
    std::vector<uint8_t> want(static_cast<size_t>(g.n * g.c * g.oh * g.ow), 1), got(want.size(), 2);
    ref::qmaxpool2d(g, {x.data(), xs}, {want.data(), ys});
    avx2::qmaxpool2d(g, {x.data(), xs}, {got.data(), ys});
    EXPECT_SAME_BYTES(want, got, "seed " << seed << " trial " << t << " maxpool " << geom_str(g) << (xs ? " x s8" : " x u8"));
    ++cases;
  }
  for (int t = 0; t < 60; ++t) {
    const PoolGeometry2d g = tall_geometry(rng, t);
    const bool xs = rng() & 1;
    const std::vector<uint8_t> x = random_bytes(rng, g.n * g.c * g.h * g.w);
    std::vector<uint8_t> want(static_cast<size_t>(g.n * g.c * g.oh * g.ow), 1), got(want.size(), 2);
    ref::qmaxpool2d(g, {x.data(), xs}, {want.data(), xs});
    avx2::qmaxpool2d(g, {x.data(), xs}, {got.data(), xs});
    EXPECT_SAME_BYTES(want, got, "seed " << seed << " tall trial " << t << " maxpool " << geom_str(g));
    ++cases;
  }
  // ResNet's stem pool: 3x3 stride 2 pad 1 on 112x112.
  for (bool xs : {true, false}) {
    const PoolGeometry2d g{1, 4, 112, 112, 56, 56, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1};
    const std::vector<uint8_t> x = random_bytes(rng, 4 * 112 * 112);
    std::vector<uint8_t> want(4 * 56 * 56), got(want.size());
    ref::qmaxpool2d(g, {x.data(), xs}, {want.data(), xs});
    avx2::qmaxpool2d(g, {x.data(), xs}, {got.data(), xs});
    ASSERT_EQ(first_diff(want, got), -1) << "seed " << seed << " resnet maxpool x signed " << xs;
    ++cases;
  }
  RecordProperty("cases", cases);
}

TEST(QPoolAvx2, AveragePool) {
  REQUIRE_AVX2();
  const uint32_t seed = 202;
  std::mt19937 rng(seed);
  int cases = 0;
  for (int t = 0; t < 1560; ++t) {  // the last 60 on tall planes
    const PoolGeometry2d g = t < 1500 ? random_geometry(rng) : tall_geometry(rng, t);
    const bool xs = rng() & 1, ys = rng() & 1, include = rng() & 1;
    const int32_t zx = pick_zero_point(xs, rng), zy = pick_zero_point(ys, rng);
    const double ratios[] = {1.0, 0.37, 3.0, 1e-5, 250.0};
    const double ratio = ratios[rng() % std::size(ratios)];
    const std::vector<QMultiplier> mult = count_multipliers(g.kh * g.kw, ratio);
    const int32_t lo = rng() % 3 == 0 ? std::clamp(zy, q8_min(ys), q8_max(ys)) : q8_min(ys), hi = q8_max(ys);
    const std::vector<uint8_t> x = random_bytes(rng, g.n * g.c * g.h * g.w);
    std::vector<uint8_t> want(static_cast<size_t>(g.n * g.c * g.oh * g.ow), 1), got(want.size(), 2);
    ref::qavgpool2d(g, include, {x.data(), xs}, zx, mult, zy, lo, hi, {want.data(), ys});
    avx2::qavgpool2d(g, include, {x.data(), xs}, zx, mult, zy, lo, hi, {got.data(), ys});
    EXPECT_SAME_BYTES(want, got,
                      "seed " << seed << " trial " << t << " avgpool " << geom_str(g) << " count_include_pad " << include
                              << (xs ? " x s8" : " x u8") << " zx " << zx << (ys ? " y s8" : " y u8") << " zy " << zy
                              << " ratio " << ratio << " clamp [" << lo << "," << hi << "]");
    ++cases;
  }
  RecordProperty("cases", cases);
}

TEST(QPoolAvx2, GlobalAveragePool) {
  REQUIRE_AVX2();
  const uint32_t seed = 203;
  std::mt19937 rng(seed);
  struct Plane {
    int64_t n, c, h, w;
  };
  const Plane planes[] = {{1, 1280, 7, 7}, {2, 96, 14, 14}, {1, 64, 56, 56}, {1, 3, 1, 1},  {3, 5, 3, 5},
                          {1, 7, 4, 2},    {1, 9, 2, 8},    {1, 4, 33, 1},  {1, 2, 9, 13}, {1, 17, 8, 8}};
  int cases = 0;
  for (const Plane& p : planes)
    for (bool xs : {true, false})
      for (bool ys : {true, false})
        for (int rep = 0; rep < 3; ++rep) {
          const PoolGeometry2d g{p.n, p.c, p.h, p.w, 1, 1, p.h, p.w};
          const int32_t zx = rep == 0 ? q8_min(xs) : rep == 1 ? q8_max(xs) : pick_zero_point(xs, rng);
          const int32_t zy = pick_zero_point(ys, rng);
          const double ratio = rep == 2 ? 0.0123 : 1.7;
          const std::vector<QMultiplier> mult = count_multipliers(p.h * p.w, ratio);
          std::vector<uint8_t> x = random_bytes(rng, p.n * p.c * p.h * p.w);
          if (rep == 1) std::fill(x.begin(), x.begin() + static_cast<int64_t>(x.size()) / 2, xs ? 0x80 : 0x00);
          const int32_t lo = rep == 0 ? q8_min(ys) : std::clamp(zy, q8_min(ys), q8_max(ys)), hi = q8_max(ys);
          for (bool include : {false, true}) {
            std::vector<uint8_t> want(static_cast<size_t>(p.n * p.c), 1), got(want.size(), 2);
            ref::qavgpool2d(g, include, {x.data(), xs}, zx, mult, zy, lo, hi, {want.data(), ys});
            avx2::qavgpool2d(g, include, {x.data(), xs}, zx, mult, zy, lo, hi, {got.data(), ys});
            EXPECT_SAME_BYTES(want, got,
                              "seed " << seed << " global avgpool " << geom_str(g) << (xs ? " x s8" : " x u8") << " zx "
                                      << zx << (ys ? " y s8" : " y u8") << " zy " << zy << " ratio " << ratio);
            ++cases;
          }
        }
  RecordProperty("cases", cases);
}

TEST(QPoolAvx2, LargeWindowsAndZeroPoints) {
  REQUIRE_AVX2();
  const uint32_t seed = 205;
  std::mt19937 rng(seed);
  // Sums past int32: a global pool on a 2050x2050 plane and a zero point far outside the type
  // (the int64 paths), and a general window with that zero point.
  struct Case {
    PoolGeometry2d g;
    int32_t zx;
  };
  const Case cases[] = {{{1, 1, 2050, 2050, 1, 1, 2050, 2050}, 3},
                        {{1, 3, 40, 40, 1, 1, 40, 40}, 1 << 24},
                        {{1, 2, 9, 9, 9, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, -(1 << 29)}};
  for (const Case& c : cases)
    for (bool xs : {true, false}) {
      const std::vector<QMultiplier> mult = count_multipliers(c.g.kh * c.g.kw, 1e-9);
      const std::vector<uint8_t> x = random_bytes(rng, c.g.n * c.g.c * c.g.h * c.g.w);
      std::vector<uint8_t> want(static_cast<size_t>(c.g.n * c.g.c * c.g.oh * c.g.ow), 1), got(want.size(), 2);
      ref::qavgpool2d(c.g, false, {x.data(), xs}, c.zx, mult, 0, -128, 127, {want.data(), true});
      avx2::qavgpool2d(c.g, false, {x.data(), xs}, c.zx, mult, 0, -128, 127, {got.data(), true});
      const int64_t d = first_diff(want, got);
      ASSERT_EQ(d, -1) << "seed " << seed << " avgpool " << geom_str(c.g) << " zx " << c.zx << " x signed " << xs
                       << "; first difference at " << d;
    }
}

TEST(QPoolAvx2, CommonAveragePools) {
  REQUIRE_AVX2();
  const uint32_t seed = 204;
  std::mt19937 rng(seed);
  // Inception's 3x3 s1 p1 (either count rule), DenseNet's 2x2 s2, a 5x5 s3 (ceil mode).
  const PoolGeometry2d geoms[] = {{1, 8, 35, 35, 35, 35, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
                                  {1, 8, 56, 56, 28, 28, 2, 2, 2, 2, 1, 1},
                                  {1, 4, 17, 17, 5, 5, 5, 5, 3, 3, 1, 1, 0, 0, 0, 0}};
  for (const PoolGeometry2d& g : geoms)
    for (bool xs : {true, false})
      for (bool include : {false, true}) {
        const int32_t zx = pick_zero_point(xs, rng), zy = pick_zero_point(xs, rng);
        const std::vector<QMultiplier> mult = count_multipliers(g.kh * g.kw, 0.93);
        const std::vector<uint8_t> x = random_bytes(rng, g.n * g.c * g.h * g.w);
        std::vector<uint8_t> want(static_cast<size_t>(g.n * g.c * g.oh * g.ow)), got(want.size());
        ref::qavgpool2d(g, include, {x.data(), xs}, zx, mult, zy, q8_min(xs), q8_max(xs), {want.data(), xs});
        avx2::qavgpool2d(g, include, {x.data(), xs}, zx, mult, zy, q8_min(xs), q8_max(xs), {got.data(), xs});
        const int64_t d = first_diff(want, got);
        ASSERT_EQ(d, -1) << "seed " << seed << " avgpool " << geom_str(g) << " include " << include << " x signed "
                         << xs << " zx " << zx << " zy " << zy << "; first difference at " << d;
      }
}

}  // namespace
}  // namespace qmap::kernels::avx2
