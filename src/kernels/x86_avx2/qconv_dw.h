// DwKernel<Dot>: the depthwise int8 convolution (group == c == m) of the 256-bit levels, any
// kernel size, stride, dilation and pads, bit-exact with kernels::ref::qconv2d /
// qconv2d_float_out. Included only by the files that instantiate it, each compiled with its
// level's flags: x86_avx2/qconv_dw.cpp (make_qconv_dw_avx2, Dot = avx2::Dot: vpmaddwd +
// vpaddd) and x86_avxvnni/qconv_dw.cpp (make_qconv_dw_avxvnni, Dot = avxvnni::Dot: vpdpwssd);
// everything here is internal to each of them (anonymous namespace). Dot (x86_avx2/dot.h)
// supplies the pair multiply-accumulate, the IsaVector tag and the level's name.
//
// NCHW keeps every channel an independent plane, so one task is (batch, block of channels)
// and each channel is done in the worker's scratch. |x - zx| <= 255 and |w| <= 128, so
// int16 operands make every product exact and one Dot::madd16 (vpmaddwd + vpaddd, or AVX-VNNI's
// vpdpwssd, the same sums) adds two taps (w1 * q1 + w2 * q2) to 8 int32 accumulators; a
// leftover tap gets the weight pair (w, 0).
// The structure is that of x86_avx512vnni/qconv_dw.cpp with 8 lanes instead of 16:
//
// Row mode (stride_w 1 or 2, dil_w 1: every MobileNet/ShuffleNet layer; any kh, kw,
// stride_h, dil_h, pads):
//  1. P[R][j] = x[R - pad_top][j - pad_left] - zx as int16, 0 in the padding, rows padded to
//     the widest load.
//  2. Per output row, horizontal tap pairs (kx, kx + 1) are one dword of P: at int16 offset
//     ox + kx for stride 1 (even and odd output columns as two vectors, then interleaved:
//     16 outputs per block) and 2 * ox + kx for stride 2 (8 per block). 3x3 is 6 vpmaddwd per
//     8 outputs. Accumulators go compactly (row after row) to an int32 buffer; a block
//     running past its row is overwritten by the next row.
//  3. The whole plane's accumulators in vectors of 8: avx2::ChannelRequant with the channel's multiplier
//     (or float((double)acc * acc_scale), vectorized pd math, identical IEEE results) into y
//     (the last partial vector through a small buffer).
// General mode (stride_w >= 3 or dil_w > 1):
//  1. Polyphase planes Q[a][b] (a < stride_h, b < stride_w) of int16 x - zx over the padded
//     window: tap (ky, kx) of output (oy, ox) is Q[ky*dh % sh][kx*dw % sw] at row
//     oy + ky*dh / sh, column ox + kx*dw / sw, a contiguous run in the flat index
//     f = oy * Wq + ox (Wq = the phase planes' row length).
//  2. Pair planes V[i] = (Q[i], Q[i + delta * Wq]): vertically neighbouring taps of one phase
//     (delta = 1 unless dilated) as one dword for vpmaddwd.
//  3. The flat outputs f in [0, (oh - 1) * Wq + ow) in vectors of 8 (columns ox >= ow are
//     computed and dropped), requantized into a staging plane whose rows are copied to y.
// Loads past a row or plane end read allocated slack and only feed dropped lanes or taps with
// weight 0.
// The int32 sums wrap like the reference's int32 path; the factory declines when
// qconv_int32_exact fails, so every final sum is the exact one.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <type_traits>
#include <vector>

#include "kernels/qconv_kernel_internal.h"
#include "kernels/x86_avx2/requant.h"
#include "kernels/isa_vector.h"
#include "kernels/qconv_dw_plan.h"

