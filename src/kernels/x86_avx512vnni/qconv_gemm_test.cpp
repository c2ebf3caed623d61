// Kernel tester of the AVX-512 VNNI general convolution (qconv_gemm.cpp): bit equality with
// ref::qconv2d / qconv2d_float_out (kernels/qconv_test_util.h) over sweeps of every dimension
// around the kernel's tiles (8 output channels x 48 virtual pixels, channel quads of 4, the
// phase width ow + (kw-1)*dw/sw), every stride/dilation/pad/group form, both signednesses,
// extreme zero points, weights, inputs, biases and multipliers, float output, the Gemm batch
// fold, the row/weight chunking, the channel-vectorized small-image tiles (48 channels x
// <= 8 pixels), the (channel, tap) im2col quads for few channels, and 1, 2 and 3 workers. Compiled with baseline flags: only
// the factory and the QConvKernel interface are called. Skipped on CPUs without VNNI.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "kernels/qconv_kernel_internal.h"
#include "kernels/qconv_test_util.h"

namespace qmap::kernels {
namespace {

using testing::ConvCase;

#define SKIP_WITHOUT_VNNI()                                                            \
  if (!testing::host_has_isa(Isa::kAvx512Vnni)) GTEST_SKIP() << "no AVX-512 VNNI on this host"

void check(const ConvCase& c, int workers = 1) {
  testing::expect_matches_ref(make_qconv_gemm_avx512vnni, "qconv_gemm_avx512vnni", c, true, workers);
}

ConvCase conv(int64_t n, int64_t c, int64_t h, int64_t w, int64_t m, int64_t kh, int64_t kw, int64_t stride = 1,
              int64_t pad = 0, int64_t group = 1) {
  ConvCase k;
  k.g.n = n;
  k.g.c = c;
  k.g.h = h;
  k.g.w = w;
  k.g.m = m;
  k.g.kh = kh;
  k.g.kw = kw;
  k.g.stride_h = k.g.stride_w = stride;
  k.g.pad_top = k.g.pad_left = pad;
  k.pad_bottom = k.pad_right = pad;
  k.g.group = group;
  return k;
}

// A test shape: batch, channels, height, width, output channels, square kernel, stride, pad.
struct Shape {
  int64_t n, c, h, w, m, k, s, pad;
};
ConvCase conv(const Shape& s) { return conv(s.n, s.c, s.h, s.w, s.m, s.k, s.k, s.s, s.pad); }

// Varies the signedness / zero points / output form with i, so sweeps cover all of them.
void vary(ConvCase* c, int i) {
  c->x_signed = i % 2;
  c->y_signed = i / 2 % 2;
  static const int32_t zu[] = {0, 255, 128, 3}, zs[] = {-128, 127, 0, -5};
  c->zx = c->x_signed ? zs[i / 4 % 4] : zu[i / 4 % 4];
  c->zy = c->y_signed ? zs[i / 3 % 4] : zu[i / 3 % 4];
  c->relu = i % 5 == 1;
  c->float_out = i % 7 == 3;
  c->has_bias = i % 6 != 5;
  c->seed = static_cast<uint32_t>(1000 + i);
}

// Runs `dilated` with dilation 2 and `asym` with pads top 0 / bottom 2, left 2 / right 0, each
// varied by `i` and `i + 1`, on 2 and 3 workers.
void check_dilated_and_asymmetric(ConvCase dilated, ConvCase asym, int i) {
  dilated.g.dil_h = dilated.g.dil_w = 2;
  vary(&dilated, i);
  check(dilated, 2);
  asym.g.pad_top = 0;
  asym.pad_bottom = 2;
  asym.g.pad_left = 2;
  asym.pad_right = 0;
  vary(&asym, i + 1);
  check(asym, 3);
}

const int64_t kSizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24, 31, 32, 33, 47, 48, 49, 63, 64, 65, 67};

TEST(QConvGemmAvx512Vnni, ChannelsInOut) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (int64_t c : kSizes)
    for (int64_t m : kSizes) {
      ConvCase k = conv(1, c, 5, 7, m, 3, 3, 1, 1);
      vary(&k, i++);
      check(k);
    }
}

TEST(QConvGemmAvx512Vnni, ChannelsInOut1x1) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (int64_t c : kSizes)
    for (int64_t m : {1, 7, 8, 9, 17, 64, 67}) {
      ConvCase k = conv(1, c, 6, 9, m, 1, 1);
      vary(&k, i++);
      check(k);
    }
}

