// avx2::qadd_wide: the exact Add (ref::qadd, requantize_sum2) when an operand or the output is
// int16 (the higher-precision form), bit-exact with the reference, for every x86 level.
//
// With s = max(shift_a, shift_b), the reference sums t = da * ma * 2^(s - sa) + db * mb *
// 2^(s - sb) in 128 bits and rounds t / 2^s half away from zero. Here |d| <= 32768 + 255 <
// 2^16 and m < 2^31, so each product is below 2^47; when both shift differences are at most
// 14 each term is below 2^61 and t below 2^62: the sum is exact in int64 lanes. The 64-bit
// lanes (vpmuldq on the even and the odd elements) then round |t| + 2^(s - 1) by a logical
// shift and restore the sign, add the zero point and clamp, all in int64 (no saturation
// before the clamp, as in the reference). Geometries with broadcasting, and shifts outside
// that range, run the reference.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/x86_avx2/qelementwise.h"
#include "kernels/x86_avx2/requant.h"

namespace qmap::kernels::avx2 {

namespace {

// 8 consecutive elements of a quantized operand as int32.
__m256i load8_any(ref::Q8In x, int64_t i) {
  if (x.wide) return _mm256_cvtepi16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const int16_t*>(x.data) + i)));
  const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(static_cast<const uint8_t*>(x.data) + i));
  return x.is_signed ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}

// Whether both operands and the output are dense with the output's dims (no broadcasting):
// every axis longer than 1 has the row-major stride.
bool dense(const ref::BinaryGeometry& g) {
  int64_t stride = 1;
  for (size_t k = g.out.size(); k-- > 0;) {
    if (g.out[k] > 1 && (g.a_strides[k] != stride || g.b_strides[k] != stride)) return false;
    stride *= g.out[k];
  }
  return true;
}

// round_half_away(t / 2^s) for the int64 lanes of t (|t| < 2^62), s in [1, 62].
__m256i round_shift(__m256i t, __m128i s, __m256i half) {
  const __m256i neg = _mm256_cmpgt_epi64(_mm256_setzero_si256(), t);
  const __m256i mag = _mm256_sub_epi64(_mm256_xor_si256(t, neg), neg);
  const __m256i r = _mm256_srl_epi64(_mm256_add_epi64(mag, half), s);
  return _mm256_sub_epi64(_mm256_xor_si256(r, neg), neg);
}

__m256i clamp64(__m256i v, __m256i lo, __m256i hi) {
  v = _mm256_blendv_epi8(v, hi, _mm256_cmpgt_epi64(v, hi));
  return _mm256_blendv_epi8(v, lo, _mm256_cmpgt_epi64(lo, v));
}

}  // namespace

void qadd_wide(const ref::BinaryGeometry& g, ref::Q8In a, int32_t za, QMultiplier ra, ref::Q8In b, int32_t zb,
               QMultiplier rb, int32_t zy, int32_t lo, int32_t hi, ref::Q8Out y) {
  const int32_t s = std::max(ra.shift, rb.shift);
  if (!dense(g) || s - ra.shift > 14 || s - rb.shift > 14 || s < 1) {
    ref::qadd(g, a, za, ra, b, zb, rb, zy, lo, hi, y);
    return;
  }
  int64_t n = 1;
  for (int64_t d : g.out) n *= d;
  const __m256i vza = _mm256_set1_epi32(za), vzb = _mm256_set1_epi32(zb);
  const __m256i vma = _mm256_set1_epi64x(ra.m), vmb = _mm256_set1_epi64x(rb.m);
  const __m128i sha = _mm_cvtsi32_si128(s - ra.shift), shb = _mm_cvtsi32_si128(s - rb.shift), sh = _mm_cvtsi32_si128(s);
  const __m256i half = _mm256_set1_epi64x(int64_t{1} << (s - 1));
  const __m256i vzy = _mm256_set1_epi64x(zy), vlo = _mm256_set1_epi64x(lo), vhi = _mm256_set1_epi64x(hi);
  // The result of the even (odd) elements' int64 lanes.
  auto lanes = [&](__m256i da, __m256i db) {
    const __m256i ta = _mm256_sll_epi64(_mm256_mul_epi32(da, vma), sha);
    const __m256i tb = _mm256_sll_epi64(_mm256_mul_epi32(db, vmb), shb);
    return clamp64(_mm256_add_epi64(round_shift(_mm256_add_epi64(ta, tb), sh, half), vzy), vlo, vhi);
  };
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i da = _mm256_sub_epi32(load8_any(a, i), vza), db = _mm256_sub_epi32(load8_any(b, i), vzb);
    const __m256i even = lanes(da, db);
    const __m256i odd = lanes(_mm256_srli_epi64(da, 32), _mm256_srli_epi64(db, 32));
    // Elements 0..7 in order: the even results' low dwords, the odd ones' above them.
    const __m256i r = _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
    if (y.wide) {
      const __m128i p = _mm_packs_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(static_cast<int16_t*>(y.data) + i), p);
    } else {
      _mm_storel_epi64(reinterpret_cast<__m128i*>(static_cast<uint8_t*>(y.data) + i), narrow8(r));
    }
  }
  for (; i < n; ++i) y.set(i, requantize_sum2(a[i] - za, ra, b[i] - zb, rb, zy, lo, hi));
}

}  // namespace qmap::kernels::avx2
