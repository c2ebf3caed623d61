// Kernel tester of the 256-bit GEMM convolution (x86_avx2/qconv_gemm.h) at each level that
// instantiates it, make_qconv_gemm_avx2 (int16 pairs) and make_qconv_gemm_avxvnni (u8 x s8
// quads, zero point folded into the bias), against the reference (kernels/ref/qconv.h), bit
// for bit: channel counts around the 6-channel tile and the K pair / quad, sizes around the
// 16-pixel panel and the 128-pixel block, every kernel shape, stride, dilation and
// asymmetric pad, groups up to depthwise, batches, several K blocks, both signednesses at
// the zero point extremes, clamps, bias at the int32 bound, extreme weights/inputs, tiny and
// large multipliers, float output, and 1..3 workers. Compiled without ISA flags: the kernels
// are reached only through the factories; a level the CPU (or the build) lacks is skipped.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/qconv_kernel_internal.h"
#include "kernels/qconv_test_util.h"

namespace qmap::kernels {
namespace {

using testing::ConvCase;

using testing::IsaFactory;

// One instance of every test per level (INSTANTIATE_TEST_SUITE_P below).
class QConvGemmAvx2 : public ::testing::TestWithParam<IsaFactory> {
 protected:
  // Cases keeping the util's default multipliers get ones scaled to K (|acc| ~ sqrt(K) * 74^2),
  // so most outputs land inside the 8-bit range instead of saturating.
  void check(ConvCase c, int workers = 1) const {
    if (c.mult_lo == ConvCase{}.mult_lo && c.mult_hi == ConvCase{}.mult_hi) {
      const double taps = static_cast<double>(c.g.c / c.g.group * c.g.kh * c.g.kw);
      c.mult_lo = 10 / (std::sqrt(taps) * 5500 + c.bias_range / 3.0 * 10);
      c.mult_hi = 20 * c.mult_lo;
    }
    testing::expect_matches_ref(GetParam().factory, GetParam().family, c, true, workers);
  }
};

#define REQUIRE_AVX2() \
  if (!testing::host_has_isa(GetParam().isa)) GTEST_SKIP() << "this CPU has no " << isa_name(GetParam().isa)

ConvCase conv(int64_t n, int64_t c, int64_t h, int64_t w, int64_t m, int64_t kh, int64_t kw, uint32_t seed) {
  ConvCase cc;
  cc.g.n = n, cc.g.c = c, cc.g.h = h, cc.g.w = w, cc.g.m = m, cc.g.kh = kh, cc.g.kw = kw;
  cc.zy = 100;  // inside both 8-bit ranges
  cc.seed = seed;
  return cc;
}

void pad(ConvCase& c, int64_t t, int64_t l, int64_t b, int64_t r) {
  c.g.pad_top = t, c.g.pad_left = l, c.pad_bottom = b, c.pad_right = r;
}

// Output channels and input channels around the tile (6), the K pair and twice the tile.
TEST_P(QConvGemmAvx2, ChannelSweep) {
  REQUIRE_AVX2();
  const int64_t cs[] = {1, 2, 3, 5, 6, 7, 11, 12, 13, 16, 17, 31, 33, 64, 67};
  const int64_t ms[] = {1, 2, 5, 6, 7, 11, 12, 13, 17, 18, 24, 31, 64, 67};
  uint32_t seed = 1;
  for (int64_t c : cs)
    for (int64_t m : ms) {
      ConvCase k1 = conv(1, c, 3, 7, m, 1, 1, seed++);
      k1.x_signed = seed % 2;
      k1.zx = k1.x_signed ? -3 : 131;
      check(k1);
      ConvCase k3 = conv(1, c, 5, 6, m, 3, 3, seed++);
      pad(k3, 1, 1, 1, 1);
      k3.y_signed = seed % 2;
      k3.zy = k3.y_signed ? 5 : 120;
      k3.zx = 77;
      check(k3);
    }
}

// Heights and widths around the 16-pixel panel and the 128-pixel block.
TEST_P(QConvGemmAvx2, SpatialSweep) {
  REQUIRE_AVX2();
  const int64_t sizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 23, 33};
  uint32_t seed = 100;
  for (int64_t h : sizes)
    for (int64_t w : sizes) {
      check(conv(1, 5, h, w, 7, 1, 1, seed++));
      ConvCase c = conv(1, 4, h, w, 13, 3, 3, seed++);
      pad(c, 1, 1, 1, 1);
      c.zx = 255;
      check(c);
    }
  for (int64_t s : {127, 128, 129, 255, 257}) check(conv(1, 9, 1, s, 8, 1, 1, seed++));
  ConvCase big = conv(1, 8, 19, 21, 9, 3, 3, seed++);  // several pixel blocks with a partial panel
  check(big);
}

// Kernel shapes x strides x dilations x asymmetric pads.
TEST_P(QConvGemmAvx2, KernelStrideDilationPad) {
  REQUIRE_AVX2();
  const int64_t shapes[][2] = {{1, 1}, {3, 3}, {5, 5}, {7, 7}, {1, 3}, {3, 1}, {2, 4}};
  const int64_t pads[][4] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 0, 3}};
  uint32_t seed = 1000;
  for (auto& k : shapes)
    for (int64_t s : {1, 2, 3})
      for (int64_t d : {1, 2})
        for (auto& pd : pads) {
          ConvCase c = conv(1, 3, 11, 14, 7, k[0], k[1], seed++);
          c.g.stride_h = s, c.g.stride_w = s == 3 ? 2 : s;
          c.g.dil_h = d, c.g.dil_w = d == 2 && k[1] > 1 ? 1 : d;
          pad(c, pd[0], pd[1], pd[2], pd[3]);
          if (c.g.h + pd[0] + pd[2] < c.g.dil_h * (k[0] - 1) + 1) continue;
          if (c.g.w + pd[1] + pd[3] < c.g.dil_w * (k[1] - 1) + 1) continue;
          c.x_signed = seed % 3 == 0;
          c.zx = c.x_signed ? 100 : 20;
          check(c);
        }
  // Stride bigger than the kernel (skipped inputs) and pads beyond the kernel reach.
  ConvCase c = conv(1, 6, 17, 17, 5, 1, 1, seed++);
  c.g.stride_h = c.g.stride_w = 3;
  check(c);
  ConvCase far = conv(1, 5, 6, 7, 9, 3, 3, seed++);
  pad(far, 3, 3, 3, 3);  // whole output rows and columns see only padding
  far.zx = 200;
  check(far);
}