TEST(QConvGemmAvx512Vnni, WidthsHeights) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (int64_t w : {1, 2, 3, 5, 7, 8, 13, 15, 16, 17, 23, 31, 32, 33, 46, 47, 48, 49, 50, 63, 64, 65, 97})
    for (int64_t h : {1, 2, 3, 7, 17}) {
      ConvCase k = conv(1, 5, h, w, 9, 1, 1);
      vary(&k, i++);
      check(k);
      ConvCase k3 = conv(1, 6, h, w, 10, 3, 3, 1, 1);
      vary(&k3, i++);
      check(k3);
    }
}

TEST(QConvGemmAvx512Vnni, KernelShapesStridesPads) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  const int64_t ks[][2] = {{1, 1}, {3, 3}, {5, 5}, {7, 7}, {1, 3}, {3, 1}, {1, 7}, {2, 2}};
  for (const auto& kk : ks)
    for (int64_t sh : {1, 2, 3})
      for (int64_t sw : {1, 2, 3}) {
        if (sh != sw && (i % 2)) {
          ++i;
          continue;
        }
        ConvCase k = conv(1, 5, 19, 21, 11, kk[0], kk[1]);
        k.g.stride_h = sh;
        k.g.stride_w = sw;
        // Asymmetric pads up to 3 (begin pads below the kernel extent, as ONNX requires).
        k.g.pad_top = std::min<int64_t>(i % 4, kk[0] - 1);
        k.g.pad_left = std::min<int64_t>(i / 4 % 4, kk[1] - 1);
        k.pad_bottom = std::min<int64_t>((i + 1) % 4, kk[0] - 1);
        k.pad_right = std::min<int64_t>((i + 3) % 4, kk[1] - 1);
        vary(&k, i++);
        check(k);
      }
}

TEST(QConvGemmAvx512Vnni, PadsAsymmetric) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (int64_t pt : {0, 1, 2, 3})
    for (int64_t pl : {0, 1, 2, 3})
      for (int64_t pb : {0, 3})
        for (int64_t pr : {0, 2}) {
          ConvCase k = conv(1, 7, 9, 18, 9, 3, 5);
          k.g.pad_top = pt;
          k.g.pad_left = pl;
          k.pad_bottom = pb;
          k.pad_right = pr;
          k.g.stride_h = 1 + i % 2;
          k.g.stride_w = 1 + i / 2 % 2;
          vary(&k, i++);
          check(k);
        }
}

TEST(QConvGemmAvx512Vnni, Dilations) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (int64_t dh : {1, 2, 3})
    for (int64_t dw : {1, 2})
      for (int64_t s : {1, 2})
        for (int64_t kh : {1, 3}) {
          ConvCase k = conv(1, 6, 17, 20, 13, kh, 3, s, 2);
          k.g.dil_h = dh;
          k.g.dil_w = dw;
          vary(&k, i++);
          check(k);
        }
}

TEST(QConvGemmAvx512Vnni, Groups) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (int64_t group : {1, 2, 4})
    for (int64_t cg : {1, 3, 4, 5, 8})
      for (int64_t mg : {1, 5, 8, 9, 16}) {
        ConvCase k = conv(1, cg * group, 9, 11, mg * group, 3, 3, 1 + i % 2, 1, group);
        vary(&k, i++);
        check(k);
      }
}

TEST(QConvGemmAvx512Vnni, Depthwise) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (int64_t c : {1, 8, 17, 32})
    for (int64_t s : {1, 2})
      for (int64_t kk : {3, 5}) {
        ConvCase k = conv(1, c, 14, 15, c, kk, kk, s, kk / 2, c);
        vary(&k, i++);
        check(k);
        ConvCase k2 = conv(1, c, 9, 10, 2 * c, kk, kk, s, 1, c);  // depth multiplier 2
        vary(&k2, i++);
        check(k2);
      }
}

TEST(QConvGemmAvx512Vnni, Batch) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (int64_t n : {1, 2, 3})
    for (int64_t group : {1, 2}) {
      ConvCase k = conv(n, 6, 8, 13, 10, 3, 3, 1, 1, group);
      vary(&k, i++);
      check(k);
      ConvCase k1 = conv(n, 10, 7, 7, 18, 1, 1, 2, 0, group);
      vary(&k1, i++);
      check(k1);
    }
}

