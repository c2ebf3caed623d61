// Vectorized requantization for AVX2 kernels: the Q31 rule of core/fixed_point.h
// (clamp(round_half_away(acc * m / 2^shift) + zp, lo, hi)) on 8 int32 accumulators at once.
// Include only from files compiled with this folder's ISA flags.
//
// Exactness as in x86_avx512vnni/requant.h: the product is exact in 64-bit lanes (vpmuldq),
// the magnitude is rounded half up and shifted, the sign restored, and the clamp is done in
// 64 bits before narrowing. AVX2 has no 64-bit abs/min/max: compares and blends stand in.
#pragma once

#include <immintrin.h>

#include <cstdint>

#include "core/fixed_point.h"

namespace qmap::kernels::avx2 {

struct RequantLanes {
  __m256i m;      // int32 mantissas
  __m256i shift;  // int32 shifts in [1, 62]
};

inline RequantLanes requant_broadcast(QMultiplier q) {
  return {_mm256_set1_epi32(q.m), _mm256_set1_epi32(q.shift)};
}

inline __m256i requant_half64(__m256i a, __m256i m, __m256i shift64, __m256i lo64, __m256i hi64) {
  const __m256i p = _mm256_mul_epi32(a, m);
  const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), p);  // all ones where p < 0
  const __m256i mag = _mm256_sub_epi64(_mm256_xor_si256(p, sign), sign);
  const __m256i half = _mm256_sllv_epi64(_mm256_set1_epi64x(1), _mm256_sub_epi64(shift64, _mm256_set1_epi64x(1)));
  __m256i r = _mm256_srlv_epi64(_mm256_add_epi64(mag, half), shift64);
  r = _mm256_sub_epi64(_mm256_xor_si256(r, sign), sign);
  r = _mm256_blendv_epi8(r, lo64, _mm256_cmpgt_epi64(lo64, r));
  return _mm256_blendv_epi8(r, hi64, _mm256_cmpgt_epi64(r, hi64));
}

// 8 accumulators -> 8 int32 results in [lo, hi].
inline __m256i requant8(__m256i acc, const RequantLanes& q, int32_t zp, int32_t lo, int32_t hi) {
  const __m256i lo64 = _mm256_set1_epi64x(int64_t{lo} - zp), hi64 = _mm256_set1_epi64x(int64_t{hi} - zp);
  const __m256i low32 = _mm256_set1_epi64x(0xffffffffLL);
  const __m256i even = requant_half64(acc, q.m, _mm256_and_si256(q.shift, low32), lo64, hi64);
  const __m256i odd = requant_half64(_mm256_srli_epi64(acc, 32), _mm256_srli_epi64(q.m, 32),
                                     _mm256_srli_epi64(q.shift, 32), lo64, hi64);
  const __m256i both = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
  return _mm256_add_epi32(both, _mm256_set1_epi32(zp));
}

// 8 results (already in an 8-bit type's range) -> the low 8 bytes (two's complement for int8).
inline __m128i narrow8(__m256i v) {
  const __m256i bytes = _mm256_shuffle_epi8(v, _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                               0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  return _mm_unpacklo_epi32(_mm256_castsi256_si128(bytes), _mm256_extracti128_si256(bytes, 1));
}

}  // namespace qmap::kernels::avx2
