// Vectorized requantization for AVX2 kernels: the Q31 rule of core/fixed_point.h
// (clamp(round_half_away(acc * m / 2^shift) + zp, lo, hi)) on 8 int32 accumulators at once.
// Include only from files compiled with this folder's ISA flags.
//
// Exactness as in x86_avx512vnni/requant.h: the product is exact in 64-bit lanes (vpmuldq),
// the magnitude is rounded half up and shifted, the sign restored, and the clamp is done in
// 64 bits before narrowing. AVX2 has no 64-bit abs/min/max: compares and blends stand in.
//
// ChannelRequant: one output channel's multiplier broadcast (the convolutions' epilogues). When
// its shift is in [32, 53] (real multipliers below ~1/2: nearly every real conv) it takes a
// shorter exact path, requant8_fast (14 instructions per 8 lanes instead of ~35), the rule of
// x86_avx512vnni's fast_requant16 without AVX-512's 64-bit arithmetic shift: with
// p = acc * m (|p| < 2^62) and H = 2^(s-1) + zp * 2^s (|zp * 2^s| < 2^61), v = p + H - [p < 0]
// is a signed 64-bit value whose floor(v / 2^s) is round_half_away(p / 2^s) + zp exactly, a
// 32-bit value (s >= 32). AVX2 has no 64-bit arithmetic shift, but floor(v / 2^s) =
// floor(floor(v / 2^32) / 2^(s-32)), and floor(v / 2^32) is v's high dword: the even lanes'
// high dwords moved down (vpsrlq 32) are blended with the odd lanes' in place, and one 32-bit
// arithmetic shift by s - 32 (vpsrad) gives all 8 results; vpmaxsd/vpminsd clamp them.
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

// The constants of requant8_fast for one channel (see the file comment); valid when
// requant_fast_ok(q).
struct FastRequant {
  __m256i m;      // mantissa, int32 lanes (vpmuldq reads the low dword of each 64-bit lane)
  __m256i h;      // 2^(s-1) + zp * 2^s, int64 lanes
  __m256i lo, hi;
  __m128i s32;    // shift count s - 32
};

inline bool requant_fast_ok(QMultiplier q) { return q.shift >= 32 && q.shift <= 53; }

// H of the file comment for a fast multiplier (requant_fast_ok) and zero point zp.
inline int64_t requant_fast_h(QMultiplier q, int32_t zp) {
  return static_cast<int64_t>((uint64_t{1} << (q.shift - 1)) + (static_cast<uint64_t>(static_cast<int64_t>(zp)) << q.shift));
}

inline FastRequant requant_fast_broadcast(QMultiplier q, int32_t zp, int32_t lo, int32_t hi) {
  return {_mm256_set1_epi32(q.m), _mm256_set1_epi64x(requant_fast_h(q, zp)), _mm256_set1_epi32(lo),
          _mm256_set1_epi32(hi), _mm_cvtsi32_si128(q.shift - 32)};
}

// requant8_fast before its clamp: 8 int32 results round(acc * m / 2^s) + zp, exact when
// requant_fast_ok. kAway false rounds half up (no [p < 0] term: two compares and two adds
// fewer), exact for a channel that cannot meet a negative tie (ties_possible).
template <bool kAway = true>
__attribute__((always_inline)) inline __m256i requant8_fast_raw(__m256i acc, __m256i m, __m256i h, __m128i s32) {
  const __m256i pe = _mm256_mul_epi32(acc, m);
  const __m256i po = _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), m);
  __m256i ve = _mm256_add_epi64(pe, h), vo = _mm256_add_epi64(po, h);
  if (kAway) {  // + (-1) where p < 0
    const __m256i zero = _mm256_setzero_si256();
    ve = _mm256_add_epi64(ve, _mm256_cmpgt_epi64(zero, pe));
    vo = _mm256_add_epi64(vo, _mm256_cmpgt_epi64(zero, po));
  }
  // The high dwords floor(v / 2^32): the even lanes' moved down, the odd lanes' in place.
  return _mm256_sra_epi32(_mm256_blend_epi32(_mm256_srli_epi64(ve, 32), vo, 0xAA), s32);
}