// Gemm / MatMul: a 1x1 convolution over h = w = 1 with the rows as the batch.
TEST(QConvGemmAvx512Vnni, GemmRows) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (int64_t n : {1, 2, 3, 4, 5, 16, 17, 33, 48, 49, 100})
    for (int64_t c : {1, 4, 7, 64, 67})
      for (int64_t m : {1, 9, 33}) {
        ConvCase k = conv(n, c, 1, 1, m, 1, 1);
        vary(&k, i++);
        check(k);
      }
  // Grouped, padded (not folded: oh = ow > 1) and strided variants of h = w = 1.
  ConvCase g = conv(20, 8, 1, 1, 6, 1, 1, 1, 0, 2);
  vary(&g, 1);
  check(g);
  ConvCase p = conv(3, 5, 1, 1, 7, 1, 1, 1, 1);
  vary(&p, 2);
  check(p);
  ConvCase s = conv(4, 5, 1, 1, 7, 1, 1, 3, 0);
  vary(&s, 3);
  check(s);
}

// Fully connected (n <= 4 rows of one pixel, vectorized over output channels in blocks of
// 64): channel tails, K tails, every output form, 1-3 workers.
TEST(QConvGemmAvx512Vnni, FullyConnected) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (int64_t n : {1, 2, 3, 4})
    for (int64_t c : {1, 3, 4, 5, 64, 67, 1280})
      for (int64_t m : {1, 15, 16, 17, 63, 64, 65, 130, 1000}) {
        if (c * m > 200000 && (n > 1 || m != 1000)) continue;
        ConvCase k = conv(n, c, 1, 1, m, 1, 1);
        vary(&k, i);
        check(k, 1 + i % 3);
        ++i;
      }
}

// A kernel built from a stored packed blob (a .bin's PACKED section) gives the reference's
// bytes on every path: fully connected, channel-vectorized, the general one with tap-major and
// (channel, tap) quads, the folded batch, groups.
TEST(QConvGemmAvx512Vnni, AdoptsItsPackedBlob) {
  SKIP_WITHOUT_VNNI();
  std::vector<ConvCase> cases = {conv(1, 67, 1, 1, 130, 1, 1),   conv(1, 64, 7, 7, 67, 3, 3, 1, 1),
                                 conv(1, 256, 14, 14, 64, 1, 1), conv(1, 3, 32, 32, 17, 7, 7, 2, 3),
                                 conv(1, 16, 20, 20, 24, 3, 3, 1, 1, 2), conv(5, 40, 1, 1, 33, 1, 1)};
  for (size_t i = 0; i < cases.size(); ++i) {
    vary(&cases[i], static_cast<int>(i));
    cases[i].prepacked = true;
    check(cases[i], 1 + static_cast<int>(i % 2));
  }
}

// The register requantization (shifts 32..53) at both ends of its range with accumulators
// at the int32 bound, and the shifts just outside it (31, 54: the general path), over the
// conv tile shapes and both output types with and without a clamp inside the type's range.
TEST(QConvGemmAvx512Vnni, RequantShiftBounds) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  // Real multipliers r = f * 2^(31 - shift) for f in [0.5, 1); powers of two (m = 2^30)
  // make exact rounding ties common (acc * m = 2^(shift-1) mod 2^shift), both signs.
  const double ranges[][2] = {{0.2501, 0.4999}, {0.5, 0.9}, {1.2e-7, 2.3e-7}, {6.0e-8, 1.1e-7}, {1e-4, 0.05},
                              {0.25, 0.25}, {0x1p-9, 0x1p-9}, {0x1p-16, 0x1p-16}};
  for (const auto& r : ranges)
    for (int64_t kk : {1, 3})
      for (bool ys : {false, true})
        for (bool relu : {false, true}) {
          ConvCase k = conv(1, 16, 7, 52, 9, kk, kk, 1, kk / 2);
          const int64_t taps = 16 * kk * kk;
          const bool tie = r[0] == r[1];  // small accumulators, so the ties are in range
          k.bias_range = tie ? 1 << 12 : static_cast<int32_t>((int64_t{1} << 31) - 1 - taps * 255 * 128);
          k.extreme_weights = !tie && i % 2 == 0;
          k.extreme_inputs = !tie && i % 3 != 2;
          k.mult_lo = r[0];
          k.mult_hi = r[1];
          k.y_signed = ys;
          k.zy = ys ? (i % 2 ? -128 : 5) : (i % 2 ? 0 : 200);
          k.relu = relu;
          k.x_signed = i % 2;
          k.zx = k.x_signed ? -7 : 9;
          k.seed = static_cast<uint32_t>(1500 + i++);
          check(k);
        }
}

TEST(QConvGemmAvx512Vnni, SignednessAndZeroPoints) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (bool xs : {false, true})
    for (bool ys : {false, true})
      for (int zi = 0; zi < 4; ++zi)
        for (bool relu : {false, true}) {
          ConvCase k = conv(1, 9, 6, 19, 10, 3, 3, 1, 1);
          k.x_signed = xs;
          k.y_signed = ys;
          static const int32_t zu[] = {0, 255, 128, 1}, zs[] = {-128, 127, 0, -1};
          k.zx = xs ? zs[zi] : zu[zi];
          k.zy = ys ? zs[3 - zi] : zu[3 - zi];
          k.relu = relu;
          k.seed = static_cast<uint32_t>(i++);
          check(k);
        }
}

