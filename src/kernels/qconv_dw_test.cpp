// The depthwise kernels of every ISA (make_qconv_dw_avx2, make_qconv_dw_avxvnni,
// make_qconv_dw_avx512vnni) against
// the reference (kernels/ref/qconv.h), bit for bit, through
// testing::expect_matches_ref: depthwise geometries (kernels 1x1 to 7x7 and 3x1, strides 1-3,
// dilations 1-2, asymmetric pads 0-3, widths around the 16-lane vector), both signednesses,
// zero points and clamps at the extremes, no bias and bias at the int32 bound, extreme
// weights and inputs, tiny and large multipliers, float output, batch 2 and 1-3 workers.
// Compiled without the ISA flags: only the factories are called; an ISA the CPU lacks is skipped.
#include <gtest/gtest.h>

#include <random>
#include <string>

#include "kernels/qconv_kernel_internal.h"
#include "kernels/qconv_test_util.h"

namespace qmap::kernels {
namespace {

using testing::ConvCase;
using testing::expect_matches_ref;
using testing::IsaFactory;

// One instance of every test per ISA (INSTANTIATE_TEST_SUITE_P below); kIsa, kFactory and
// kFamily name the instance's.
class QConvDw : public ::testing::TestWithParam<IsaFactory> {
 protected:
  const Isa kIsa = GetParam().isa;
  const testing::ConvFactory kFactory = GetParam().factory;
  const char* const kFamily = GetParam().family;
  std::string name_of(const char* sign, const char* tile) const {
    return std::string(sign) + "_dwconv__" + isa_name(kIsa) + tile;
  }
};

#define SKIP_WITHOUT_ISA() \
  if (!testing::host_has_isa(kIsa)) GTEST_SKIP() << "this CPU has no " << isa_name(kIsa)

ConvCase dw(int64_t c, int64_t h, int64_t w, int64_t kh, int64_t kw, int64_t s, int64_t pad, int64_t dil = 1) {
  ConvCase k;
  k.g.n = 1, k.g.c = c, k.g.m = c, k.g.group = c;
  k.g.h = h, k.g.w = w, k.g.kh = kh, k.g.kw = kw;
  k.g.stride_h = k.g.stride_w = s;
  k.g.dil_h = k.g.dil_w = dil;
  k.g.pad_top = k.g.pad_left = pad;
  k.pad_bottom = k.pad_right = pad;
  return k;
}

TEST_P(QConvDw, DeclinesNonDepthwise) {
  SKIP_WITHOUT_ISA();
  std::vector<int8_t> w(64 * 9, 1);
  std::vector<QMultiplier> mult(64);
  QConvParams p;
  p.g.c = 8, p.g.m = 8, p.g.group = 1, p.g.kh = p.g.kw = 3, p.g.h = p.g.w = p.g.oh = p.g.ow = 8;
  p.g.pad_top = p.g.pad_left = 1;
  p.weights = w;
  p.mult = mult;
  EXPECT_EQ(kFactory(p), nullptr);  // dense
  p.g.group = 4;
  EXPECT_EQ(kFactory(p), nullptr);  // grouped, 2 channels per group
  p.g.group = 8, p.g.m = 16;
  EXPECT_EQ(kFactory(p), nullptr);  // depth multiplier 2
  p.g.m = 8;
  auto k = kFactory(p);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->name(), name_of("qu8", "_3x3"));
  p.x_signed = true;
  EXPECT_EQ(kFactory(p)->name(), name_of("qs8", "_3x3"));
}

// The layers of MobileNetV2 / V3 / ShuffleNet with few channels.
TEST_P(QConvDw, MobileNetShapes) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 1;
  for (bool xs : {false, true})
    for (int64_t s : {1, 2})
      for (int64_t hw : {112, 56, 28, 14, 7}) {
        ConvCase c = dw(3, hw, hw, 3, 3, s, 1);
        c.x_signed = xs, c.y_signed = xs, c.zx = xs ? -5 : 128, c.zy = xs ? -3 : 120, c.seed = seed++;
        expect_matches_ref(kFactory, kFamily, c);
        ConvCase c5 = dw(2, hw, hw, 5, 5, s, 2);
        c5.x_signed = xs, c5.zx = xs ? 7 : 3, c5.relu = true, c5.seed = seed++;
        expect_matches_ref(kFactory, kFamily, c5);
      }
}

// Channels whose multiplier is 2^-12 (tie_every) meet exact negative ties, which must round
// away from zero; the others may round half up (no tie reachable): row mode (3x3, strides 1
// and 2) and general mode (dilation 2, stride 3), with and without the clamp.
TEST_P(QConvDw, RoundingVariantsPerChannel) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 500;
  for (int64_t s : {1, 2, 3})
    for (int tie_every : {1, 3})
      for (bool relu : {false, true}) {
        ConvCase c = dw(24, 33, 29, 3, 3, s, 1, s == 3 ? 2 : 1);
        c.g.n = 2;
        c.y_signed = true, c.zy = -2;  // negative results in range, so negative ties show
        c.relu = relu;
        c.mult_lo = 0.002, c.mult_hi = 0.2;
        c.tie_every = tie_every;
        c.bias_range = 1 << 12;
        c.seed = seed++;
        expect_matches_ref(kFactory, kFamily, c);
      }
}

