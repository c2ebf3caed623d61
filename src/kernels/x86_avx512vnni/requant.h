// Vectorized requantization for AVX-512 kernels: the Q31 rule of core/fixed_point.h
// (clamp(round_half_away(acc * m / 2^shift) + zp, lo, hi)) on 16 int32 accumulators at once.
// Include only from files compiled with this folder's ISA flags.
//
// How it stays exact: |acc| < 2^31 and m < 2^31, so acc * m is exact in a signed 64-bit lane
// (vpmuldq on even and odd lanes); |p| + 2^(shift-1) < 2^63; the magnitude is shifted
// (half away from zero = round the magnitude half up) and the sign restored; the clamp is
// done in 64 bits against [lo - zp, hi - zp] before narrowing, so no lane wraps.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "core/fixed_point.h"

namespace qmap::kernels::avx512 {

// Per-lane parameters: m, shift as int32 lanes (any mix of channels).
struct RequantLanes {
  __m512i m;      // int32 mantissas
  __m512i shift;  // int32 shifts in [1, 62]
};

inline RequantLanes requant_broadcast(QMultiplier q) {
  return {_mm512_set1_epi32(q.m), _mm512_set1_epi32(q.shift)};
}

// 8 products in the 64-bit lanes: p = a32 * m32 (signed), rounded and shifted, clamped.
inline __m512i requant_half64(__m512i a, __m512i m, __m512i shift64, __m512i lo64, __m512i hi64) {
  const __m512i p = _mm512_mul_epi32(a, m);
  const __mmask8 neg = _mm512_cmplt_epi64_mask(p, _mm512_setzero_si512());
  const __m512i half = _mm512_sllv_epi64(_mm512_set1_epi64(1), _mm512_sub_epi64(shift64, _mm512_set1_epi64(1)));
  __m512i r = _mm512_srlv_epi64(_mm512_add_epi64(_mm512_abs_epi64(p), half), shift64);
  r = _mm512_mask_sub_epi64(r, neg, _mm512_setzero_si512(), r);
  return _mm512_min_epi64(_mm512_max_epi64(r, lo64), hi64);
}

// 16 accumulators -> 16 int32 results in [lo, hi].
inline __m512i requant16(__m512i acc, const RequantLanes& q, int32_t zp, int32_t lo, int32_t hi) {
  const __m512i lo64 = _mm512_set1_epi64(int64_t{lo} - zp), hi64 = _mm512_set1_epi64(int64_t{hi} - zp);
  const __m512i low32 = _mm512_set1_epi64(0xffffffffLL);
  const __m512i even = requant_half64(acc, q.m, _mm512_and_si512(q.shift, low32), lo64, hi64);
  const __m512i odd = requant_half64(_mm512_srli_epi64(acc, 32), _mm512_srli_epi64(q.m, 32),
                                     _mm512_srli_epi64(q.shift, 32), lo64, hi64);
  const __m512i both = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  return _mm512_add_epi32(both, _mm512_set1_epi32(zp));
}

// 16 results (already in an 8-bit type's range) -> 16 bytes (two's complement for int8).
inline __m128i narrow16(__m512i v) { return _mm512_cvtepi32_epi8(v); }

}  // namespace qmap::kernels::avx512