TEST(QConvGemmAvx512Vnni, ExtremeValues) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (bool xs : {false, true})
    for (int64_t kk : {1, 3})
      for (bool ew : {false, true})
        for (bool ex : {false, true})
          for (int zi = 0; zi < 2; ++zi) {
            ConvCase k = conv(1, 13, 7, 9, 9, kk, kk, 1, kk / 2);
            k.x_signed = xs;
            k.zx = xs ? (zi ? 127 : -128) : (zi ? 255 : 0);
            k.extreme_weights = ew;
            k.extreme_inputs = ex;
            k.y_signed = i % 2;
            k.float_out = i % 3 == 0;
            k.seed = static_cast<uint32_t>(77 + i++);
            check(k);
          }
}

// Bias as large as qconv_int32_exact allows: |bias| + taps * 255 * 128 < 2^31, with extreme
// weights and inputs so the true accumulator reaches the bound (intermediate sums wrap).
TEST(QConvGemmAvx512Vnni, BiasNearInt32Bound) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (int64_t c : {3, 16, 64})
    for (int64_t kk : {1, 3})
      for (bool xs : {false, true}) {
        ConvCase k = conv(1, c, 5, 6, 10, kk, kk, 1, kk / 2);
        const int64_t taps = c * kk * kk;
        k.bias_range = static_cast<int32_t>((int64_t{1} << 31) - 1 - taps * 255 * 128);
        k.x_signed = xs;
        k.zx = xs ? (i % 2 ? 127 : -128) : (i % 2 ? 255 : 0);
        k.extreme_weights = true;
        k.extreme_inputs = i % 3 != 2;
        k.float_out = i % 4 == 1;
        k.mult_lo = 1e-9;
        k.mult_hi = 1e-6;
        k.seed = static_cast<uint32_t>(300 + i++);
        check(k);
      }
}

TEST(QConvGemmAvx512Vnni, Multipliers) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  const double ranges[][2] = {{1e-9, 2e-9}, {1e-6, 1e-3}, {0.5, 0.9}, {0.9, 0.9}, {10, 100}, {100, 100}};
  for (const auto& r : ranges)
    for (bool ys : {false, true})
      for (bool relu : {false, true}) {
        ConvCase k = conv(1, 7, 6, 11, 12, 3, 3, 1, 1);
        k.mult_lo = r[0];
        k.mult_hi = r[1];
        k.y_signed = ys;
        k.zy = ys ? -3 : 100;
        k.relu = relu;
        k.x_signed = i % 2;
        k.zx = k.x_signed ? 5 : 130;
        k.seed = static_cast<uint32_t>(500 + i++);
        check(k);
      }
}

TEST(QConvGemmAvx512Vnni, FloatOut) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (bool xs : {false, true})
    for (bool relu : {false, true})
      for (int64_t kk : {1, 3})
        for (bool bias : {false, true}) {
          ConvCase k = conv(1 + i % 2, 11, 9, 17, 19, kk, kk, 1, kk / 2);
          k.x_signed = xs;
          k.zx = xs ? -128 : 255;
          k.float_out = true;
          k.relu = relu;
          k.has_bias = bias;
          k.mult_lo = i % 3 ? 1e-9 : 0.9;
          k.mult_hi = i % 3 ? 1e-3 : 100;
          k.seed = static_cast<uint32_t>(700 + i++);
          check(k);
        }
}

TEST(QConvGemmAvx512Vnni, Workers) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  for (int workers : {1, 2, 3}) {
    ConvCase a = conv(1, 16, 23, 29, 24, 3, 3, 1, 1);
    vary(&a, i++);
    check(a, workers);
    ConvCase b = conv(2, 12, 7, 7, 40, 1, 1, 1, 0, 2);  // few rows: splits output channels too
    vary(&b, i++);
    check(b, workers);
    ConvCase c = conv(1, 8, 3, 3, 17, 3, 3, 2, 1);  // fewer tasks than workers
    vary(&c, i++);
    check(c, workers);
    ConvCase d = conv(37, 20, 1, 1, 30, 1, 1);  // Gemm rows
    vary(&d, i++);
    check(d, workers);
    ConvCase e = conv(1, 8, 1, 1, 9, 1, 1);  // a single output pixel
    vary(&e, i++);
    check(e, workers);
    ConvCase f = conv(1, 32, 28, 28, 24, 1, 1);  // 784 pixels: row halves of >= 384 pixels each
    vary(&f, i++);
    check(f, workers);
    // 81 pixels (channel shares) whose 36 KB rows make 2 packed row chunks: each share runs its
    // channels over both chunks.
    ConvCase g = conv(1, 4096, 9, 9, 40, 1, 1);
    vary(&g, i++);
    check(g, workers);
  }
}