// Random geometries: kernel, stride, dilation, asymmetric pads, sizes.
TEST_P(QConvDw, Geometries) {
  SKIP_WITHOUT_ISA();
  const int64_t sizes[] = {1, 2, 3, 7, 15, 16, 17, 31, 32, 33, 56, 57};
  const int64_t kernels[][2] = {{3, 3}, {5, 5}, {7, 7}, {1, 1}, {3, 1}, {1, 3}, {2, 2}, {3, 5}};
  std::mt19937 rng(42);
  int done = 0;
  for (uint32_t seed = 1; done < 3000; ++seed) {
    ConvCase c;
    auto& g = c.g;
    g.c = g.m = g.group = 1 + rng() % 9;
    g.n = 1 + rng() % 2;
    g.h = sizes[rng() % std::size(sizes)];
    g.w = sizes[rng() % std::size(sizes)];
    const auto& k = kernels[rng() % std::size(kernels)];
    g.kh = k[0], g.kw = k[1];
    g.stride_h = 1 + rng() % 3, g.stride_w = rng() % 4 == 0 ? 1 + rng() % 3 : g.stride_h;
    g.dil_h = 1 + rng() % 4 / 3, g.dil_w = rng() % 4 == 0 ? 1 + rng() % 2 : g.dil_h;
    g.pad_top = rng() % 4, g.pad_left = rng() % 4, c.pad_bottom = rng() % 4, c.pad_right = rng() % 4;
    if (g.h + g.pad_top + c.pad_bottom < g.dil_h * (g.kh - 1) + 1) continue;
    if (g.w + g.pad_left + c.pad_right < g.dil_w * (g.kw - 1) + 1) continue;
    c.x_signed = rng() & 1, c.y_signed = rng() & 1;
    c.zx = c.x_signed ? static_cast<int32_t>(rng() % 256) - 128 : static_cast<int32_t>(rng() % 256);
    c.zy = c.y_signed ? static_cast<int32_t>(rng() % 256) - 128 : static_cast<int32_t>(rng() % 256);
    c.relu = rng() % 4 == 0;
    c.float_out = rng() % 6 == 0;
    c.has_bias = rng() % 5 != 0;
    c.seed = seed;
    expect_matches_ref(kFactory, kFamily, c);
    ++done;
    if (HasFailure()) return;
  }
}

// Quantization extremes on a few geometries.
TEST_P(QConvDw, QuantExtremes) {
  SKIP_WITHOUT_ISA();
  const ConvCase shapes[] = {dw(3, 17, 33, 3, 3, 1, 1), dw(2, 16, 31, 3, 3, 2, 1), dw(2, 15, 15, 5, 5, 1, 2),
                             dw(1, 9, 57, 5, 5, 2, 2), dw(2, 13, 14, 7, 7, 1, 3)};
  uint32_t seed = 100;
  for (ConvCase base : shapes)
    for (bool xs : {false, true})
      for (int32_t zx : xs ? std::vector<int32_t>{-128, 0, 127} : std::vector<int32_t>{0, 255, 128})
        for (int variant = 0; variant < 9; ++variant) {
          ConvCase c = base;
          c.x_signed = xs, c.zx = zx, c.seed = seed++;
          c.y_signed = variant % 2 == 1;
          c.zy = c.y_signed ? (variant % 4 == 1 ? -128 : 127) : (variant % 4 == 0 ? 0 : 255);
          const int64_t taps = c.g.kh * c.g.kw;
          switch (variant) {
            case 0: c.relu = true; break;
            case 1: c.has_bias = false; break;
            case 2: c.bias_range = static_cast<int32_t>((int64_t{1} << 31) - 1 - taps * 255 * 128); break;
            case 3: c.extreme_weights = c.extreme_inputs = true; c.mult_lo = 1e-6, c.mult_hi = 1e-5; break;
            case 4: c.mult_lo = 1e-12, c.mult_hi = 1e-9; break;
            case 5: c.mult_lo = 0.5, c.mult_hi = 1000; break;
            case 6: c.float_out = true; break;
            case 7: c.float_out = true, c.relu = true, c.extreme_weights = true; break;
            case 8: c.extreme_inputs = true, c.relu = true, c.bias_range = 1; break;
          }
          expect_matches_ref(kFactory, kFamily, c);
        }
}

// Channel counts, batch 2 and worker counts: the split never changes the result.
TEST_P(QConvDw, ChannelsBatchWorkers) {
  SKIP_WITHOUT_ISA();
  uint32_t seed = 5000;
  for (int64_t ch : {1, 2, 5, 16, 33, 67})
    for (int workers : {1, 2, 3}) {
      ConvCase c = dw(ch, ch % 2 ? 7 : 16, ch % 3 ? 17 : 9, 3, 3, ch % 2 ? 1 : 2, 1);
      c.g.n = 2, c.seed = seed++, c.x_signed = ch % 2, c.float_out = workers == 2 && ch > 5;
      expect_matches_ref(kFactory, kFamily, c, true, workers);
    }
  // Many tiny planes (channel blocks per task) and one large plane.
  ConvCase c = dw(200, 3, 3, 3, 3, 1, 1);
  c.g.n = 2, c.seed = seed++;
  expect_matches_ref(kFactory, kFamily, c, true, 3);
  ConvCase big = dw(2, 64, 130, 3, 3, 1, 1);
  big.seed = seed++;
  expect_matches_ref(kFactory, kFamily, big, true, 2);
}

const IsaFactory kDwIsas[] = {
    {Isa::kAvx2, &make_qconv_dw_avx2, "dwconv avx2"},
#if QMAP_HAVE_AVXVNNI
    {Isa::kAvxVnni, &make_qconv_dw_avxvnni, "dwconv avxvnni"},
#endif
    {Isa::kAvx512Vnni, &make_qconv_dw_avx512vnni, "dwconv avx512vnni"},
};
INSTANTIATE_TEST_SUITE_P(Isas, QConvDw, ::testing::ValuesIn(kDwIsas), testing::isa_param_name);

}  // namespace
}  // namespace qmap::kernels