// The implicit GEMM path (several taps, C/group a multiple of the K group): kernel shapes x
// strides (one phase image per stride phase) x dilations x asymmetric pads (wider than the
// kernel too) on rows narrower and wider than the 16-pixel panel, several row bands, several
// K blocks over the tap-major K, groups, both signednesses, float output, 1..3 workers.
TEST_P(QConvGemmAvx2, ImplicitGemm) {
  REQUIRE_AVX2();
  const int64_t shapes[][2] = {{3, 3}, {5, 5}, {1, 3}, {3, 1}, {2, 4}, {7, 7}};
  const int64_t pads[][4] = {{0, 0, 0, 0}, {1, 1, 1, 1}, {0, 1, 2, 3}, {3, 2, 1, 0}, {4, 5, 4, 5}};
  uint32_t seed = 7000;
  for (auto& k : shapes)
    for (int64_t st : {1, 2, 3})
      for (int64_t d : {1, 2})
        for (auto& pd : pads)
          for (int64_t w : {5, 14, 37}) {
            ConvCase c = conv(1, 8, 9, w, 11, k[0], k[1], seed++);
            c.g.dil_h = c.g.dil_w = d;
            c.g.stride_h = st, c.g.stride_w = st == 3 ? 2 : st;
            pad(c, pd[0], pd[1], pd[2], pd[3]);
            if (c.g.h + pd[0] + pd[2] < d * (k[0] - 1) + 1) continue;
            if (c.g.w + pd[1] + pd[3] < d * (k[1] - 1) + 1) continue;
            c.x_signed = seed % 3 == 0;
            c.zx = c.x_signed ? -100 : 200;
            c.float_out = seed % 7 == 0;
            check(c, static_cast<int>(seed % 3 + 1));
          }
  // Several row bands (up to 512 virtual pixels each) with a partial last panel.
  for (int64_t c : {4, 12, 16}) {
    ConvCase tall = conv(2, c, 61, 45, 13, 3, 3, seed++);
    pad(tall, 1, 1, 1, 1);
    check(tall);
    check(tall, 2);
    tall.g.stride_h = tall.g.stride_w = 2, tall.seed = seed++;
    check(tall, 3);
  }
  // Several K blocks over the tap-major K (K = 9 * 256), M tail; a grouped layer.
  ConvCase deep = conv(1, 256, 6, 7, 601, 3, 3, seed++);
  pad(deep, 1, 1, 1, 1);
  deep.x_signed = true;
  check(deep, 2);
  ConvCase grouped = conv(1, 16, 10, 12, 14, 3, 3, seed++);
  grouped.g.group = 2;
  pad(grouped, 1, 1, 1, 1);
  check(grouped, 3);
  // A band image of one row over 4 MB (2048 channels, 300-wide rows, dilation 8): im2col
  // instead, with the same results.
  ConvCase huge = conv(1, 2048, 17, 300, 6, 3, 3, seed++);
  huge.g.dil_h = huge.g.dil_w = 8;
  pad(huge, 8, 8, 8, 8);
  check(huge);
}