// 8 accumulators -> 8 int32 results in [lo, hi], exact when requant_fast_ok (file comment).
inline __m256i requant8_fast(__m256i acc, const FastRequant& f) {
  return _mm256_min_epi32(_mm256_max_epi32(requant8_fast_raw(acc, f.m, f.h, f.s32), f.lo), f.hi);
}

// One channel's requant8_fast constants as scalars (16 bytes a channel instead of
// FastRequant's 224), broadcast where a tile row uses them; away: ties_possible.
struct FastChannel {
  int64_t h = 0;      // 2^(s-1) + zp * 2^s
  int32_t m = 0;      // mantissa
  int8_t s = 0;       // shift, in [32, 53] when fast
  bool fast = false;  // requant_fast_ok
  bool away = true;   // some accumulator may meet a negative tie: round half away from zero
};

inline FastChannel fast_channel(QMultiplier q, int32_t zp, bool ties) {
  FastChannel f;
  f.fast = requant_fast_ok(q);
  if (!f.fast) return f;
  f.h = requant_fast_h(q, zp);
  f.m = q.m;
  f.s = static_cast<int8_t>(q.shift);
  f.away = ties;
  return f;
}

// A tile row's 16 accumulators (a: lanes 0-7, b: 8-15) of a fast channel -> 16 bytes,
// clamped to [lo, hi] when kClamp, else saturated to the output type by the packs (exact
// when [lo, hi] is that type's range).
template <bool kAway, bool kClamp, bool kUnsigned>
__attribute__((always_inline)) inline __m128i requant16_bytes(__m256i a, __m256i b, const FastChannel& f, __m256i lo, __m256i hi) {
  const __m256i m = _mm256_set1_epi32(f.m), h = _mm256_set1_epi64x(f.h);
  const __m128i s32 = _mm_cvtsi32_si128(f.s - 32);
  __m256i ra = requant8_fast_raw<kAway>(a, m, h, s32), rb = requant8_fast_raw<kAway>(b, m, h, s32);
  if (kClamp) {
    ra = _mm256_min_epi32(_mm256_max_epi32(ra, lo), hi);
    rb = _mm256_min_epi32(_mm256_max_epi32(rb, lo), hi);
  }
  const __m256i w = _mm256_packs_epi32(ra, rb);  // per 128-bit lane: a0-3 b0-3 | a4-7 b4-7
  const __m256i x = kUnsigned ? _mm256_packus_epi16(w, w) : _mm256_packs_epi16(w, w);
  return _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(x, _mm256_setr_epi32(0, 4, 1, 5, 0, 4, 1, 5)));
}

// One output channel's requantization: requant8_fast when its shift allows, else requant8.
class ChannelRequant {
 public:
  ChannelRequant(QMultiplier q, int32_t zp, int32_t lo, int32_t hi)
      : fast_(requant_fast_ok(q)), zp_(zp), lo_(lo), hi_(hi), lanes_(requant_broadcast(q)) {
    if (fast_) f_ = requant_fast_broadcast(q, zp, lo, hi);
  }
  __m256i operator()(__m256i acc) const { return fast_ ? requant8_fast(acc, f_) : requant8(acc, lanes_, zp_, lo_, hi_); }

 private:
  bool fast_;
  int32_t zp_, lo_, hi_;
  RequantLanes lanes_;
  FastRequant f_{};
};

// 8 results (already in an 8-bit type's range) -> the low 8 bytes (two's complement for int8).
inline __m128i narrow8(__m256i v) {
  const __m256i bytes = _mm256_shuffle_epi8(v, _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                                               0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1));
  return _mm_unpacklo_epi32(_mm256_castsi256_si128(bytes), _mm256_extracti128_si256(bytes, 1));
}

}  // namespace qmap::kernels::avx2