// Shapes that cut the work into several packed row chunks, weight chunks and Gemm row chunks
// in one task.
TEST(QConvGemmAvx512Vnni, Chunking) {
  SKIP_WITHOUT_VNNI();
  ConvCase rows = conv(1, 256, 20, 64, 9, 1, 1);  // 16 KB packed per row: 2 row chunks
  vary(&rows, 1);
  check(rows);
  ConvCase rows3 = conv(1, 128, 40, 60, 5, 3, 3, 1, 1);  // ~8 KB per row + halo: 2 chunks
  vary(&rows3, 2);
  check(rows3);
  ConvCase wchunk = conv(1, 512, 3, 4, 130, 3, 3, 1, 1);  // 36 KB per 8 channels: 2 weight chunks
  vary(&wchunk, 3);
  check(wchunk, 2);
  ConvCase gemm = conv(70, 4096, 1, 1, 9, 1, 1);  // 64 rows per Gemm chunk: 2 chunks
  vary(&gemm, 4);
  check(gemm);
  ConvCase bigk = conv(1, 2, 20, 21, 3, 17, 17, 1, 8);  // 289 taps
  vary(&bigk, 5);
  check(bigk);
}

// Few input channels: im2col quads over (channel, tap) (stems, depthwise): K padding
// (147 -> 148), K near the 256 limit, strides 1-3, dilation, pads, groups, batch, row
// chunks, 1-3 workers, every output form and multipliers outside the register range.
TEST(QConvGemmAvx512Vnni, TapQuads) {
  SKIP_WITHOUT_VNNI();
  struct S {
    int64_t n, c, h, w, m, k, s, pad, group, dil;
  };
  const S shapes[] = {{1, 3, 40, 37, 64, 7, 2, 3, 1, 1},  {1, 3, 23, 23, 17, 3, 2, 1, 1, 1},
                      {1, 5, 20, 21, 9, 7, 1, 3, 1, 1},   {1, 2, 30, 30, 24, 11, 3, 5, 1, 1},
                      {1, 7, 15, 16, 33, 3, 1, 1, 1, 2},  {2, 6, 12, 13, 40, 3, 2, 0, 2, 1},
                      {1, 8, 14, 14, 8, 3, 1, 1, 8, 1},   {1, 1, 9, 70, 5, 5, 1, 2, 1, 1},
                      {1, 3, 120, 64, 16, 7, 2, 3, 1, 1}, {1, 6, 11, 9, 12, 2, 1, 1, 3, 1}};
  int i = 0;
  for (const S& s : shapes)
    for (int rep = 0; rep < 3; ++rep) {
      ConvCase k = conv(s.n, s.c, s.h, s.w, s.m, s.k, s.k, s.s, s.pad, s.group);
      k.g.dil_h = k.g.dil_w = s.dil;
      vary(&k, i);
      k.x_signed = rep % 2;
      k.zx = k.x_signed ? (i % 2 ? -128 : 9) : (i % 2 ? 255 : 4);
      if (rep == 2) k.float_out = !k.float_out;
      check(k, 1 + i % 3);
      ++i;
    }
  const double ranges[][2] = {{0.5, 0.9}, {6.0e-8, 1.1e-7}, {0x1p-9, 0x1p-9}};
  for (const auto& r : ranges)
    for (bool relu : {false, true}) {
      ConvCase k = conv(1, 3, 19, 21, 20, 7, 7, 2, 3);
      k.mult_lo = r[0];
      k.mult_hi = r[1];
      k.extreme_inputs = i % 2;
      k.extreme_weights = i % 3 == 0;
      k.y_signed = i % 2;
      k.zy = k.y_signed ? -3 : 7;
      k.relu = relu;
      k.x_signed = i / 2 % 2;
      k.zx = k.x_signed ? -7 : 9;
      k.seed = static_cast<uint32_t>(3500 + i++);
      check(k, 1 + i % 3);
    }
}

