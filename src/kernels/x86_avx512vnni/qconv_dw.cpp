// make_qconv_dw_avx512vnni: depthwise int8 convolution (group == c == m), any kernel size,
// stride, dilation and pads, bit-exact with kernels::ref::qconv2d / qconv2d_float_out.
//
// NCHW keeps every channel an independent plane, so one task is (batch, block of channels)
// and each channel is done in the worker's scratch. |x - zx| <= 255 and |w| <= 128, so
// int16 operands make every product exact and vpdpwssd adds two taps (w1 * q1 + w2 * q2) to
// 16 int32 accumulators in one instruction; a leftover tap gets the weight pair (w, 0).
//
// Row mode (stride_w 1 or 2, dil_w 1: every MobileNet/ShuffleNet layer; any kh, kw,
// stride_h, dil_h, pads):
//  1. P[R][j] = x[R - pad_top][j - pad_left] - zx as int16, 0 in the padding, rows padded to
//     the widest load (masked byte loads, no separate zero fill).
//  2. Per output row, horizontal tap pairs (kx, kx + 1) are one dword of P: at int16 offset
//     ox + kx for stride 1 (even and odd output columns as two vectors, then interleaved by
//     vpermt2d: 32 outputs per block) and 2 * ox + kx for stride 2 (16 per block). 3x3 is 6
//     vpdpwssd per 16 outputs, 5x5 15, 7x7 28. Accumulators go compactly (row after row) to
//     an int32 buffer; a block running past its row is overwritten by the next row.
//  3. The whole plane's accumulators in vectors of 16 (full lanes even for 7x7 planes):
//     requant16 with the channel's multiplier, its register form avx512::fast_requant16 where
//     the shift allows (or float((double)acc * acc_scale), vectorized
//     pd math, identical IEEE results) and masked stores straight into y.
// General mode (stride_w >= 3 or dil_w > 1):
//  1. Polyphase planes Q[a][b] (a < stride_h, b < stride_w) of int16 x - zx over the padded
//     window: tap (ky, kx) of output (oy, ox) is Q[ky*dh % sh][kx*dw % sw] at row
//     oy + ky*dh / sh, column ox + kx*dw / sw, a contiguous run in the flat index
//     f = oy * Wq + ox (Wq = the phase planes' row length).
//  2. Pair planes V[i] = (Q[i], Q[i + delta * Wq]): vertically neighbouring taps of one phase
//     (delta = 1 unless dilated) as one dword for vpdpwssd.
//  3. The flat outputs f in [0, (oh - 1) * Wq + ow) in vectors of 16 (columns ox >= ow are
//     computed and dropped), requantized into a staging plane whose rows are copied to y.
// Loads past a row or plane end read allocated slack and only feed dropped lanes or taps with
// weight 0.
// The int32 sums wrap like the reference's int32 path; the factory declines when
// qconv_int32_exact fails, so every final sum is the exact one.

// GCC 12's avx512fintrin.h seeds its "undefined" vectors with a self-initialization that
// -Wmaybe-uninitialized reports at every inlined use (GCC PR 105593, fixed in 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "kernels/qconv_kernel_internal.h"
#include "kernels/x86_avx512vnni/requant.h"
#include "kernels/isa_vector.h"
#include "kernels/qconv_dw_plan.h"

// Vectors of this ISA folder (kernels/isa_vector.h says why).
template <class T>
using KVector = qmap::kernels::IsaVector<T, 512>;

namespace qmap::kernels {
namespace {

constexpr int64_t kVec = 16;

class DwKernel final : public DwPlan<DwKernel, kVec, 512> {
 public:
  explicit DwKernel(const QConvParams& p) : DwPlan(p, "avx512vnni") {
    if (p.float_out || p.y_wide) return;
    // The register requantization (avx512::fast_requant16) for channels whose shift allows
    // it, half up where no negative tie can occur (ties_possible).
    const int64_t bound = qconv_acc_bound(p);
    for (const QMultiplier& q : p.mult) {
      const bool fast = avx512::fast_req_ok(q);
      fq_.push_back(fast ? avx512::FastReq{q.m, avx512::fast_round_const(q, p.zy), q.shift, q.shift - 32}
                         : avx512::FastReq{0, 0, 0, 0});
      fq_kind_.push_back(fast ? (ties_possible(q, bound) ? 2 : 1) : 0);
    }
  }