// The ResNet stem shape and a wide 1x1: several pixel blocks, K = 147 (odd).
TEST_P(QConvGemmAvx2, StemAndPointwise) {
  REQUIRE_AVX2();
  ConvCase stem = conv(1, 3, 40, 37, 16, 7, 7, 5000);
  stem.g.stride_h = stem.g.stride_w = 2;
  pad(stem, 3, 3, 3, 3);
  check(stem);
  check(stem, 3);
  // Stride 2 over wide rows: vector gathers with overlapping tails, row ends exactly at w.
  for (int64_t w : {64, 71, 75}) {
    ConvCase s2 = conv(1, 4, 5, w, 7, 3, 3, 5100 + static_cast<uint32_t>(w));
    s2.g.stride_h = s2.g.stride_w = 2;
    pad(s2, 1, 1, w % 2, w % 3);
    s2.x_signed = w % 2;
    check(s2);
    ConvCase s1 = conv(1, 3, 4, w, 5, 1, 5, 5200 + static_cast<uint32_t>(w));
    pad(s1, 0, 2, 0, w % 4);
    check(s1);
  }
  ConvCase pw = conv(2, 64, 20, 20, 67, 1, 1, 5001);
  check(pw, 2);
}

// Grouped convolutions up to depthwise (with channel multiplier), with batch 2.
TEST_P(QConvGemmAvx2, Groups) {
  REQUIRE_AVX2();
  uint32_t seed = 2000;
  for (int64_t group : {2, 4}) {
    for (int64_t cg : {1, 3, 8}) {
      for (int64_t mgr : {1, 7, 12}) {
        ConvCase c = conv(2, group * cg, 9, 10, group * mgr, 3, 3, seed++);
        c.g.group = group;
        pad(c, 1, 0, 1, 2);
        c.x_signed = seed % 2;
        check(c, seed % 3 + 1);
      }
    }
  }
  for (int64_t mult : {1, 2}) {
    for (int64_t s : {1, 2}) {
      ConvCase dw = conv(2, 16, 13, 12, 16 * mult, 3, 3, seed++);
      dw.g.group = 16;
      dw.g.stride_h = dw.g.stride_w = s;
      pad(dw, 1, 1, 1, 1);
      check(dw, 2);
    }
  }
  ConvCase dw5 = conv(1, 8, 11, 11, 8, 5, 5, seed++);
  dw5.g.group = 8;
  pad(dw5, 2, 2, 2, 2);
  check(dw5);
}