// The channel-vectorized path (small output images with K = taps * C/4*4 >= 256, or 3x3+
// with K >= 1024 up to 1024 pixels): 48-channel blocks with tails, pixel tiles of <= 8 with
// tails, 1x1 strided (packed subsampled) with and without pads, 3x3 strided / dilated /
// asymmetric, channel counts not a multiple of 4, batch, 1-3 workers, every output form.
TEST(QConvGemmAvx512Vnni, ChannelVectorized) {
  SKIP_WITHOUT_VNNI();
  const Shape shapes[] = {{1, 256, 7, 7, 16, 1, 1, 0},   {1, 256, 7, 7, 17, 1, 1, 0},    {1, 260, 7, 7, 33, 1, 1, 0},
                      {1, 300, 7, 7, 47, 1, 1, 0},   {1, 256, 7, 7, 48, 1, 1, 0},    {1, 257, 7, 7, 49, 1, 1, 0},
                      {1, 512, 7, 7, 97, 1, 1, 0},   {1, 256, 1, 1, 40, 1, 1, 0},    {1, 256, 3, 5, 64, 1, 1, 0},
                      {1, 256, 8, 8, 50, 1, 1, 0},   {1, 256, 9, 7, 20, 1, 1, 0},    {1, 256, 14, 14, 64, 1, 2, 0},
                      {1, 260, 13, 13, 36, 1, 2, 0}, {1, 256, 15, 16, 30, 1, 3, 0},  {1, 256, 7, 7, 24, 1, 2, 1},
                      {1, 256, 6, 6, 40, 1, 1, 1},   {1, 32, 7, 7, 48, 3, 1, 1},     {1, 65, 7, 7, 50, 3, 1, 1},
                      {1, 64, 14, 14, 64, 3, 2, 1},  {1, 33, 3, 3, 18, 3, 1, 0},     {1, 40, 9, 11, 70, 3, 1, 2},
                      {2, 128, 7, 7, 64, 3, 1, 1},   {3, 256, 5, 5, 20, 1, 1, 0},    {1, 128, 20, 20, 40, 3, 1, 1},
                      {1, 120, 17, 23, 49, 3, 1, 1}, {1, 128, 40, 40, 33, 3, 2, 1},  {1, 8, 9, 9, 64, 7, 2, 3},
                      {1, 64, 7, 7, 32, 2, 1, 0}};
  int i = 0;
  for (const Shape& s : shapes)
    for (int rep = 0; rep < 3; ++rep) {
      ConvCase k = conv(s);
      vary(&k, i);
      k.x_signed = rep % 2;
      k.zx = k.x_signed ? -5 : 7;
      if (rep == 2) k.float_out = !k.float_out;
      check(k, 1 + i % 3);
      ++i;
    }
  check_dilated_and_asymmetric(conv(1, 64, 9, 9, 40, 3, 3, 1, 2), conv(1, 64, 8, 7, 40, 3, 3, 2, 1), 3);
  // Multipliers outside the register requantization's shift range, ties, extremes.
  const double ranges[][2] = {{0.2501, 0.4999}, {0.5, 0.9}, {1.2e-7, 2.3e-7}, {6.0e-8, 1.1e-7}, {0x1p-16, 0x1p-16}};
  for (const auto& r : ranges)
    for (int64_t kk : {1, 3})
      for (bool relu : {false, true}) {
        ConvCase k = conv(1, 256, 7, 7, 40, kk, kk, 1, kk / 2);
        const int64_t taps = 256 * kk * kk;
        const bool tie = r[0] == r[1];
        k.bias_range = tie ? 1 << 12 : static_cast<int32_t>((int64_t{1} << 31) - 1 - taps * 255 * 128);
        k.extreme_weights = !tie && i % 2 == 0;
        k.extreme_inputs = !tie && i % 3 != 2;
        k.mult_lo = r[0];
        k.mult_hi = r[1];
        k.y_signed = i % 2;
        k.zy = k.y_signed ? (i % 4 ? -128 : 5) : (i % 4 ? 0 : 200);
        k.relu = relu;
        k.x_signed = i / 2 % 2;
        k.zx = k.x_signed ? -7 : 9;
        k.seed = static_cast<uint32_t>(2500 + i++);
        check(k, 1 + i % 3);
      }
}