 private:
  friend class DwPlan<DwKernel, kVec, 512>;
  // Calls fn(requant) once, with requant(acc) mapping 16 accumulators of channel ch to their
  // 16 results clamped to [lo, hi] (int32 lanes; the caller narrows): the register
  // requantization when the channel's shift allows it (its rounding variant chosen here, once
  // per plane), else avx512::requant16.
  template <class Fn>
  void with_requant(int64_t ch, Fn&& fn) const {
    const auto c = static_cast<size_t>(ch);
    const __m512i lo = _mm512_set1_epi32(p_.lo), hi = _mm512_set1_epi32(p_.hi);
    switch (fq_kind_.empty() ? 0 : fq_kind_[c]) {
      case 1:
        fn([&](__m512i a) { return avx512::fast_requant16<true, false>(a, fq_[c], lo, hi); });
        break;
      case 2:
        fn([&](__m512i a) { return avx512::fast_requant16<true, true>(a, fq_[c], lo, hi); });
        break;
      default: {
        const avx512::RequantLanes q = avx512::requant_broadcast(mult_[c]);
        fn([&](__m512i a) { return avx512::requant16(a, q, p_.zy, p_.lo, p_.hi); });
      }
    }
  }
  KVector<avx512::FastReq> fq_;  // [C]; empty for float or int16 output
  KVector<uint8_t> fq_kind_;      // [C]: 0 requant16, 1 fast (half up), 2 fast (half away)
  // General mode, step 1: the polyphase planes of channel (n, ch).
  template <bool XSigned>
  void build_q(const void* x, int64_t n, int64_t ch, int16_t* q) const {
    const auto& g = p_.g;
    const int8_t* xc8 = static_cast<const int8_t*>(x) + (n * g.c + ch) * g.h * g.w;
    const __m512i zx16 = _mm512_set1_epi16(static_cast<int16_t>(p_.zx));
    const __m256i zx16y = _mm256_set1_epi16(static_cast<int16_t>(p_.zx));
    for (int64_t a = 0; a < sh_; ++a)
      for (int64_t r = 0; r < hq_; ++r) {
        const int64_t iy = r * sh_ + a - g.pad_top;
        for (int64_t b = 0; b < sw_; ++b) {
          int16_t* dst = q + (a * sw_ + b) * lq_ + r * wq_;
          if (iy < 0 || iy >= g.h) {
            std::memset(dst, 0, static_cast<size_t>(wq_) * 2);
            continue;
          }
          const int8_t* xrow = xc8 + iy * g.w;
          const int64_t clo = std::clamp<int64_t>(ceil_div(g.pad_left - b, sw_), 0, wq_);
          const int64_t chi = std::clamp<int64_t>(ceil_div(g.w + g.pad_left - b, sw_), clo, wq_);
          std::memset(dst, 0, static_cast<size_t>(clo) * 2);
          std::memset(dst + chi, 0, static_cast<size_t>(wq_ - chi) * 2);
          const int8_t* src = xrow + clo * sw_ + b - g.pad_left;
          int16_t* d = dst + clo;
          const int64_t cnt = chi - clo;
          if (sw_ == 1) {
            for (int64_t i = 0; i < cnt; i += 32) {
              const int64_t k = std::min<int64_t>(32, cnt - i);
              const __mmask32 m = static_cast<__mmask32>(k == 32 ? ~0u : (1u << k) - 1);
              const __m256i v8 = _mm256_maskz_loadu_epi8(m, src + i);
              const __m512i v = XSigned ? _mm512_cvtepi8_epi16(v8) : _mm512_cvtepu8_epi16(v8);
              _mm512_mask_storeu_epi16(d + i, m, _mm512_sub_epi16(v, zx16));
            }
          } else if (sw_ == 2) {
            for (int64_t i = 0; i < cnt; i += 16) {
              const int64_t k = std::min<int64_t>(16, cnt - i);  // outputs; 2k - 1 bytes read
              const __mmask32 m = static_cast<__mmask32>(k == 16 ? ~0u : (1u << (2 * k - 1)) - 1);
              const __m256i v8 = _mm256_maskz_loadu_epi8(m, src + 2 * i);
              const __m512i v = XSigned ? _mm512_cvtepi8_epi16(v8) : _mm512_cvtepu8_epi16(v8);
              const __m256i even = _mm512_cvtepi32_epi16(v);
              _mm256_mask_storeu_epi16(d + i, static_cast<__mmask16>((1u << k) - 1), _mm256_sub_epi16(even, zx16y));
            }
          } else {
            for (int64_t i = 0; i < cnt; ++i)
              d[i] = static_cast<int16_t>((XSigned ? int32_t{src[i * sw_]} : int32_t{static_cast<uint8_t>(src[i * sw_])}) - p_.zx);
          }
        }
      }
    for (int64_t ph = 0; ph < nph_; ++ph)
      std::memset(q + ph * lq_ + hq_ * wq_, 0, static_cast<size_t>(lq_ - hq_ * wq_) * 2);
  }

