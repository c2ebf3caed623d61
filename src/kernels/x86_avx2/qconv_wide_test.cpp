// Kernel tester of the int16 convolution (x86_avx2/qconv_wide.h: make_qconv_wide_avx2, the
// higher-precision form's int16 inputs and outputs on the AVX2 levels, and
// make_qconv_wide_avx512vnni, its 8 x 32 vpdpwssd tile, checked too on a CPU with AVX-512
// VNNI) against the reference
// (kernels/ref/qconv.h), bit for bit: every combination of input (u8, s8, s16) and output (u8,
// s8, s16, f32) with an int16 side, channel counts around the 4-channel register tile, the
// 64-channel chunk and the tap pair, pixel counts around the 16-lane block and the 64-pixel
// tile, every kernel shape, stride, dilation and asymmetric pad, groups up to depthwise,
// batches, extreme inputs and weights, clamps, float output, and 1..3 workers; and the
// factory declines a layer whose sums could leave int32. Compiled without ISA flags: the
// kernel is reached through the factory; skipped on a CPU without AVX2.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "kernels/qconv_kernel_internal.h"
#include "kernels/qconv_test_util.h"

namespace qmap::kernels {
namespace {

using testing::ConvCase;

#define REQUIRE_AVX2() \
  if (!testing::host_has_isa(Isa::kAvx2)) GTEST_SKIP() << "this CPU has no avx2"

// Multipliers scaled to the accumulators (|acc| ~ sqrt(taps) * |x| * 74) so most outputs land
// inside the output range instead of saturating.
void check(ConvCase c, int workers = 1) {
  const double taps = static_cast<double>(c.g.c / c.g.group * c.g.kh * c.g.kw);
  const double x_rms = c.x_wide ? 18900 : 74;
  const double y_range = c.y_wide ? 20000 : 60;
  c.mult_lo = y_range / (std::sqrt(taps) * x_rms * 74 + c.bias_range);
  c.mult_hi = 4 * c.mult_lo;
  if (c.x_wide) c.zx = 0;
  if (c.y_wide) c.zy = 0;
  testing::expect_matches_ref(&make_qconv_wide_avx2, "qconv_wide_avx2", c, true, workers);
  if (testing::host_has_isa(Isa::kAvx512Vnni))
    testing::expect_matches_ref(&make_qconv_wide_avx512vnni, "qconv_wide_avx512vnni", c, true, workers);
}

ConvCase conv(int64_t c, int64_t h, int64_t w, int64_t m, int64_t k, uint32_t seed) {
  ConvCase cc;
  cc.g.c = c, cc.g.h = h, cc.g.w = w, cc.g.m = m, cc.g.kh = k, cc.g.kw = k;
  cc.g.pad_top = cc.g.pad_left = cc.pad_bottom = cc.pad_right = k / 2;
  cc.x_wide = true;
  cc.y_wide = true;
  cc.seed = seed;
  return cc;
}

// Every input/output type pair with an int16 side.
TEST(QConvWideAvx2, TypePairs) {
  REQUIRE_AVX2();
  uint32_t seed = 1;
  for (int xt = 0; xt < 3; ++xt)      // u8, s8, s16
    for (int yt = 0; yt < 4; ++yt) {  // u8, s8, s16, f32
      if (xt != 2 && yt != 2) continue;
      ConvCase c = conv(5, 7, 9, 6, 3, seed++);
      c.x_wide = xt == 2, c.x_signed = xt == 1;
      c.y_wide = yt == 2, c.y_signed = yt == 1, c.float_out = yt == 3;
      c.zx = c.x_signed ? -7 : 9;
      c.zy = c.y_signed ? 3 : 100;
      for (bool relu : {false, true}) {
        c.relu = relu;
        check(c);
      }
    }
}

// Channels around the register tiles (4, 8), the tap pair (odd C * k * k) and the 64-channel chunk.
TEST(QConvWideAvx2, ChannelSweep) {
  REQUIRE_AVX2();
  uint32_t seed = 100;
  for (int64_t c : {1, 2, 3, 5, 8, 17, 33, 67})
    for (int64_t m : {1, 3, 4, 5, 7, 63, 64, 65, 67}) check(conv(c, 5, 6, m, 1, seed++));
  for (int64_t c : {1, 3, 7}) check(conv(c, 6, 5, 9, 3, seed++));
}

// Pixels around the 16- and 32-lane blocks and the 64-pixel tile (oh * ow = 1 .. 130).
TEST(QConvWideAvx2, PixelSweep) {
  REQUIRE_AVX2();
  uint32_t seed = 200;
  for (int64_t h : {1, 2, 4, 8, 13})
    for (int64_t w : {1, 3, 8, 10}) check(conv(3, h, w, 5, 3, seed++));
  for (int64_t w : {15, 16, 17, 31, 32, 33, 47, 63}) check(conv(5, 1, w, 9, 1, seed++));
  check(conv(4, 8, 16, 5, 1, seed++));   // 128 pixels: two full tiles
  check(conv(4, 10, 13, 5, 1, seed++));  // 130: a 2-pixel tail tile
}

// Strides, dilations, asymmetric pads, kernel shapes, groups, depthwise, batches.
TEST(QConvWideAvx2, Geometry) {
  REQUIRE_AVX2();
  uint32_t seed = 300;
  for (int64_t k : {1, 2, 3, 5, 7})
    for (int64_t s : {1, 2, 3})
      for (int64_t d : {1, 2}) {
        ConvCase c = conv(3, 11, 12, 4, k, seed++);
        c.g.stride_h = c.g.stride_w = s;
        c.g.dil_h = c.g.dil_w = d;
        c.g.pad_top = k / 2, c.g.pad_left = 0, c.pad_bottom = k, c.pad_right = (k + 1) / 2;
        if (c.g.h + c.g.pad_top + c.pad_bottom < d * (k - 1) + 1) continue;
        check(c);
      }
  ConvCase rect = conv(4, 9, 7, 6, 1, seed++);
  rect.g.kh = 3, rect.g.kw = 1, rect.g.pad_left = rect.pad_right = 0;
  check(rect);
  for (int64_t group : {2, 3, 6}) {
    ConvCase c = conv(6, 8, 8, 6, 3, seed++);
    c.g.group = group;
    check(c);
  }
  ConvCase dw = conv(32, 14, 14, 32, 3, seed++);  // depthwise, MobileNet's shape
  dw.g.group = 32;
  check(dw);
  dw.g.stride_h = dw.g.stride_w = 2;
  check(dw);
  ConvCase batch = conv(5, 6, 6, 7, 3, seed++);
  batch.g.n = 3;
  check(batch);
  // Gemm as 1x1 over the rows: 1x1 output, K = 160.
  check(conv(160, 1, 1, 37, 1, seed++));
}

// Extreme inputs and weights at the int16 and int8 limits, bias far from 0, no bias, workers.
TEST(QConvWideAvx2, ExtremesAndWorkers) {
  REQUIRE_AVX2();
  uint32_t seed = 400;
  for (bool xe : {false, true})
    for (bool we : {false, true}) {
      ConvCase c = conv(17, 7, 9, 13, 3, seed++);
      c.extreme_inputs = xe;
      c.extreme_weights = we;
      c.bias_range = 1 << 24;
      check(c);
    }
  ConvCase nb = conv(9, 5, 5, 8, 3, seed++);
  nb.has_bias = false;
  check(nb);
  ConvCase f = conv(9, 9, 9, 70, 3, seed++);
  f.float_out = true;
  for (int workers : {1, 2, 3}) check(f, workers);
  for (int workers : {2, 3}) check(conv(20, 12, 12, 130, 1, seed++), workers);
}

// Depthwise int16 layers in row mode take the depthwise kernels (x86_avx2/qconv_dw.h and, on
// a CPU with AVX-512 VNNI, x86_avx512vnni/qconv_dw.cpp: int16 rows read as they are, int16
// outputs narrowed): every type pair with an int16 side, 3x3 and 5x5 and 1x7, strides 1 and
// 2, widths around their 16- and 32-output blocks; general mode (stride 3, column dilation)
// declines, and the im2col kernel takes those.
void check_dw(const ConvCase& c, const char* what, int workers = 1) {
  testing::expect_matches_ref(&make_qconv_dw_avx2, (std::string("qconv_dw_avx2 ") + what).c_str(), c, true, workers);
  if (testing::host_has_isa(Isa::kAvx512Vnni))
    testing::expect_matches_ref(&make_qconv_dw_avx512vnni, (std::string("qconv_dw_avx512vnni ") + what).c_str(), c,
                                true, workers);
}

TEST(QConvWideAvx2, DepthwiseRowMode) {
  REQUIRE_AVX2();
  uint32_t seed = 500;
  for (int xt = 0; xt < 3; ++xt)
    for (int yt = 0; yt < 4; ++yt) {
      if (xt != 2 && yt != 2) continue;
      for (int64_t k : {3, 5})
        for (int64_t s : {1, 2})
          for (int64_t w : {7, 16, 17, 33, 65}) {
            ConvCase c = conv(6, 9, w, 6, k, seed++);
            c.g.group = 6;
            c.g.stride_h = c.g.stride_w = s;
            c.x_wide = xt == 2, c.x_signed = xt == 1;
            c.y_wide = yt == 2, c.y_signed = yt == 1, c.float_out = yt == 3;
            c.zx = c.x_signed ? -5 : 11;
            c.zy = c.y_signed ? 2 : 90;
            c.relu = (seed % 2) == 0;
            const double taps = static_cast<double>(k * k);
            c.mult_lo = (c.y_wide ? 20000 : 60) / (std::sqrt(taps) * (c.x_wide ? 18900 : 74) * 74 + c.bias_range);
            c.mult_hi = 4 * c.mult_lo;
            if (c.x_wide) c.zx = 0;
            if (c.y_wide) c.zy = 0;
            check_dw(c, "(int16)", 1 + (seed % 3));
          }
    }
  // int16 inputs with 8-bit outputs round in registers: a channel's rule (half up or away from
  // zero) must follow the int16 accumulators' reach, not the 8-bit bound. Inputs that are
  // multiples of 2^14 and the multiplier 2^-20 put about 1 output in 64 on a tie of 2^19,
  // which the 8-bit bound of a 3x3 layer (293,760) would rule out.
  for (bool relu : {false, true}) {
    ConvCase t = conv(8, 20, 33, 8, 3, seed++);
    t.g.group = 8;
    t.y_wide = false, t.y_signed = true, t.zy = 0, t.relu = relu;
    t.has_bias = false;
    t.x_low_zero_bits = 14;
    t.tie_every = 1, t.tie_mult = 0x1p-20;
    t.mult_lo = t.mult_hi = 0x1p-20;
    check_dw(t, "(int16 ties)", 2);
  }
  ConvCase rect = conv(4, 8, 12, 4, 1, seed++);
  rect.g.group = 4, rect.g.kw = 7, rect.g.pad_left = rect.pad_right = 3, rect.g.pad_top = rect.pad_bottom = 0;
  rect.mult_lo = 20000 / (std::sqrt(7.0) * 18900 * 74 + rect.bias_range), rect.mult_hi = 4 * rect.mult_lo;
  check_dw(rect, "(int16)");
  ConvCase general = conv(4, 12, 12, 4, 3, seed++);
  general.g.group = 4, general.g.stride_h = general.g.stride_w = 3;
  check(general);  // through the im2col kernel
  std::vector<int8_t> w(4 * 9, 3);
  std::vector<QMultiplier> mult(4, quantize_multiplier(1e-3));
  QConvParams p;
  p.g.c = p.g.m = p.g.group = 4, p.g.h = p.g.w = 12, p.g.kh = p.g.kw = 3, p.g.stride_h = p.g.stride_w = 3;
  p.g.oh = p.g.ow = 4;
  p.weights = w, p.mult = mult, p.x_wide = p.x_signed = true, p.lo = -128, p.hi = 127, p.y_signed = true;
  EXPECT_EQ(make_qconv_dw_avx2(p), nullptr) << "general mode takes 8-bit inputs only";
  EXPECT_EQ(make_qconv_dw_avx512vnni(p), nullptr) << "general mode takes 8-bit inputs only";
}

// The factory declines a layer where |bias| + sum |w| * 32768 reaches 2^31 on some channel
// (the reference then sums in int64), and takes the same layer with 8-bit inputs.
TEST(QConvWideAvx2, DeclinesPastTheInt32Bound) {
  REQUIRE_AVX2();
  std::vector<int8_t> w(600, -128);  // sum |w| * 32768 = 600 * 2^22 > 2^31
  std::vector<QMultiplier> mult(1, quantize_multiplier(1e-6));
  QConvParams p;
  p.g.c = 600;
  p.weights = w;
  p.mult = mult;
  p.x_wide = true;
  p.x_signed = true;
  p.lo = -128, p.hi = 127, p.y_signed = true;
  EXPECT_EQ(make_qconv_wide_avx2(p), nullptr);
  EXPECT_EQ(make_qconv_wide_avx512vnni(p), nullptr);  // declines before it would use the ISA
  p.x_wide = false;
  p.y_wide = true;
  p.lo = -32768, p.hi = 32767;
  EXPECT_NE(make_qconv_wide_avx2(p), nullptr);  // 600 * 128 * 255 < 2^31
  if (testing::host_has_isa(Isa::kAvx512Vnni)) {
    EXPECT_NE(make_qconv_wide_avx512vnni(p), nullptr);
  }
}

}  // namespace
}  // namespace qmap::kernels
