// Vectorized requantization for AVX-512 kernels: the Q31 rule of core/fixed_point.h
// (clamp(round_half_away(acc * m / 2^shift) + zp, lo, hi)) on 16 int32 accumulators at once.
// Include only from files compiled with this folder's ISA flags.
//
// How it stays exact: |acc| < 2^31 and m < 2^31, so acc * m is exact in a signed 64-bit lane
// (vpmuldq on even and odd lanes); |p| + 2^(shift-1) < 2^63; rounding half away from zero is
// one add and one arithmetic shift (see requant_half64); the clamp is done in 64 bits against
// [lo - zp, hi - zp] before narrowing, so no lane wraps.
#pragma once

// GCC 12's avx512fintrin.h seeds its "undefined" vectors with a self-initialization that
// -Wmaybe-uninitialized reports at every inlined use (GCC PR 105593, fixed in 13); this
// header's includers are all AVX-512 code.
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <cstdint>

#include "core/fixed_point.h"

namespace qmap::kernels::avx512 {

// Per-lane parameters, split into the even and odd int32 lanes' 64-bit halves (vpmuldq
// multiplies the low dword of each qword): mantissas, shifts and the rounding halves
// 2^(shift-1), computed once per multiplier so requant16 does no setup.
struct RequantLanes {
  __m512i m_even, m_odd;          // mantissa in the low dword of each qword
  __m512i shift_even, shift_odd;  // int64 shifts in [1, 62]
  __m512i half_even, half_odd;    // int64 2^(shift - 1)
};

// From int32 lanes of mantissas and shifts (any mix of channels).
inline RequantLanes requant_lanes(__m512i m, __m512i shift) {
  const __m512i low32 = _mm512_set1_epi64(0xffffffffLL), one = _mm512_set1_epi64(1);
  RequantLanes q;
  q.m_even = m;
  q.m_odd = _mm512_srli_epi64(m, 32);
  q.shift_even = _mm512_and_si512(shift, low32);
  q.shift_odd = _mm512_srli_epi64(shift, 32);
  q.half_even = _mm512_sllv_epi64(one, _mm512_sub_epi64(q.shift_even, one));
  q.half_odd = _mm512_sllv_epi64(one, _mm512_sub_epi64(q.shift_odd, one));
  return q;
}

inline RequantLanes requant_broadcast(QMultiplier q) {
  return requant_lanes(_mm512_set1_epi32(q.m), _mm512_set1_epi32(q.shift));
}

// 8 products in the 64-bit lanes: p = a32 * m32 (signed), rounded half away from zero and
// shifted, clamped. Half away from zero with an arithmetic shift: (p + half - [p < 0]) >> s
// (for p < 0 that is floor((p + half - 1) / 2^s) = -floor((|p| + half) / 2^s)); the sum
// stays below 2^62 + 2^61 in magnitude.
inline __m512i requant_half64(__m512i a, __m512i m, __m512i shift64, __m512i half64, __m512i lo64, __m512i hi64) {
  const __m512i p = _mm512_mul_epi32(a, m);
  const __m512i r = _mm512_srav_epi64(_mm512_add_epi64(_mm512_add_epi64(p, half64), _mm512_srai_epi64(p, 63)), shift64);
  return _mm512_min_epi64(_mm512_max_epi64(r, lo64), hi64);
}

// 16 accumulators -> 16 int32 results in [lo, hi].
inline __m512i requant16(__m512i acc, const RequantLanes& q, int32_t zp, int32_t lo, int32_t hi) {
  const __m512i lo64 = _mm512_set1_epi64(int64_t{lo} - zp), hi64 = _mm512_set1_epi64(int64_t{hi} - zp);
  const __m512i even = requant_half64(acc, q.m_even, q.shift_even, q.half_even, lo64, hi64);
  const __m512i odd = requant_half64(_mm512_srli_epi64(acc, 32), q.m_odd, q.shift_odd, q.half_odd, lo64, hi64);
  const __m512i both = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  return _mm512_add_epi32(both, _mm512_set1_epi32(zp));
}

// The register requantization's per-channel constants (fast path): m the mantissa (low dword),
// h = 2^(s-1) + zp * 2^s, s and s - 32 as int64 shifts. Valid for shifts in [32, 53].
struct FastReq {
  int64_t m, h, s, s32;
};

inline bool fast_req_ok(QMultiplier q) { return q.m > 0 && q.shift >= 32 && q.shift <= 53; }

// FastReq's h for multiplier q and output zero point zy (shift in [32, 53]: below 2^61).
inline int64_t fast_round_const(QMultiplier q, int32_t zy) {
  return (int64_t{1} << (q.shift - 1)) + int64_t{zy} * (int64_t{1} << q.shift);
}

// 16 accumulators -> 16 int32 results clamp(requantize(acc) + zp, lo, hi), exact when the
// channel's shift s is in [32, 53] (FastReq): then |acc * m / 2^s| < 2^30 + 1, so the
// result fits a dword before clamping; zp * 2^s (< 2^61) folds into the rounding constant
// (floor((p + half - [p < 0] + zp * 2^s) / 2^s) = round_half_away(p / 2^s) + zp); the even
// and odd products' high dwords (floor(v / 2^32)) are gathered into one vector by vpermt2d
// and shifted arithmetically by s - 32 (7 instructions per 16 lanes instead of 8: ResNet-50
// 0.992x, paired A/B, 2026-12-07). The pixel-tile epilogue of x86_avx512vnni/qconv_gemm.cpp
// and the depthwise kernel's use it.
//
// kAway false: rounds half up, floor((p + half + zp * 2^s) / 2^s), without the [p < 0]
// term (4 of the 11 instructions: 2 sign shifts, 2 adds): exact for channels that can never
// meet a negative tie (ties_possible), where half up and half away from zero agree.
template <bool kAway>
inline __m512i rounding_add(__m512i p, __m512i h) {  // p + h, - 1 where p < 0 when kAway
  return kAway ? _mm512_add_epi64(_mm512_add_epi64(p, h), _mm512_srai_epi64(p, 63)) : _mm512_add_epi64(p, h);
}

template <bool kClamp, bool kAway = true>
inline __m512i fast_requant16(__m512i acc, const FastReq& q, __m512i lo, __m512i hi) {
  const __m512i m = _mm512_set1_epi64(q.m), h = _mm512_set1_epi64(q.h);
  const __m512i pe = _mm512_mul_epi32(acc, m);
  const __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), m);
  // floor(v / 2^s) = floor(floor(v / 2^32) / 2^(s-32)) with floor(v / 2^32) v's high dword:
  // one vpermt2d gathers the even and odd lanes' high dwords, one vpsrad shifts them all.
  const __m512i hi_dwords = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
  const __m512i r = _mm512_sra_epi32(
      _mm512_permutex2var_epi32(rounding_add<kAway>(pe, h), hi_dwords, rounding_add<kAway>(po, h)),
      _mm_cvtsi64_si128(q.s32));
  if (!kClamp) return r;  // [lo, hi] is the output type's range: the caller's packs saturate to it
  return _mm512_min_epi32(_mm512_max_epi32(r, lo), hi);
}

// 16 results (already in an 8-bit type's range) -> 16 bytes (two's complement for int8).
inline __m128i narrow16(__m512i v) { return _mm512_cvtepi32_epi8(v); }

}  // namespace qmap::kernels::avx512
