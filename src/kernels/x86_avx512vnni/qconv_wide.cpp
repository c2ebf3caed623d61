// make_qconv_wide_avx512vnni: the int16 convolution of x86_avx2/qconv_wide.h with AVX-512 VNNI:
// vpdpwssd on the tap-pair columns, 8 output channels x 32 pixels in 16 zmm accumulators,
// avx512::requant16 and masked narrowing stores. Measured on the accuracy budget's MobileNetV2
// (README, "int16 steps").
#include "kernels/x86_avx2/qconv_wide.h"

#include "kernels/x86_avx512vnni/requant.h"

namespace qmap::kernels {
namespace {

struct Tile512 {
  // Output channels gi * mg + [mi, mi + mr) over the tile's pixels, MR at a time.
  template <int64_t MR, class K>
  static void tile(const K& k, void* y, int64_t n, int64_t gi, int64_t mi, int64_t mr, int64_t p0, int64_t np,
                   const int32_t* col, int32_t* acc_out) {
    const int32_t* w = k.w_.data() + (gi * k.mg_pad_ + mi) * k.pairs_;
    const bool float_out = k.y_ == Elem::kF32;
    avx512::RequantLanes rq[MR];
    if (!float_out)
      for (int64_t r = 0; r < mr; ++r) rq[r] = avx512::requant_broadcast(k.mult_[static_cast<size_t>(gi * k.mg_ + mi + r)]);
    for (int64_t j = 0; j < np; j += 32) {
      __m512i acc[MR][2];
      for (int64_t r = 0; r < MR; ++r) {
        const int64_t m = gi * k.mg_ + mi + std::min(r, mr - 1);
        acc[r][0] = acc[r][1] = _mm512_set1_epi32(k.bias_[static_cast<size_t>(m)]);
      }
      const int32_t* c = col + j;
      for (int64_t kk = 0; kk < k.pairs_; ++kk, c += kTile) {
        const __m512i x0 = _mm512_loadu_si512(c), x1 = _mm512_loadu_si512(c + 16);
#pragma GCC unroll 8
        for (int64_t r = 0; r < MR; ++r) {
          const __m512i wv = _mm512_set1_epi32(w[r * k.pairs_ + kk]);
          acc[r][0] = _mm512_dpwssd_epi32(acc[r][0], x0, wv);
          acc[r][1] = _mm512_dpwssd_epi32(acc[r][1], x1, wv);
        }
      }
      const int64_t lanes = std::min<int64_t>(32, np - j);
      const auto m0 = static_cast<__mmask16>(lanes >= 16 ? 0xFFFF : (1u << lanes) - 1);
      const auto m1 = static_cast<__mmask16>(lanes >= 32 ? 0xFFFF : lanes > 16 ? (1u << (lanes - 16)) - 1 : 0);
      for (int64_t r = 0; r < mr; ++r) {
        const int64_t m = gi * k.mg_ + mi + r;
        const int64_t base = (n * k.g_.m + m) * k.pixels_ + p0 + j;
        if (float_out) {
          _mm512_storeu_si512(acc_out, acc[r][0]);
          _mm512_storeu_si512(acc_out + 16, acc[r][1]);
          const double s = k.acc_scale_[static_cast<size_t>(m)];
          float* out = static_cast<float*>(y) + base;
          for (int64_t l = 0; l < lanes; ++l)
            out[l] = std::min(std::max(static_cast<float>(static_cast<double>(acc_out[l]) * s), k.float_min_), k.float_max_);
          continue;
        }
        // requant16 clamps to [lo, hi] (inside the output type) before the narrowing stores.
        const __m512i q0 = avx512::requant16(acc[r][0], rq[r], k.zy_, k.lo_, k.hi_);
        const __m512i q1 = avx512::requant16(acc[r][1], rq[r], k.zy_, k.lo_, k.hi_);
        if (k.y_ == Elem::kS16) {
          auto* out = static_cast<int16_t*>(y) + base;
          _mm512_mask_cvtepi32_storeu_epi16(out, m0, q0);
          if (m1) _mm512_mask_cvtepi32_storeu_epi16(out + 16, m1, q1);
        } else {
          auto* out = static_cast<uint8_t*>(y) + base;
          _mm512_mask_cvtepi32_storeu_epi8(out, m0, q0);
          if (m1) _mm512_mask_cvtepi32_storeu_epi8(out + 16, m1, q1);
        }
      }
    }
  }
};

}  // namespace

std::unique_ptr<QConvKernel> make_qconv_wide_avx512vnni(const QConvParams& p) {
  if (!qconv_wide_int32_exact(p)) return nullptr;
  return std::make_unique<WideConvKernel<Tile512>>(p);
}

}  // namespace qmap::kernels