// The channel-vectorized path split by row bands (several workers, the image's packed bytes
// over the weights'): each task packs only the grid rows of its pixel tiles, whose bands end
// mid-row; 3x3 stride 1 and 2, dilated, asymmetric pads, 1x1 strided (the subsampled grid),
// a batch, 2 and 3 workers (4 and 6 bands per image), every output form.
TEST(QConvGemmAvx512Vnni, ChannelVectorizedRowBands) {
  SKIP_WITHOUT_VNNI();
  // n, c, h, w, m, k, s, pad: packed (h + 2 pad) * (w + 2 pad) * c > ceil(m / 48) * 48 * k * k * c.
  const Shape shapes[] = {{1, 128, 40, 40, 33, 3, 2, 1}, {1, 128, 21, 21, 48, 3, 1, 1}, {1, 116, 23, 19, 20, 3, 1, 1},
                          {2, 128, 27, 27, 16, 3, 2, 1}, {1, 256, 8, 8, 40, 1, 1, 0},   {1, 256, 15, 15, 30, 1, 2, 0}};
  int i = 0;
  for (const Shape& s : shapes)
    for (int workers : {2, 3}) {
      ConvCase k = conv(s);
      vary(&k, i);
      k.x_signed = i % 2;
      k.zx = k.x_signed ? -3 : 11;
      if (i % 3 == 2) k.float_out = !k.float_out;
      k.seed = static_cast<uint32_t>(3100 + i++);
      check(k, workers);
    }
  check_dilated_and_asymmetric(conv(1, 128, 24, 24, 20, 3, 3, 1, 2), conv(1, 128, 25, 22, 24, 3, 3, 2, 1), 5);
}

// Realistic (ResNet-50-like, spatially reduced) layers.
TEST(QConvGemmAvx512Vnni, ResNetShapes) {
  SKIP_WITHOUT_VNNI();
  int i = 0;
  struct S {
    int64_t c, h, m, k, s, pad;
  };
  const S shapes[] = {{64, 14, 64, 3, 1, 1}, {256, 14, 64, 1, 1, 0}, {64, 14, 256, 1, 1, 0},
                      {128, 14, 128, 3, 2, 1}, {256, 14, 512, 1, 2, 0}, {3, 32, 64, 7, 2, 3},
                      {512, 7, 64, 3, 1, 1}};
  for (const S& s : shapes) {
    ConvCase k = conv(1, s.c, s.h, s.h, s.m, s.k, s.k, s.s, s.pad);
    vary(&k, i);
    k.x_signed = false;
    k.zx = 0;
    k.relu = true;
    k.seed = static_cast<uint32_t>(900 + i++);
    check(k, 1 + i % 2);
  }
}

// Random geometries: every parameter at once (pads may exceed the kernel extent, giving
// all-padding windows), bounded so the reference stays fast.
TEST(QConvGemmAvx512Vnni, RandomGeometries) {
  SKIP_WITHOUT_VNNI();
  std::mt19937 rng(20240601);
  auto pick = [&](int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(rng() % static_cast<uint32_t>(hi - lo + 1)); };
  int done = 0;
  while (done < 400) {
    ConvCase k;
    auto& g = k.g;
    g.group = std::vector<int64_t>{1, 1, 1, 2, 3, 4}[rng() % 6];
    g.c = g.group * pick(1, 24);
    g.m = g.group * pick(1, 24);
    if (rng() % 8 == 0) g.c = g.m = g.group = pick(1, 20);  // depthwise
    g.n = pick(1, 3);
    g.h = pick(1, 30);
    g.w = pick(1, 40);
    g.kh = pick(1, 7);
    g.kw = rng() % 3 == 0 ? g.kh : pick(1, 7);
    g.stride_h = pick(1, 3);
    g.stride_w = rng() % 2 ? g.stride_h : pick(1, 3);
    g.dil_h = rng() % 3 == 0 ? pick(1, 3) : 1;
    g.dil_w = rng() % 3 == 0 ? pick(1, 3) : 1;
    g.pad_top = pick(0, 3);
    g.pad_left = pick(0, 3);
    k.pad_bottom = pick(0, 3);
    k.pad_right = pick(0, 3);
    const int64_t oh = (g.h + g.pad_top + k.pad_bottom - g.dil_h * (g.kh - 1) - 1) / g.stride_h + 1;
    const int64_t ow = (g.w + g.pad_left + k.pad_right - g.dil_w * (g.kw - 1) - 1) / g.stride_w + 1;
    if (g.h + g.pad_top + k.pad_bottom < g.dil_h * (g.kh - 1) + 1 || g.w + g.pad_left + k.pad_right < g.dil_w * (g.kw - 1) + 1)
      continue;
    if (g.n * g.m * oh * ow * (g.c / g.group) * g.kh * g.kw > 3000000) continue;
    vary(&k, done);
    k.extreme_weights = rng() % 10 == 0;
    k.extreme_inputs = rng() % 10 == 0;
    k.seed = static_cast<uint32_t>(5000 + done);
    check(k, 1 + done % 3);
    ++done;
  }
}