namespace qmap::kernels {
namespace {

constexpr int64_t kVec = 8;

template <class Dot>
class DwKernel final : public DwPlan<DwKernel<Dot>, kVec, Dot::kTag> {
  using Plan = DwPlan<DwKernel<Dot>, kVec, Dot::kTag>;
  // The plan's members (a dependent base: named through `this` otherwise).
  using Plan::p_, Plan::sh_, Plan::sw_, Plan::hq_, Plan::wq_, Plan::lq_, Plan::lv_, Plan::nph_, Plan::delta_,
      Plan::fv_, Plan::nops_, Plan::off_, Plan::wpair_, Plan::rpair_, Plan::npairs_, Plan::bias_, Plan::mult_,
      Plan::scale_, Plan::hp_, Plan::ws_, Plan::p_bytes_, Plan::q_bytes_, Plan::v_bytes_;

 public:
  explicit DwKernel(const QConvParams& p) : Plan(p, Dot::kIsa) {
    if (p.float_out || p.y_wide) return;
    // The register requantization's per-channel constants (x86_avx2/requant.h).
    const int64_t bound = qconv_acc_bound(p);
    for (const QMultiplier& q : p.mult) fastc_.push_back(avx2::fast_channel(q, p.zy, ties_possible(q, bound)));
    qclamp_ = !((p.lo == 0 && p.hi == 255 && !p.y_signed) || (p.lo == -128 && p.hi == 127 && p.y_signed));
  }

