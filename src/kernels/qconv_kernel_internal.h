// The per-ISA convolution factories behind make_qconv_<isa> (qconv_kernel.h): each ISA has a
// depthwise kernel (group == c == m) and a general one (any group, kernel, stride, dilation,
// pad; Gemm/MatMul as 1x1). make_qconv_<isa> tries them in that order (make_qconv_level).
// Each returns nullptr for parameters it does not take.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>

#include "kernels/qconv_kernel.h"

namespace qmap::kernels {

std::unique_ptr<QConvKernel> make_qconv_gemm_avx512vnni(const QConvParams& p);
std::unique_ptr<QConvKernel> make_qconv_dw_avx512vnni(const QConvParams& p);
std::unique_ptr<QConvKernel> make_qconv_gemm_avxvnni(const QConvParams& p);
std::unique_ptr<QConvKernel> make_qconv_dw_avxvnni(const QConvParams& p);
std::unique_ptr<QConvKernel> make_qconv_gemm_avx2(const QConvParams& p);
std::unique_ptr<QConvKernel> make_qconv_dw_avx2(const QConvParams& p);
// An int16 input or output (x_wide / y_wide): x86_avx2/qconv_wide.h on AVX2 (the avx2 and
// avxvnni levels) and on AVX-512 VNNI. nullptr when some channel's sums could leave int32.
std::unique_ptr<QConvKernel> make_qconv_wide_avx2(const QConvParams& p);
std::unique_ptr<QConvKernel> make_qconv_wide_avx512vnni(const QConvParams& p);

// True when the int32 accumulator of every output of p is exact in the kernels' modular
// int32 arithmetic: |bias| + taps * 255 * 128 < 2^31, the reference's own int32 bound
// (kernels/ref/qconv.cpp). Past it the reference sums in int64 and fast kernels decline.
// That bound: max |bias| + taps * max|x - zx| * 128, which every accumulator of p is within;
// max|x - zx| is 255 for an 8-bit input and 32768 for an int16 one (zero point 0), whose
// kernels check the finer per-channel bound of qconv_wide_int32_exact instead.
inline int64_t qconv_acc_bound(const QConvParams& p) {
  int64_t max_bias = 0;
  for (int32_t b : p.bias) max_bias = std::max<int64_t>(max_bias, b < 0 ? -int64_t{b} : b);
  const int64_t max_x = p.x_wide ? 32768 : 255;
  return max_bias + p.g.c / p.g.group * p.g.kh * p.g.kw * max_x * 128;
}
inline bool qconv_int32_exact(const QConvParams& p) { return qconv_acc_bound(p) < (int64_t{1} << 31); }

// Whether rounding acc * m / 2^s half away from zero can differ from rounding it half up for
// some accumulator |acc| <= bound: only at a negative tie, |acc * m| = 2^(s-1) * odd, whose
// 2-adic valuation v2(acc) + v2(m) is s - 1; that needs |acc| >= 2^(s - 1 - v2(m)). Real
// multipliers' mantissas have few trailing zeros, so nearly every channel rules ties out
// (ResNet-50: s about 36-40 against accumulators below 2^28); powers of two keep the full rule.
// Kernels round half up (one add and one shift fewer per lane pair) where this is false.
inline bool ties_possible(QMultiplier q, int64_t bound) {
  if (q.m <= 0) return true;
  const int e = q.shift - 1 - __builtin_ctzll(static_cast<uint64_t>(q.m));
  return e < 0 || (e < 62 && (int64_t{1} << e) <= bound);
}

// The same for an int16 input or output (the higher-precision form): every channel's partial
// sums are bounded by |bias[m]| + sum_k |w[m][k]| * max|x - zx| (32768 for an int16 input), and
// that bound is below 2^31 (kernels that take int16 check this one instead); an int16 input
// has zero point 0, as the contract and check_step require.
inline bool qconv_wide_int32_exact(const QConvParams& p) {
  if (p.x_wide && p.zx != 0) return false;  // int16 is symmetric: x - zx = x fits int16
  const int64_t taps = p.g.c / p.g.group * p.g.kh * p.g.kw;
  const int64_t max_x = p.x_wide ? 32768 : 255;
  for (int64_t m = 0; m < p.g.m; ++m) {
    int64_t s = p.bias.empty() ? 0 : std::abs(static_cast<int64_t>(p.bias[static_cast<size_t>(m)]));
    for (int64_t k = 0; k < taps; ++k) s += std::abs(static_cast<int64_t>(p.weights[static_cast<size_t>(m * taps + k)])) * max_x;
    if (s >= (int64_t{1} << 31)) return false;
  }
  return true;
}

// make_qconv_<isa> of a level with these factories: nothing for parameters past the int32
// bound, else the depthwise kernel, else the general one. One instance per level, in that
// level's folder.
template <std::unique_ptr<QConvKernel> (*MakeDw)(const QConvParams&),
          std::unique_ptr<QConvKernel> (*MakeGemm)(const QConvParams&)>
std::unique_ptr<QConvKernel> make_qconv_level(const QConvParams& p) {
  if (!qconv_int32_exact(p)) return nullptr;
  if (auto k = MakeDw(p)) return k;
  return MakeGemm(p);
}

}  // namespace qmap::kernels
