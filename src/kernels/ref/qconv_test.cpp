// qconv2d / qconv2d_float_out: hand-computed literals, and a sweep of shapes (sizes 1, odd,
// groups, depthwise, stride, dilation, padding) against the float computation
// (dequantized inputs, double sums, QuantizeLinear's rounding) within one output step: the
// integer path differs only by the multiplier's 2^-31 relative error and the tie rule.
#include "kernels/ref/qconv.h"

#include <cmath>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace qmap::kernels::ref {
namespace {

TEST(QConvRef, HandComputedLiteral) {
  // x 1x1x3x3 int8 with zero point 1: x - zx = 0..8. w 1x1x2x2 = [1 2; 3 4], bias 10,
  // pads 1 on top/left only (output 3x3 with pad_top = pad_left = 1, the rest unpadded):
  // y[0,0] = 10 + 4*0 = 10; y[1,1] = 10 + 1*0 + 2*1 + 3*3 + 4*4 = 37.
  const std::vector<int8_t> x = {1, 2, 3, 4, 5, 6, 7, 8, 9};
  const std::vector<int8_t> w = {1, 2, 3, 4};
  const std::vector<int32_t> b = {10};
  ConvGeometry2d g{1, 1, 3, 3, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1};
  // r = 0.5: 37 * 0.5 = 18.5 -> 19 (half away from zero), + zy 3.
  const std::vector<QMultiplier> m = {quantize_multiplier(0.5)};
  std::vector<int8_t> y(9);
  qconv2d(g, {x.data(), true}, 1, w, b, m, 3, -128, 127, {y.data(), true});
  EXPECT_EQ(y[0], 3 + 5);   // 10 * 0.5
  EXPECT_EQ(y[4], 3 + 19);  // 37 * 0.5 = 18.5
  // The same accumulators in float: acc * 0.25.
  std::vector<float> f(9);
  const std::vector<double> s = {0.25};
  qconv2d_float_out(g, {x.data(), true}, 1, w, b, s, f.data());
  EXPECT_FLOAT_EQ(f[0], 2.5f);
  EXPECT_FLOAT_EQ(f[4], 9.25f);
  // lo/hi clamp (a fused Relu with zy 3 clamps at 3): y[0] = -100 * 0.5 + 3 -> lo;
  // y[8] = (100 + 1*4 + 2*5 + 3*7 + 4*8) * 0.5 + 3 = 86.5 -> hi.
  qconv2d(g, {x.data(), true}, 1, w, std::vector<int32_t>{-100}, m, 3, 3, 10, {y.data(), true});
  EXPECT_EQ(y[0], 3);
  qconv2d(g, {x.data(), true}, 1, w, std::vector<int32_t>{100}, m, 3, 3, 10, {y.data(), true});
  EXPECT_EQ(y[8], 10);
  EXPECT_EQ(y[4], 10);
}

TEST(QConvRef, HugeBiasTakesTheExactWideAccumulator) {
  // bias near INT32_MAX: the int32 bound fails and the int64 path must still be exact.
  // acc = (2^31 - 2) + 127 * 127 * 2 (x - zx = 127 twice, w = 127), r = 2^-20.
  const std::vector<int8_t> x = {127, 127};
  const std::vector<int8_t> w = {127, 127};
  const std::vector<int32_t> b = {INT32_MAX - 1};
  ConvGeometry2d g{1, 2, 1, 1, 1, 1, 1, 1, 1};
  const QMultiplier r = quantize_multiplier(std::ldexp(1.0, -20));
  std::vector<float> f(1);
  const std::vector<double> s = {1.0};
  qconv2d_float_out(g, {x.data(), true}, 0, w, b, s, f.data());
  EXPECT_EQ(static_cast<double>(f[0]), static_cast<double>(static_cast<float>(int64_t{INT32_MAX} - 1 + 2 * 127 * 127)));
  std::vector<int8_t> y(1);
  qconv2d(g, {x.data(), true}, 0, w, b, std::vector<QMultiplier>{r}, -128, -128, 127, {y.data(), true});
  // (2^31 - 2 + 32258) / 2^20 = 2048.03 -> 2048 - 128, clamped to 127.
  EXPECT_EQ(y[0], 127);
  EXPECT_EQ(requantize(int64_t{INT32_MAX} - 1 + 2 * 127 * 127, r, -2100, -10000, 10000), 2048 - 2100);
  qconv2d(g, {x.data(), true}, 0, w, b, std::vector<QMultiplier>{r}, -2100, -128, 127, {y.data(), true});
  EXPECT_EQ(y[0], -52);  // 2048 - 2100: an int32 sum would have wrapped negative
}

struct Case {
  int64_t n, c, h, w, m, k, group, stride, dil, pad;
};

TEST(QConvRef, SweepAgainstFloatWithinOneStep) {
  const Case cases[] = {{1, 1, 1, 1, 1, 1, 1, 1, 1, 0}, {1, 3, 7, 5, 4, 3, 1, 1, 1, 1}, {2, 4, 8, 8, 8, 3, 4, 2, 1, 1},
                        {1, 6, 9, 9, 6, 3, 6, 1, 2, 2}, {1, 16, 4, 4, 17, 1, 1, 1, 1, 0}, {1, 5, 6, 3, 3, 2, 1, 2, 1, 0}};
  uint32_t seed = 100;
  for (const Case& c : cases) {
    ++seed;
    std::mt19937 rng(seed);
    const int64_t oh = (c.h + 2 * c.pad - c.dil * (c.k - 1) - 1) / c.stride + 1;
    const int64_t ow = (c.w + 2 * c.pad - c.dil * (c.k - 1) - 1) / c.stride + 1;
    ConvGeometry2d g{c.n, c.c, c.h, c.w, c.m, oh, ow, c.k, c.k, c.stride, c.stride, c.dil, c.dil, c.pad, c.pad, c.group};
    const int64_t cg = c.c / c.group;
    std::uniform_int_distribution<int> u8(0, 255), s8(-127, 127), bd(-2000, 2000);
    std::vector<uint8_t> x(static_cast<size_t>(c.n * c.c * c.h * c.w));
    for (auto& v : x) v = static_cast<uint8_t>(u8(rng));
    std::vector<int8_t> w(static_cast<size_t>(c.m * cg * c.k * c.k));
    for (auto& v : w) v = static_cast<int8_t>(s8(rng));
    std::vector<int32_t> b(static_cast<size_t>(c.m));
    for (auto& v : b) v = bd(rng);
    const float sx = 0.02f, sy = 0.7f;
    const int32_t zx = 100, zy = -5;
    std::vector<float> sw(static_cast<size_t>(c.m));
    std::vector<QMultiplier> mult;
    for (int64_t o = 0; o < c.m; ++o) {
      sw[static_cast<size_t>(o)] = 0.001f * static_cast<float>(1 + o % 7);
      mult.push_back(quantize_multiplier(static_cast<double>(sx) * sw[static_cast<size_t>(o)] / sy));
    }
    std::vector<int8_t> y(static_cast<size_t>(c.n * c.m * oh * ow));
    qconv2d(g, {x.data(), false}, zx, w, b, mult, zy, -128, 127, {y.data(), true});
    size_t exact = 0;
    for (int64_t n = 0; n < c.n; ++n)
      for (int64_t o = 0; o < c.m; ++o)
        for (int64_t oy = 0; oy < oh; ++oy)
          for (int64_t ox = 0; ox < ow; ++ox) {
            double acc = static_cast<double>(b[static_cast<size_t>(o)]) * sx * sw[static_cast<size_t>(o)];
            const int64_t c0 = (o / (c.m / c.group)) * cg;
            for (int64_t ci = 0; ci < cg; ++ci)
              for (int64_t ky = 0; ky < c.k; ++ky)
                for (int64_t kx = 0; kx < c.k; ++kx) {
                  const int64_t iy = oy * c.stride - c.pad + ky * c.dil, ix = ox * c.stride - c.pad + kx * c.dil;
                  if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
                  const double xv = (x[static_cast<size_t>(((n * c.c + c0 + ci) * c.h + iy) * c.w + ix)] - zx) * double{sx};
                  const double wv = w[static_cast<size_t>(((o * cg + ci) * c.k + ky) * c.k + kx)] * double{sw[static_cast<size_t>(o)]};
                  acc += xv * wv;
                }
            const double want = std::clamp(std::nearbyint(acc / sy) + zy, -128.0, 127.0);
            const size_t i = static_cast<size_t>(((n * c.m + o) * oh + oy) * ow + ox);
            ASSERT_LE(std::fabs(y[i] - want), 1.0) << "seed " << seed << " index " << i << " m " << c.m << " k " << c.k
                                                   << " group " << c.group;
            exact += y[i] == want;
          }
    EXPECT_GE(static_cast<double>(exact), 0.95 * static_cast<double>(y.size())) << "seed " << seed;
  }
}

}  // namespace
}  // namespace qmap::kernels::ref
