// Fast 2-D conv / transposed-conv paths against the reference loops, on sizes around the
// boundaries (1, odd, even), pads, strides 1/2/3, dilations, groups, depthwise, 1x1.
#include "kernels/f32/conv.h"

#include "kernels/f32/sgemm_blas.h"

#include <fmt/format.h>

#include "test_util.h"

namespace qmap::kernels::f32 {
namespace {

struct Case {
  int64_t n, cin, cout, group, h, w, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
};

std::string describe(const Case& c, uint32_t seed) {
  return fmt::format("seed {} n{} cin{} cout{} g{} in {}x{} k {}x{} s {}x{} d {}x{} pads {},{},{},{}",
                     seed, c.n, c.cin, c.cout, c.group, c.h, c.w, c.kh, c.kw, c.sh, c.sw, c.dh,
                     c.dw, c.pt, c.pl, c.pb, c.pr);
}

// Everything but the output size.
WindowGeometry base_geometry(const Case& c) {
  WindowGeometry g;
  g.batch = c.n;
  g.in_channels = c.cin;
  g.out_channels = c.cout;
  g.group = c.group;
  g.in = {c.h, c.w};
  g.kernel = {c.kh, c.kw};
  g.strides = {c.sh, c.sw};
  g.dilations = {c.dh, c.dw};
  g.pads = {c.pt, c.pl, c.pb, c.pr};
  return g;
}

WindowGeometry conv_geometry(const Case& c) {
  WindowGeometry g = base_geometry(c);
  for (int d = 0; d < 2; ++d) {
    const int64_t eff = (g.kernel[d] - 1) * g.dilations[d] + 1;
    g.out.push_back((g.in[d] + g.pad_begin(d) + g.pad_end(d) - eff) / g.strides[d] + 1);
  }
  return g;
}

void check_conv(const Case& c, uint32_t seed, bool with_bias) {
  const WindowGeometry g = conv_geometry(c);
  if (g.out[0] < 1 || g.out[1] < 1) return;
  Tensor x = testing::random_tensor({c.n, c.cin, c.h, c.w}, seed);
  Tensor w = testing::random_tensor({c.cout, c.cin / c.group, c.kh, c.kw}, seed + 1);
  Tensor b = testing::random_tensor({c.cout}, seed + 2);
  Tensor y_ref(DType::kFloat32, {c.n, c.cout, g.out[0], g.out[1]});
  Tensor y_fast(DType::kFloat32, y_ref.dims());
  const float* bp = with_bias ? b.data<float>().data() : nullptr;
  conv_ref(g, x.data<float>().data(), w.data<float>().data(), bp, y_ref.data<float>().data());
  // Both sgemm implementations (the toolchain's BLAS, the runtime's portable one).
  for (SgemmFn gemm : {sgemm_blas, sgemm_portable}) {
    conv_2d(g, x.data<float>().data(), w.data<float>().data(), bp, y_fast.data<float>().data(), gemm);
    EXPECT_TRUE(testing::tensors_near(y_fast, y_ref, 1e-4, 1e-4))
        << describe(c, seed) << (gemm == sgemm_blas ? " blas" : " portable");
  }
}

TEST(KernelConv2d, MatchesReferenceAcrossGeometries) {
  uint32_t seed = 1;
  for (int64_t hw : {1, 2, 5, 8, 13})
    for (int64_t k : {1, 3, 5})
      for (int64_t s : {1, 2, 3})
        for (int64_t p : {0, 1, 2})
          for (int64_t d : {1, 2}) {
            check_conv({1, 3, 4, 1, hw, hw + 2, k, k, s, s, d, d, p, p, p, p}, seed++, true);
            check_conv({2, 4, 6, 2, hw + 1, hw, k, k, s, s, d, d, p, p, p, p}, seed++, false);
          }
}

TEST(KernelConv2d, Pointwise) {
  // 1x1 unit stride no pad reads X directly as the GEMM's right operand.
  check_conv({2, 7, 5, 1, 9, 11, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, 7, true);
  check_conv({1, 8, 6, 2, 3, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0}, 8, false);
  check_conv({1, 4, 6, 1, 7, 7, 1, 1, 2, 2, 1, 1, 0, 0, 0, 0}, 9, true);  // strided: im2col
  check_conv({1, 4, 6, 1, 7, 7, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1}, 10, true);  // padded: im2col
}

TEST(KernelConv2d, BandedIm2colAcrossBandBoundaries) {
  // Enough rows x K that im2col runs in several bands of output rows (conv.cpp's
  // kColumnsBudget / kMinBandColumns): the band's shifted top padding must line up.
  check_conv({1, 64, 8, 1, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1}, 400, true);
  check_conv({1, 32, 4, 1, 70, 65, 3, 3, 2, 2, 1, 1, 1, 0, 0, 1}, 401, false);
  check_conv({2, 16, 6, 2, 90, 21, 5, 3, 1, 2, 2, 1, 3, 1, 2, 0}, 402, true);
}

TEST(KernelConv2d, DepthwiseAndAsymmetricPads) {
  uint32_t seed = 100;
  for (int64_t k : {3, 5})
    for (int64_t s : {1, 2})
      for (int64_t hw : {1, 4, 7, 16, 17})
        for (int64_t d : {1, 2}) {
          check_conv({2, 6, 6, 6, hw, hw + 3, k, k, s, s, d, d, k / 2, k / 2, k / 2, k / 2}, seed++, true);
          check_conv({1, 5, 5, 5, hw + 2, hw, k, k, s, s, d, d, 0, 1, 2, 0}, seed++, false);
        }
  // Non-square kernels and strides.
  check_conv({1, 4, 4, 4, 9, 10, 3, 1, 2, 1, 1, 1, 1, 0, 1, 0}, 300, true);
  check_conv({1, 6, 9, 3, 9, 10, 1, 3, 1, 3, 1, 2, 0, 2, 0, 1}, 301, true);
}

void check_conv_transpose(const Case& c, uint32_t seed) {
  // For ConvTranspose `in` is X's spatial size; out = s*(in-1) + eff_k - pads.
  WindowGeometry g = base_geometry(c);
  for (int d = 0; d < 2; ++d)
    g.out.push_back(g.strides[d] * (g.in[d] - 1) + (g.kernel[d] - 1) * g.dilations[d] + 1 -
                    g.pad_begin(d) - g.pad_end(d));
  if (g.out[0] < 1 || g.out[1] < 1) return;
  Tensor x = testing::random_tensor({c.n, c.cin, c.h, c.w}, seed);
  Tensor w = testing::random_tensor({c.cin, c.cout / c.group, c.kh, c.kw}, seed + 1);
  Tensor b = testing::random_tensor({c.cout}, seed + 2);
  Tensor y_ref(DType::kFloat32, {c.n, c.cout, g.out[0], g.out[1]});
  Tensor y_fast(DType::kFloat32, y_ref.dims());
  conv_transpose_ref(g, x.data<float>().data(), w.data<float>().data(), b.data<float>().data(),
                     y_ref.data<float>().data());
  for (SgemmFn gemm : {sgemm_blas, sgemm_portable}) {
    conv_transpose_2d(g, x.data<float>().data(), w.data<float>().data(), b.data<float>().data(),
                      y_fast.data<float>().data(), gemm);
    EXPECT_TRUE(testing::tensors_near(y_fast, y_ref, 1e-4, 1e-4))
        << describe(c, seed) << (gemm == sgemm_blas ? " blas" : " portable");
  }
}

TEST(KernelConvTranspose2d, MatchesReference) {
  uint32_t seed = 500;
  for (int64_t hw : {1, 3, 6})
    for (int64_t k : {1, 2, 3})
      for (int64_t s : {1, 2, 3})
        for (int64_t p : {0, 1})
          for (int64_t d : {1, 2}) {
            check_conv_transpose({1, 2, 3, 1, hw, hw + 1, k, k, s, s, d, d, p, p, p, p}, seed++);
            check_conv_transpose({2, 4, 6, 2, hw + 2, hw, k, k + 1, s, s, d, d, p, 0, 0, p}, seed++);
          }
}

}  // namespace
}  // namespace qmap::kernels::f32