// Gemm / MatMul lowered as 1x1 convolutions on h = w = 1 with the rows as the batch, and
// layers with several K blocks (partial sums in scratch).
TEST_P(QConvGemmAvx2, GemmAndKBlocks) {
  REQUIRE_AVX2();
  uint32_t seed = 3000;
  for (int64_t n : {1, 2, 5})
    for (int64_t k : {1, 7, 64, 257})
      for (int64_t m : {1, 6, 10, 33}) check(conv(n, k, 1, 1, m, 1, 1, seed++), n % 3 + 1);
  // Many rows: several 16-row panels and row blocks, strided stores; float output too.
  for (int64_t n : {16, 17, 37, 600}) {
    ConvCase c = conv(n, 45, 1, 1, 20, 1, 1, seed++);
    c.x_signed = n % 2;
    check(c, n % 3 + 1);
    c.float_out = true, c.seed = seed++;
    check(c);
  }
  check(conv(3, 2048, 1, 1, 1000, 1, 1, seed++), 2);  // fc: many K blocks
  ConvCase wide = conv(1, 64, 3, 4, 600, 3, 3, seed++);    // 2 K blocks
  pad(wide, 1, 1, 1, 1);
  check(wide);
  check(wide, 3);
  ConvCase deep = conv(2, 130, 5, 5, 257, 3, 3, seed++);   // K = 1170, uneven blocks, M tail
  pad(deep, 1, 1, 1, 1);
  deep.x_signed = true;
  deep.zx = -128;
  check(deep, 2);
}

// The fully connected path (h = w = 1, group 1, 1..4 rows): channel counts around the
// 8-channel vector and the 32-channel block, K around the pair / quad and 16-byte row loads,
// both signednesses, float output, extremes, 1..3 workers. 5 rows take the Gemm rows mode.
TEST_P(QConvGemmAvx2, FullyConnected) {
  REQUIRE_AVX2();
  uint32_t seed = 8000;
  for (int64_t n : {1, 2, 3, 4, 5})
    for (int64_t k : {1, 3, 16, 17, 33, 130})
      for (int64_t m : {1, 8, 9, 31, 32, 33, 70}) {
        ConvCase c = conv(n, k, 1, 1, m, 1, 1, seed++);
        c.x_signed = (n + k) % 2;
        c.zx = c.x_signed ? -7 : 3;
        c.relu = m % 2;
        check(c, static_cast<int>(m % 3 + 1));
      }
  for (int64_t n : {1, 3, 4})
    for (bool xs : {false, true}) {
      ConvCase c = conv(n, 2048, 1, 1, 1000, 1, 1, seed++);  // ResNet-50's classifier
      c.x_signed = xs;
      c.float_out = true;
      check(c, 2);
      c.float_out = false, c.seed = seed++;
      check(c);
    }
  for (bool xs : {false, true}) {
    ConvCase c = conv(2, 67, 1, 1, 37, 1, 1, seed++);
    c.x_signed = xs;
    c.zx = xs ? -128 : 255;
    c.extreme_weights = true;
    c.extreme_inputs = true;
    c.bias_range = static_cast<int32_t>((int64_t{1} << 31) - 1 - 67 * 255 * 128);
    c.mult_lo = 0.5, c.mult_hi = 0.9;
    check(c, 3);
  }
}