 private:
  friend Plan;
  // Calls fn(requant) once, with requant(a, b) mapping 16 accumulators (a: 0-7, b: 8-15) of
  // channel f (fast) to 16 bytes: the variant for f's rounding and this step's clamp and
  // output type is chosen here, once per plane, and inlined into fn's loop.
  template <class Fn>
  void with_requant16(const avx2::FastChannel& f, Fn&& fn) const {
    const __m256i lo = _mm256_set1_epi32(p_.lo), hi = _mm256_set1_epi32(p_.hi);
    auto pick = [&](auto away, auto clamp, auto u) {
      fn([&](__m256i a, __m256i b) {
        return avx2::requant16_bytes<decltype(away)::value, decltype(clamp)::value, decltype(u)::value>(a, b, f, lo, hi);
      });
    };
    using T = std::true_type;
    using F = std::false_type;
    const bool u = !p_.y_signed;
    if (f.away) {
      if (qclamp_) u ? pick(T{}, T{}, T{}) : pick(T{}, T{}, F{});
      else u ? pick(T{}, F{}, T{}) : pick(T{}, F{}, F{});
    } else {
      if (qclamp_) u ? pick(F{}, T{}, T{}) : pick(F{}, T{}, F{});
      else u ? pick(F{}, F{}, T{}) : pick(F{}, F{}, F{});
    }
  }
  IsaVector<avx2::FastChannel, Dot::kTag> fastc_;  // [C]; empty for float or int16 output
  bool qclamp_ = false;                 // [lo, hi] narrower than the output type's range
  // General mode, step 1: the polyphase planes of channel (n, ch).
  template <bool XSigned>
  void build_q(const void* x, int64_t n, int64_t ch, int16_t* q) const {
    const auto& g = p_.g;
    const int8_t* xc8 = static_cast<const int8_t*>(x) + (n * g.c + ch) * g.h * g.w;
    const __m256i zx16 = _mm256_set1_epi16(static_cast<int16_t>(p_.zx));
    const __m256i even_bytes = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1,
                                                0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
    auto widen = [](__m128i v8) { return XSigned ? _mm256_cvtepi8_epi16(v8) : _mm256_cvtepu8_epi16(v8); };
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
          int64_t i = 0;
          if (sw_ == 1) {
            for (; i + 16 <= cnt; i += 16) {
              const __m256i v = widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
              _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), _mm256_sub_epi16(v, zx16));
            }
          } else if (sw_ == 2) {
            for (; i + 16 <= cnt && 2 * i + 32 <= g.w + g.pad_left - b - clo * 2; i += 16) {
              // 32 bytes -> the 16 even ones -> 16 words.
              const __m256i v8 = _mm256_shuffle_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * i)), even_bytes);
              const __m256i v = widen(_mm256_castsi256_si128(_mm256_permute4x64_epi64(v8, 0x08)));
              _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + i), _mm256_sub_epi16(v, zx16));
            }
          }
          for (; i < cnt; ++i)
            d[i] = static_cast<int16_t>((XSigned ? int32_t{src[i * sw_]} : int32_t{static_cast<uint8_t>(src[i * sw_])}) - p_.zx);
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
      for (int64_t i = 0; i < lv_; i += 8) {
        const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qp + i));
        const __m128i hi = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qp + i + d));
        _mm_store_si128(reinterpret_cast<__m128i*>(vp + i), _mm_unpacklo_epi16(lo, hi));
        _mm_store_si128(reinterpret_cast<__m128i*>(vp + i + 4), _mm_unpackhi_epi16(lo, hi));
      }
    }
  }

  // General mode, step 3: the accumulators of the flat outputs, then requantize into the staging plane.
  template <int NOPS>
  void compute(const int32_t* v, int64_t ch, void* stage) const {
    const int64_t nops = NOPS > 0 ? NOPS : nops_;
    const int32_t* wp = wpair_.data() + ch * nops_;
    const __m256i b = _mm256_set1_epi32(bias_[static_cast<size_t>(ch)]);
    auto acc_at = [&](int64_t f) {
      __m256i acc = b;
      for (int64_t o = 0; o < nops; ++o)
        acc = Dot::madd16(acc, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + f + off_[static_cast<size_t>(o)])),
                           _mm256_set1_epi32(wp[o]));
      return acc;
    };
    if (p_.float_out) {
      const __m256d sc = _mm256_set1_pd(scale_[static_cast<size_t>(ch)]);
      const __m256 fmin = _mm256_set1_ps(p_.float_min), fmax = _mm256_set1_ps(p_.float_max);
      float* st = static_cast<float*>(stage);
      for (int64_t f = 0; f < fv_; f += kVec) {
        const __m256i acc = acc_at(f);
        const __m128 lo = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(acc)), sc));
        const __m128 hi = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(acc, 1)), sc));
        __m256 r = _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
        // std::min(std::max(r, fmin), fmax), operand order as in the reference.
        r = _mm256_min_ps(fmax, _mm256_max_ps(fmin, r));
        _mm256_store_ps(st + f, r);
      }
    } else if (!fastc_.empty() && fastc_[static_cast<size_t>(ch)].fast) {
      uint8_t* st = static_cast<uint8_t*>(stage);
      with_requant16(fastc_[static_cast<size_t>(ch)], [&](auto&& requant16) {
        int64_t f = 0;
        for (; f + 2 * kVec <= fv_; f += 2 * kVec)
          _mm_storeu_si128(reinterpret_cast<__m128i*>(st + f), requant16(acc_at(f), acc_at(f + kVec)));
        if (f < fv_) _mm_storel_epi64(reinterpret_cast<__m128i*>(st + f), requant16(acc_at(f), acc_at(f)));
      });
    } else {
      const avx2::ChannelRequant rq(mult_[static_cast<size_t>(ch)], p_.zy, p_.lo, p_.hi);
      uint8_t* st = static_cast<uint8_t*>(stage);
      for (int64_t f = 0; f < fv_; f += kVec)
        _mm_storel_epi64(reinterpret_cast<__m128i*>(st + f), avx2::narrow8(rq(acc_at(f))));
    }
  }

  // Row mode, step 1: the zero-padded plane P[R][j] = x[R - pad_top][j - pad_left] - zx
  // (0 outside the input), R < hp_, j < ws_ (the widest run of the loads).
  template <bool XSigned>
  void build_p(const void* x, int64_t n, int64_t ch, int16_t* pl) const {
    const auto& g = p_.g;
    const int8_t* xc8 = static_cast<const int8_t*>(x) + (n * g.c + ch) * g.h * g.w;
    const __m256i zx16 = _mm256_set1_epi16(static_cast<int16_t>(p_.zx));
    const int64_t lo = std::min(g.pad_left, ws_), hi = std::min(g.pad_left + g.w, ws_);
    for (int64_t r = 0; r < hp_; ++r) {
      int16_t* d = pl + r * ws_;
      for (int64_t j = 0; j < ws_; j += 16) _mm256_store_si256(reinterpret_cast<__m256i*>(d + j), _mm256_setzero_si256());
      const int64_t iy = r - g.pad_top;
      if (iy < 0 || iy >= g.h) continue;
      const int64_t cnt = hi - lo;
      if (p_.x_wide) {  // int16 input, zero point 0: the row as it is
        std::memcpy(d + lo, static_cast<const int16_t*>(x) + ((n * g.c + ch) * g.h + iy) * g.w, static_cast<size_t>(cnt) * 2);
        continue;
      }
      const int8_t* src = xc8 + iy * g.w;
      int64_t i = 0;
      for (; i + 16 <= cnt; i += 16) {
        const __m128i v8 = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i));
        const __m256i v = XSigned ? _mm256_cvtepi8_epi16(v8) : _mm256_cvtepu8_epi16(v8);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(d + lo + i), _mm256_sub_epi16(v, zx16));
      }
      for (; i < cnt; ++i)
        d[lo + i] = static_cast<int16_t>((XSigned ? int32_t{src[i]} : int32_t{static_cast<uint8_t>(src[i])}) - p_.zx);
    }
  }

  // Row mode, step 2: the accumulators of each output row, in blocks of 16 outputs (stride 1:
  // even and odd columns as two vectors, the pair (kx, kx + 1) of output ox is the dword at
  // int16 offset ox + kx) or 8 (stride 2: the dword at 2 * ox + kx), stored compactly row
  // after row into acc (a block running past its row is overwritten by the next row).
  template <int KH, int KW>
  void rows_mac(const int16_t* pl, int64_t ch, int32_t* acc) const {
    const auto& g = p_.g;
    const int64_t kh = KH > 0 ? KH : g.kh, np = KW > 0 ? (KW + 1) / 2 : npairs_;
    const int64_t rs = sh_ * ws_, ks = g.dil_h * ws_;
    const int32_t* wp = rpair_.data() + ch * g.kh * npairs_;
    const __m256i b = _mm256_set1_epi32(bias_[static_cast<size_t>(ch)]);
    auto ld = [](const int16_t* a) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a)); };
    if (sw_ == 1) {
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        const int16_t* r0 = pl + oy * rs;
        int32_t* ar = acc + oy * g.ow;
        for (int64_t ox = 0; ox < g.ow; ox += 2 * kVec) {
          __m256i e = b, o = b;
#pragma GCC unroll 8
          for (int64_t ky = 0; ky < kh; ++ky) {
            const int16_t* rr = r0 + ky * ks + ox;
#pragma GCC unroll 8
            for (int64_t pr = 0; pr < np; ++pr) {
              const __m256i wv = _mm256_set1_epi32(wp[ky * np + pr]);
              e = Dot::madd16(e, ld(rr + 2 * pr), wv);
              o = Dot::madd16(o, ld(rr + 2 * pr + 1), wv);
            }
          }
          const __m256i lo = _mm256_unpacklo_epi32(e, o), hi = _mm256_unpackhi_epi32(e, o);
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(ar + ox), _mm256_permute2x128_si256(lo, hi, 0x20));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(ar + ox + kVec), _mm256_permute2x128_si256(lo, hi, 0x31));
        }
      }
    } else {
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        const int16_t* r0 = pl + oy * rs;
        int32_t* ar = acc + oy * g.ow;
        for (int64_t ox = 0; ox < g.ow; ox += kVec) {
          __m256i a0 = b, a1 = _mm256_setzero_si256();
#pragma GCC unroll 8
          for (int64_t ky = 0; ky < kh; ++ky) {
            const int16_t* rr = r0 + ky * ks + 2 * ox;
#pragma GCC unroll 8
            for (int64_t pr = 0; pr < np; ++pr) {
              const __m256i wv = _mm256_set1_epi32(wp[ky * np + pr]);
              if (ky % 2 == 0) a0 = Dot::madd16(a0, ld(rr + 2 * pr), wv);
              else a1 = Dot::madd16(a1, ld(rr + 2 * pr), wv);
            }
          }
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(ar + ox), _mm256_add_epi32(a0, a1));
        }
      }
    }
  }

  // Row mode, step 3: requantize (or scale to float) the compact accumulators into y.
  void rows_out(const int32_t* acc, int64_t n, int64_t ch, void* y) const {
    const auto& g = p_.g;
    const int64_t total = g.oh * g.ow, base = (n * g.m + ch) * total;
    // (float output has no multipliers: a placeholder then, never applied)
    if (!fastc_.empty() && fastc_[static_cast<size_t>(ch)].fast) {  // 8-bit output, 16 at a time
      uint8_t* yo = static_cast<uint8_t*>(y) + base;
      with_requant16(fastc_[static_cast<size_t>(ch)], [&](auto&& requant16) {
        for (int64_t i = 0; i < total; i += 2 * kVec) {  // the accumulators have 2 * kVec of slack
          const __m128i r = requant16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i)),
                                      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i + kVec)));
          if (total - i >= 2 * kVec) {
            _mm_storeu_si128(reinterpret_cast<__m128i*>(yo + i), r);
          } else {
            alignas(16) uint8_t t[16];
            _mm_store_si128(reinterpret_cast<__m128i*>(t), r);
            std::memcpy(yo + i, t, static_cast<size_t>(total - i));
          }
        }
      });
      return;
    }
    const avx2::ChannelRequant rq(p_.float_out ? QMultiplier{} : mult_[static_cast<size_t>(ch)], p_.zy, p_.lo, p_.hi);
    for (int64_t i = 0; i < total; i += kVec) {
      const int64_t k = std::min(kVec, total - i);
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + i));
      if (p_.float_out) {
        const __m256d sc = _mm256_set1_pd(scale_[static_cast<size_t>(ch)]);
        const __m128 lo = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(a)), sc));
        const __m128 hi = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(a, 1)), sc));
        __m256 r = _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
        r = _mm256_min_ps(_mm256_set1_ps(p_.float_max), _mm256_max_ps(_mm256_set1_ps(p_.float_min), r));
        float* yo = static_cast<float*>(y) + base + i;
        if (k == kVec) {
          _mm256_storeu_ps(yo, r);
        } else {
          alignas(32) float t[kVec];
          _mm256_store_ps(t, r);
          std::memcpy(yo, t, static_cast<size_t>(k) * 4);
        }
      } else if (p_.y_wide) {  // int16 output: the clamped lanes fit, packing does not saturate
        const __m256i q = rq(a);
        const __m128i r = _mm_packs_epi32(_mm256_castsi256_si128(q), _mm256_extracti128_si256(q, 1));
        int16_t* yo = static_cast<int16_t*>(y) + base + i;
        if (k == kVec) {
          _mm_storeu_si128(reinterpret_cast<__m128i*>(yo), r);
        } else {
          alignas(16) int16_t t[8];
          _mm_store_si128(reinterpret_cast<__m128i*>(t), r);
          std::memcpy(yo, t, static_cast<size_t>(k) * 2);
        }
      } else {
        const __m128i r = avx2::narrow8(rq(a));
        uint8_t* yo = static_cast<uint8_t*>(y) + base + i;
        if (k == kVec) {
          _mm_storel_epi64(reinterpret_cast<__m128i*>(yo), r);
        } else {
          alignas(16) uint8_t t[16];
          _mm_store_si128(reinterpret_cast<__m128i*>(t), r);
          std::memcpy(yo, t, static_cast<size_t>(k));
        }
      }
    }
  }

  void channel_rows(const void* x, void* y, int64_t n, int64_t ch, uint8_t* s) const {
    const auto& g = p_.g;
    int16_t* pl = reinterpret_cast<int16_t*>(s);
    int32_t* acc = reinterpret_cast<int32_t*>(s + p_bytes_);
    if (p_.x_signed) build_p<true>(x, n, ch, pl);
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

// The factory of one level: nullptr for parameters that are not depthwise or not exact in int32.
template <class Dot>
std::unique_ptr<QConvKernel> make_qconv_dw(const QConvParams& p) {
  if (!dw_accepts(p)) return nullptr;
  return std::make_unique<DwKernel<Dot>>(p);
}

}  // namespace
}  // namespace qmap::kernels