// Register requantization rounds half up in blocks whose channels can never meet a tie
// (ties_possible) and half away from zero in the others: blocks of 8 (general path) and 16
// (channel-vectorized path) channels that mix random multipliers with exact powers of two
// (2^-12: a tie whenever acc = 2^11 * odd), so both variants run side by side, with ties hit.
TEST(QConvGemmAvx512Vnni, RoundingVariantsPerBlock) {
  SKIP_WITHOUT_VNNI();
  struct S {
    int64_t c, h, w, m, k, s, pad;
  };
  const S shapes[] = {{64, 20, 20, 40, 1, 1, 0}, {32, 15, 17, 33, 3, 1, 1}, {16, 24, 24, 17, 3, 2, 1},
                      {256, 7, 7, 50, 1, 1, 0},  {128, 7, 7, 48, 3, 1, 1}, {3, 20, 20, 16, 7, 2, 3}};
  int i = 0;
  for (const S& s : shapes)
    for (int tie_every : {1, 3, 8, 17}) {
      ConvCase k = conv(1, s.c, s.h, s.w, s.m, s.k, s.k, s.s, s.pad);
      vary(&k, i);
      k.float_out = false;
      k.mult_lo = 0.002;  // the register requantization's shift range
      k.mult_hi = 0.2;
      k.tie_every = tie_every;
      k.bias_range = 1 << 14;
      k.seed = static_cast<uint32_t>(7000 + i);
      check(k, 1 + i % 3);
      ++i;
    }
  // The channel-vectorized path on enough outputs (batch 24, no Relu) for the 2^-12 channels'
  // negative ties (acc = -4096 * odd: about 1 in 16384 outputs).
  for (int tie_every : {1, 2, 5}) {
    ConvCase k = conv(24, 256, 7, 7, 64, 1, 1);
    vary(&k, i);
    k.float_out = false;
    k.relu = false;
    k.y_signed = true;  // negative results in range, so negative ties show
    k.zy = tie_every - 3;
    k.mult_lo = 0.002;
    k.mult_hi = 0.2;
    k.tie_every = tie_every;
    k.bias_range = 1 << 14;
    k.seed = static_cast<uint32_t>(7100 + i++);
    check(k, 1 + i % 3);
  }
}

// An 8-bit input with an int16 output (the accuracy budget's higher precision after an 8-bit
// tensor): the pixel-tile path's general epilogue stores int16 (make_qconv routes these here
// before the int16 im2col kernel). Multipliers scaled so the results spread over the int16
// range; the stem-like few-channel (channel, tap) quads, 1x1 and 3x3, strides, channel and
// pixel tails, a Relu clamp, batches and 1-3 workers. A batch of 1x1 rows (the Gemm fold) is
// declined.
TEST(QConvGemmAvx512Vnni, Int16Output) {
  SKIP_WITHOUT_VNNI();
  const Shape shapes[] = {{1, 3, 24, 24, 32, 3, 2, 1}, {1, 3, 21, 19, 16, 7, 2, 3}, {1, 16, 12, 12, 24, 1, 1, 0},
                      {1, 32, 9, 17, 9, 1, 1, 0},  {1, 24, 14, 14, 67, 3, 1, 1}, {2, 8, 7, 5, 13, 3, 2, 1},
                      {1, 64, 8, 8, 40, 1, 2, 0},  {1, 5, 33, 31, 8, 3, 1, 1},   {1, 256, 7, 7, 64, 1, 1, 0}};
  int i = 0;
  for (const Shape& s : shapes)
    for (int rep = 0; rep < 4; ++rep, ++i) {
      ConvCase k = conv(s);
      vary(&k, i);
      k.float_out = false;
      k.y_wide = true;
      k.y_signed = true;
      k.zy = 0;
      k.relu = rep == 1;
      const double taps = static_cast<double>(s.c * s.k * s.k);
      k.mult_lo = 20000.0 / (std::sqrt(taps) * 74 * 74 + k.bias_range);
      k.mult_hi = 4 * k.mult_lo;
      check(k, 1 + i % 3);
    }
  std::vector<int8_t> w(16 * 8, 1);
  std::vector<QMultiplier> mult(8, quantize_multiplier(0.01));
  QConvParams p;
  p.g.n = 4, p.g.c = 16, p.g.m = 8;
  p.weights = w;
  p.mult = mult;
  p.y_wide = p.y_signed = true;
  p.lo = -32768, p.hi = 32767;
  EXPECT_EQ(make_qconv_gemm_avx512vnni(p), nullptr);
  p.y_wide = false;
  p.lo = -128, p.hi = 127;
  EXPECT_NE(make_qconv_gemm_avx512vnni(p), nullptr);
}

}  // namespace
}  // namespace qmap::kernels