// The register requantization rounds half up in channels that cannot meet a negative tie and
// half away from zero in the others (tie_every: channels with the multiplier 2^-12, whose
// accumulators -4096 * odd are ties), with and without the clamp, both output types, on the
// im2col, implicit, 1x1 and rows paths; enough outputs that ties occur.
TEST_P(QConvGemmAvx2, RoundingVariantsPerChannel) {
  REQUIRE_AVX2();
  uint32_t seed = 9000;
  const int64_t shapes[][5] = {{64, 20, 20, 40, 1}, {32, 15, 17, 33, 3}, {3, 20, 20, 16, 5}, {256, 7, 7, 50, 1}};
  for (const auto& sh : shapes)
    for (int tie_every : {1, 3, 8})
      for (bool relu : {false, true}) {
        ConvCase k = conv(2, sh[0], sh[1], sh[2], sh[3], sh[4], sh[4], seed++);
        pad(k, sh[4] / 2, sh[4] / 2, sh[4] / 2, sh[4] / 2);
        k.mult_lo = 0.002, k.mult_hi = 0.2;  // the register requantization's shift range
        k.tie_every = tie_every;
        k.bias_range = 1 << 14;
        k.relu = relu;
        k.y_signed = seed % 2;  // negative results in range, so negative ties show
        k.zy = k.y_signed ? -3 : 100;
        check(k, static_cast<int>(seed % 3 + 1));
      }
  ConvCase rows = conv(300, 64, 1, 1, 20, 1, 1, seed++);
  rows.mult_lo = 0.002, rows.mult_hi = 0.2, rows.tie_every = 2, rows.y_signed = true;
  check(rows, 2);
}

// Signedness x zero point extremes x relu, 8-bit and float output.
TEST_P(QConvGemmAvx2, SignednessZeroPointsClamps) {
  REQUIRE_AVX2();
  uint32_t seed = 4000;
  for (bool xs : {false, true})
    for (bool ys : {false, true})
      for (int32_t zx : xs ? std::vector<int32_t>{-128, 0, 127} : std::vector<int32_t>{0, 128, 255})
        for (int32_t zy : ys ? std::vector<int32_t>{-128, 0, 127} : std::vector<int32_t>{0, 128, 255})
          for (bool relu : {false, true}) {
            ConvCase c = conv(1, 7, 6, 9, 13, 3, 3, seed++);
            pad(c, 1, 2, 0, 1);
            c.x_signed = xs, c.y_signed = ys, c.zx = zx, c.zy = zy, c.relu = relu;
            c.mult_lo = 1e-3, c.mult_hi = 0.2;
            check(c);
          }
  for (bool xs : {false, true})
    for (bool relu : {false, true})
      for (bool bias : {false, true}) {
        ConvCase c = conv(2, 9, 7, 5, 11, 3, 3, seed++);
        pad(c, 1, 1, 1, 1);
        c.x_signed = xs, c.zx = xs ? 127 : 0, c.relu = relu, c.has_bias = bias, c.float_out = true;
        check(c, 2);
        c.g.stride_h = 2, c.seed = seed++;
        c.mult_lo = 1e-30, c.mult_hi = 1e-25;  // float underflow to +-0 and denormals
        check(c);
      }
}

// Extreme weights, inputs and bias at the int32 bound; tiny and large multipliers.
TEST_P(QConvGemmAvx2, Extremes) {
  REQUIRE_AVX2();
  uint32_t seed = 5000;
  for (bool xs : {false, true})
    for (int mode = 0; mode < 4; ++mode) {
      ConvCase c = conv(1, 67, 7, 8, 14, 3, 3, seed++);
      pad(c, 1, 1, 1, 1);
      c.x_signed = xs;
      c.zx = xs ? (mode % 2 ? -128 : 127) : (mode % 2 ? 0 : 255);
      c.extreme_weights = true;
      c.extreme_inputs = true;
      const int64_t taps = c.g.c * c.g.kh * c.g.kw;
      c.bias_range = static_cast<int32_t>((int64_t{1} << 31) - 1 - taps * 255 * 128);  // the largest exact |bias|
      if (mode == 0) c.mult_lo = 1e-9, c.mult_hi = 2e-9;
      if (mode == 1) c.mult_lo = 0.5, c.mult_hi = 0.9;
      if (mode == 2) c.mult_lo = 50, c.mult_hi = 100;
      if (mode == 3) c.float_out = true;
      check(c, mode % 3 + 1);
    }
  // A bias one past the bound: the factory declines (the reference would sum in int64).
  ConvCase over = conv(1, 3, 3, 3, 2, 1, 1, seed++);
  over.bias_range = static_cast<int32_t>((int64_t{1} << 31) - 1);
  QConvParams p;
  p.g = over.g;
  std::vector<int8_t> w(6, 1);
  std::vector<int32_t> bias = {INT32_MAX - 3 * 255 * 128 + 1, 0};
  std::vector<QMultiplier> mult(2);
  p.weights = w, p.bias = bias, p.mult = mult;
  EXPECT_EQ(GetParam().factory(p), nullptr);
  bias[0] -= 1;
  EXPECT_NE(GetParam().factory(p), nullptr);
}

