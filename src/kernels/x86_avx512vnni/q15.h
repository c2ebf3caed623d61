// The Add's short form (qadd_q15, core/fixed_point.h requantize_sum2_q15) on AVX-512 lanes,
// shared by the element-wise kernel (qelementwise.cpp) and the convolution epilogue that
// applies a following Add (qconv_gemm.cpp, kernels/qconv_kernel.h QConvAdd). Include only from
// files compiled with this folder's ISA flags.
//
// 32 operand words of each side, paired (qa, qb) in dwords by vpunpck{l,h}wd, give
// qa * ma + qb * mb + C with one vpdpwssd per 16 elements (C holds 2^(s-1) and the zero
// points' terms), an arithmetic shift floors it, and vpackssdw (which undoes the unpacks'
// order within 128-bit lanes) + zy saturating in int16 gives 32 words. Exact: |sum| < 2^24 +
// 2^29 for 8-bit operands and 15-bit mantissas; the saturations after it are monotone and the
// caller's clamp range lies inside them.
#pragma once

#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <cstdint>

#include "core/fixed_point.h"

namespace qmap::kernels::avx512 {

// wa, wb: 32 words each (operand a, b) -> 32 words floor((qa * ma + qb * mb + c) / 2^s) + zy,
// saturated to int16, in the order of wa's words. ab = ma | mb << 16.
inline __m512i q15_words(__m512i wa, __m512i wb, __m512i ab, __m512i c, __m128i vs, __m512i vzy) {
  const __m512i lo16 = _mm512_sra_epi32(_mm512_dpwssd_epi32(c, _mm512_unpacklo_epi16(wa, wb), ab), vs);
  const __m512i hi16 = _mm512_sra_epi32(_mm512_dpwssd_epi32(c, _mm512_unpackhi_epi16(wa, wb), ab), vs);
  return _mm512_adds_epi16(_mm512_packs_epi32(lo16, hi16), vzy);
}

// vpermq order that puts vpack{s,u}swb(w0, w1)'s 128-bit interleave back in element order.
inline __m512i q15_pack_order() { return _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7); }

// The Add applied to 64 bytes in registers, every operand in the unsigned domain: a signed
// byte v is handled as v ^ 0x80 = v + 128 with its zero point + 128, and a signed output is
// computed as the unsigned v + 128 (zy, lo, hi + 128) and flipped back. So one code path
// serves every signedness.
struct Q15Bytes {
  __m512i ab, c, vzy, lo, hi;  // lo, hi: bytes in the unsigned domain
  __m512i fa, fb, fy;          // 0x80 bytes where a, b, y are signed, else 0
  __m128i vs;
};

inline Q15Bytes q15_bytes_setup(const AddQ15& f, bool a_signed, int32_t za, bool b_signed, int32_t zb, bool y_signed,
                                int32_t zy, int32_t lo, int32_t hi) {
  const int32_t ka = a_signed ? 128 : 0, kb = b_signed ? 128 : 0, ky = y_signed ? 128 : 0;
  Q15Bytes q;
  q.ab = _mm512_set1_epi32(static_cast<int32_t>(static_cast<uint32_t>(f.ma) | (static_cast<uint32_t>(f.mb) << 16)));
  q.c = _mm512_set1_epi32((int32_t{1} << (f.shift - 1)) - (za + ka) * f.ma - (zb + kb) * f.mb);
  q.vzy = _mm512_set1_epi16(static_cast<int16_t>(zy + ky));
  q.lo = _mm512_set1_epi8(static_cast<char>(lo + ky));
  q.hi = _mm512_set1_epi8(static_cast<char>(hi + ky));
  q.fa = _mm512_set1_epi8(static_cast<char>(ka));
  q.fb = _mm512_set1_epi8(static_cast<char>(kb));
  q.fy = _mm512_set1_epi8(static_cast<char>(ky));
  q.vs = _mm_cvtsi32_si128(f.shift);
  return q;
}

// a, b: 64 bytes each (bytes of their own signedness) -> 64 result bytes; kHigh false: only
// the first 32 elements are needed (the rest of the result is then garbage).
template <bool kHigh>
inline __m512i q15_bytes(__m512i a, __m512i b, const Q15Bytes& q) {
  a = _mm512_xor_si512(a, q.fa);
  b = _mm512_xor_si512(b, q.fb);
  const __m512i w0 = q15_words(_mm512_cvtepu8_epi16(_mm512_castsi512_si256(a)),
                               _mm512_cvtepu8_epi16(_mm512_castsi512_si256(b)), q.ab, q.c, q.vs, q.vzy);
  const __m512i w1 = kHigh ? q15_words(_mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(a, 1)),
                                       _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64(b, 1)), q.ab, q.c, q.vs, q.vzy)
                           : w0;
  const __m512i v = _mm512_permutexvar_epi64(q15_pack_order(), _mm512_packus_epi16(w0, w1));
  return _mm512_xor_si512(_mm512_min_epu8(_mm512_max_epu8(v, q.lo), q.hi), q.fy);
}

}  // namespace qmap::kernels::avx512