  // General mode, step 2: the pair planes.
  void build_v(const int16_t* q, int32_t* v) const {
    const int64_t d = delta_ * wq_;
    for (int64_t ph = 0; ph < nph_; ++ph) {
      const int16_t* qp = q + ph * lq_;
      int32_t* vp = v + ph * lv_;
      for (int64_t i = 0; i < lv_; i += 16) {
        const __m512i lo = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(qp + i)));
        const __m512i hi = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(qp + i + d)));
        _mm512_store_si512(vp + i, _mm512_or_si512(lo, _mm512_slli_epi32(hi, 16)));
      }
    }
  }

  // General mode, step 3: the accumulators of the flat outputs, then requantize into the staging plane.
  template <int NOPS>
  void compute(const int32_t* v, int64_t ch, void* stage) const {
    const int64_t nops = NOPS > 0 ? NOPS : nops_;
    const int32_t* wp = wpair_.data() + ch * nops_;
    const __m512i b = _mm512_set1_epi32(bias_[static_cast<size_t>(ch)]);
    auto acc_at = [&](int64_t f) {
      __m512i acc = b;
      for (int64_t o = 0; o < nops; ++o)
        acc = _mm512_dpwssd_epi32(acc, _mm512_loadu_si512(v + f + off_[static_cast<size_t>(o)]), _mm512_set1_epi32(wp[o]));
      return acc;
    };
    if (p_.float_out) {
      const __m512d sc = _mm512_set1_pd(scale_[static_cast<size_t>(ch)]);
      const __m512 fmin = _mm512_set1_ps(p_.float_min), fmax = _mm512_set1_ps(p_.float_max);
      float* st = static_cast<float*>(stage);
      for (int64_t f = 0; f < fv_; f += kVec) {
        const __m512i acc = acc_at(f);
        const __m256 lo = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(acc)), sc));
        const __m256 hi = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(acc, 1)), sc));
        __m512 r = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
        // std::min(std::max(r, fmin), fmax), operand order as in the reference.
        r = _mm512_min_ps(fmax, _mm512_max_ps(fmin, r));
        _mm512_store_ps(st + f, r);
      }
    } else {
      uint8_t* st = static_cast<uint8_t*>(stage);
      with_requant(ch, [&](auto&& requant) {
        for (int64_t f = 0; f < fv_; f += kVec)
          _mm_store_si128(reinterpret_cast<__m128i*>(st + f), avx512::narrow16(requant(acc_at(f))));
      });
    }
  }

  // Row mode, step 1: the zero-padded plane P[R][j] = x[R - pad_top][j - pad_left] - zx
  // (0 outside the input), R < hp_, j < ws_ (the widest run of the loads). An int16 input
  // (zero point 0) is loaded as it is.
  template <bool XSigned, bool XWide = false>
  void build_p(const void* x, int64_t n, int64_t ch, int16_t* pl) const {
    const auto& g = p_.g;
    const int8_t* xc8 = static_cast<const int8_t*>(x) + (XWide ? 2 : 1) * (n * g.c + ch) * g.h * g.w;
    const __m512i zx16 = _mm512_set1_epi16(static_cast<int16_t>(p_.zx));
    const int64_t lo = std::min(g.pad_left, ws_), hi = std::min(g.pad_left + g.w, ws_);
    for (int64_t r = 0; r < hp_; ++r) {
      int16_t* d = pl + r * ws_;
      const int64_t iy = r - g.pad_top;
      if (iy < 0 || iy >= g.h) {
        for (int64_t j = 0; j < ws_; j += 32) _mm512_store_si512(d + j, _mm512_setzero_si512());
        continue;
      }
      // Whole 32-column chunks; the lanes outside [lo, hi) are neither loaded nor nonzero.
      constexpr uintptr_t es = XWide ? 2 : 1;
      const uintptr_t src = reinterpret_cast<uintptr_t>(xc8 + es * iy * g.w) - es * static_cast<uintptr_t>(g.pad_left);
      for (int64_t j = 0; j < ws_; j += 32) {
        const int64_t a = std::clamp<int64_t>(lo - j, 0, 32), e = std::clamp<int64_t>(hi - j, 0, 32);
        const uint64_t bits = ((e == 64 ? 0 : (uint64_t{1} << e)) - 1) & ~((uint64_t{1} << a) - 1);
        const __mmask32 m = static_cast<__mmask32>(bits);
        const auto* at = reinterpret_cast<const void*>(src + es * static_cast<uintptr_t>(j));
        if constexpr (XWide) {
          _mm512_store_si512(d + j, _mm512_maskz_loadu_epi16(m, at));
        } else {
          const __m256i v8 = _mm256_maskz_loadu_epi8(m, at);
          const __m512i v = XSigned ? _mm512_cvtepi8_epi16(v8) : _mm512_cvtepu8_epi16(v8);
          _mm512_store_si512(d + j, _mm512_maskz_sub_epi16(m, v, zx16));
        }
      }
    }
  }

  // Row mode, step 2: the accumulators of each output row, in blocks of 32 outputs (stride 1:
  // even and odd columns as two vectors, the pair (kx, kx + 1) of output ox is the dword at
  // int16 offset ox + kx) or 16 (stride 2: the dword at 2 * ox + kx), stored compactly row
  // after row into acc (a block running past its row is overwritten by the next row).
  template <int KH, int KW>
  void rows_mac(const int16_t* pl, int64_t ch, int32_t* acc) const {
    const auto& g = p_.g;
    const int64_t kh = KH > 0 ? KH : g.kh, np = KW > 0 ? (KW + 1) / 2 : npairs_;
    const int64_t rs = sh_ * ws_, ks = g.dil_h * ws_;
    const int32_t* wp = rpair_.data() + ch * g.kh * npairs_;
    const __m512i b = _mm512_set1_epi32(bias_[static_cast<size_t>(ch)]);
    if (sw_ == 1) {
      const __m512i idx_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
      const __m512i idx_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        const int16_t* r0 = pl + oy * rs;
        int32_t* ar = acc + oy * g.ow;
        for (int64_t ox = 0; ox < g.ow; ox += 2 * kVec) {
          __m512i e = b, o = b;
#pragma GCC unroll 8
          for (int64_t ky = 0; ky < kh; ++ky) {
            const int16_t* rr = r0 + ky * ks + ox;
#pragma GCC unroll 8
            for (int64_t pr = 0; pr < np; ++pr) {
              const __m512i wv = _mm512_set1_epi32(wp[ky * np + pr]);
              e = _mm512_dpwssd_epi32(e, _mm512_loadu_si512(rr + 2 * pr), wv);
              o = _mm512_dpwssd_epi32(o, _mm512_loadu_si512(rr + 2 * pr + 1), wv);
            }
          }
          _mm512_storeu_si512(ar + ox, _mm512_permutex2var_epi32(e, idx_lo, o));
          _mm512_storeu_si512(ar + ox + kVec, _mm512_permutex2var_epi32(e, idx_hi, o));
        }
      }
    } else {
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        const int16_t* r0 = pl + oy * rs;
        int32_t* ar = acc + oy * g.ow;
        for (int64_t ox = 0; ox < g.ow; ox += kVec) {
          __m512i a0 = b, a1 = _mm512_setzero_si512();
#pragma GCC unroll 8
          for (int64_t ky = 0; ky < kh; ++ky) {
            const int16_t* rr = r0 + ky * ks + 2 * ox;
#pragma GCC unroll 8
            for (int64_t pr = 0; pr < np; ++pr) {
              const __m512i wv = _mm512_set1_epi32(wp[ky * np + pr]);
              if (ky % 2 == 0) a0 = _mm512_dpwssd_epi32(a0, _mm512_loadu_si512(rr + 2 * pr), wv);
              else a1 = _mm512_dpwssd_epi32(a1, _mm512_loadu_si512(rr + 2 * pr), wv);
            }
          }
          _mm512_storeu_si512(ar + ox, _mm512_add_epi32(a0, a1));
        }
      }
    }
  }

  // Row mode, step 3: requantize (or scale to float) the compact accumulators straight into y.
  void rows_out(const int32_t* acc, int64_t n, int64_t ch, void* y) const {
    const auto& g = p_.g;
    const int64_t total = g.oh * g.ow, base = (n * g.m + ch) * total;
    if (!p_.float_out && p_.y_wide) {  // int16 output: the clamped lanes narrowed to 16 bits
      int16_t* yo = static_cast<int16_t*>(y) + base;
      with_requant(ch, [&](auto&& requant) {
        for (int64_t i = 0; i < total; i += kVec) {
          const int64_t k = std::min(kVec, total - i);
          _mm512_mask_cvtepi32_storeu_epi16(yo + i, static_cast<__mmask16>(k == kVec ? 0xffffu : (1u << k) - 1),
                                            requant(_mm512_loadu_si512(acc + i)));
        }
      });
      return;
    }
    if (!p_.float_out) {
      uint8_t* yo = static_cast<uint8_t*>(y) + base;
      with_requant(ch, [&](auto&& requant) {
        int64_t i = 0;
        for (; i + kVec <= total; i += kVec)
          _mm_storeu_si128(reinterpret_cast<__m128i*>(yo + i), avx512::narrow16(requant(_mm512_loadu_si512(acc + i))));
        if (i < total)
          _mm_mask_storeu_epi8(yo + i, static_cast<__mmask16>((1u << (total - i)) - 1),
                               avx512::narrow16(requant(_mm512_loadu_si512(acc + i))));
      });
      return;
    }
    const __m512d sc = _mm512_set1_pd(scale_[static_cast<size_t>(ch)]);  // float output
    for (int64_t i = 0; i < total; i += kVec) {
      const int64_t k = std::min(kVec, total - i);
      const __mmask16 m = static_cast<__mmask16>(k == kVec ? 0xffffu : (1u << k) - 1);
      const __m512i a = _mm512_loadu_si512(acc + i);
      const __m256 lo = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(a)), sc));
      const __m256 hi = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(a, 1)), sc));
      __m512 r = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
      r = _mm512_min_ps(_mm512_set1_ps(p_.float_max), _mm512_max_ps(_mm512_set1_ps(p_.float_min), r));
      _mm512_mask_storeu_ps(static_cast<float*>(y) + base + i, m, r);
    }
  }

  void channel_rows(const void* x, void* y, int64_t n, int64_t ch, uint8_t* s) const {
    const auto& g = p_.g;
    int16_t* pl = reinterpret_cast<int16_t*>(s);
    int32_t* acc = reinterpret_cast<int32_t*>(s + p_bytes_);
    if (p_.x_wide) build_p<true, true>(x, n, ch, pl);
    else if (p_.x_signed) build_p<true>(x, n, ch, pl);
    else build_p<false>(x, n, ch, pl);
    if (g.kh == 3 && g.kw == 3) rows_mac<3, 3>(pl, ch, acc);
    else if (g.kh == 5 && g.kw == 5) rows_mac<5, 5>(pl, ch, acc);
    else rows_mac<0, 0>(pl, ch, acc);
    rows_out(acc, n, ch, y);
  }

  void channel(const void* x, void* y, int64_t n, int64_t ch, uint8_t* s) const {
    const auto& g = p_.g;
    int16_t* q = reinterpret_cast<int16_t*>(s);
    int32_t* v = reinterpret_cast<int32_t*>(s + q_bytes_);
    uint8_t* stage = s + q_bytes_ + v_bytes_;
    if (p_.x_signed) build_q<true>(x, n, ch, q);
    else build_q<false>(x, n, ch, q);
    build_v(q, v);
    switch (nops_) {
      case 1: compute<1>(v, ch, stage); break;
      case 2: compute<2>(v, ch, stage); break;
      case 6: compute<6>(v, ch, stage); break;
      case 15: compute<15>(v, ch, stage); break;
      default: compute<0>(v, ch, stage); break;
    }
    const size_t es = p_.float_out ? 4 : 1;
    uint8_t* yc = static_cast<uint8_t*>(y) + static_cast<size_t>((n * g.m + ch) * g.oh * g.ow) * es;
    if (wq_ == g.ow) {
      std::memcpy(yc, stage, static_cast<size_t>(g.oh * g.ow) * es);
    } else {
      for (int64_t oy = 0; oy < g.oh; ++oy)
        std::memcpy(yc + static_cast<size_t>(oy * g.ow) * es, stage + static_cast<size_t>(oy * wq_) * es,
                    static_cast<size_t>(g.ow) * es);
    }
  }

};

}  // namespace

std::unique_ptr<QConvKernel> make_qconv_dw_avx512vnni(const QConvParams& p) {
  if (!dw_accepts(p)) return nullptr;
  return std::make_unique<DwKernel>(p);
}

}  // namespace qmap::kernels