// The result does not depend on the number of workers (channel-block split on small images).
TEST_P(QConvGemmAvx2, Workers) {
  REQUIRE_AVX2();
  uint32_t seed = 6000;
  for (int workers : {1, 2, 3}) {
    ConvCase small = conv(1, 32, 7, 7, 70, 3, 3, seed++);
    pad(small, 1, 1, 1, 1);
    check(small, workers);
    ConvCase many = conv(2, 16, 20, 13, 20, 1, 1, seed++);
    check(many, workers);
    ConvCase fo = conv(1, 12, 9, 9, 25, 3, 3, seed++);
    fo.float_out = true;
    fo.relu = true;
    check(fo, workers);
  }
}

// A kernel built from a stored packed blob (a .bin's PACKED section) gives the reference's
// bytes: one K block and several, groups, Gemm rows.
TEST_P(QConvGemmAvx2, AdoptsItsPackedBlob) {
  REQUIRE_AVX2();
  std::vector<ConvCase> cases = {conv(1, 19, 9, 11, 13, 3, 3, 1), conv(1, 2048, 3, 3, 7, 3, 3, 2),
                                 conv(4, 64, 1, 1, 10, 1, 1, 3), conv(6, 64, 1, 1, 10, 1, 1, 5),
                                 conv(1, 130, 1, 1, 45, 1, 1, 6)};
  ConvCase grouped = conv(1, 12, 8, 8, 18, 3, 3, 4);
  grouped.g.group = 3;
  cases.push_back(grouped);
  for (ConvCase& c : cases) {
    c.prepacked = true;
    check(c);
  }
}

TEST_P(QConvGemmAvx2, Name) {
  REQUIRE_AVX2();
  std::vector<int8_t> w(9, 1);
  std::vector<QMultiplier> mult(1);
  QConvParams p;
  p.g.h = p.g.w = 3, p.g.kh = p.g.kw = 3;
  p.weights = w, p.mult = mult;
  const std::string isa = isa_name(GetParam().isa);
  EXPECT_EQ(std::string(GetParam().factory(p)->name()).rfind("qu8_conv_gemm__" + isa + "_6x16", 0), 0u);
  p.x_signed = true;
  EXPECT_EQ(std::string(GetParam().factory(p)->name()).rfind("qs8_conv_gemm__" + isa + "_6x16", 0), 0u);
  p.g = {};  // 1x1 over 1x1, one row: the fully connected path
  p.weights = std::span<const int8_t>(w).first(1);
  EXPECT_EQ(std::string(GetParam().factory(p)->name()), "qs8_conv_gemm__" + isa + "_fc32");
}

const IsaFactory kGemmIsas[] = {
    {Isa::kAvx2, &make_qconv_gemm_avx2, "qconv_gemm_avx2"},
#if QMAP_HAVE_AVXVNNI
    {Isa::kAvxVnni, &make_qconv_gemm_avxvnni, "qconv_gemm_avxvnni"},
#endif
};
INSTANTIATE_TEST_SUITE_P(Isas, QConvGemmAvx2, ::testing::ValuesIn(kGemmIsas), testing::isa_param_name);

}  // namespace
}  // namespace qmap::kernels
