// AVX2 integer elementwise kernels (see qelementwise.h). Bit-exact with kernels/ref/:
//   quantize    vdivps + vroundps (nearest even) + clamp in float, as the scalar code
//   dequantize  float(q - zp) * scale, one vmulps (no FMA contraction possible)
//   qadd        16-bit digit products in int32 lanes (vpmaddwd, plan::qadd_digits) for every
//               real Add; else as qmul
//   qadd/qmul   the Q31 products in 64-bit lanes (vpmuldq), rounded half away from zero
//               once; qadd brings both terms to the common shift exactly. Setup checks the
//               worst case fits (else the scalar core functions run) and narrows to int32.
//   lut8        16 vpshufb over xor-telescoped table slices (see lut32)
//   qconcat     memcpy, or requant8 (requant.h)
// Broadcasting: the geometry is collapsed to runs whose strides are 1 or 0 for each operand.
#include "kernels/x86_avx2/qelementwise.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#define QMAP_KERNEL_ISA_TAG 2
#include "kernels/qelementwise_plan.h"
#include "kernels/x86_avx2/requant.h"
#include "kernels/isa_vector.h"

// Vectors of this ISA folder (kernels/isa_vector.h says why).
template <class T>
using KVector = qmap::kernels::IsaVector<T, 2>;

namespace qmap::kernels::avx2 {
namespace {

using ref::Q8In;
using ref::q8_max;
using ref::q8_min;
using ref::Q8Out;
using plan::dispatch3;

template <bool S>
inline __m256i load8(const uint8_t* p) {
  const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return S ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
}
inline void store8(uint8_t* p, __m128i v) { _mm_storel_epi64(reinterpret_cast<__m128i*>(p), v); }

// 4 x 8 int32 already in the output type's range -> 32 bytes in order.
template <bool S>
inline __m256i pack32(__m256i v0, __m256i v1, __m256i v2, __m256i v3) {
  const __m256i w01 = _mm256_packs_epi32(v0, v1), w23 = _mm256_packs_epi32(v2, v3);
  const __m256i b = S ? _mm256_packs_epi16(w01, w23) : _mm256_packus_epi16(w01, w23);
  return _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

// ---------------------------------------------------------------------------------------
// quantize / dequantize

template <bool S>
void quantize_t(const float* x, int64_t n, float scale, int32_t zp, uint8_t* y) {
  // The reference's bounds, clamp order and NaN rule: r = isnan(q) ? 0 : clamp(rint(q), lo, hi).
  const __m256 vs = _mm256_set1_ps(scale);
  const __m256 vlo = _mm256_set1_ps(static_cast<float>(q8_min(S) - zp));
  const __m256 vhi = _mm256_set1_ps(static_cast<float>(q8_max(S) - zp));
  const __m256i vzp = _mm256_set1_epi32(zp), ff = _mm256_set1_epi32(0xff);
  auto q8 = [&](const float* p) {
    const __m256 q = _mm256_div_ps(_mm256_loadu_ps(p), vs);
    const __m256 nan = _mm256_cmp_ps(q, q, _CMP_UNORD_Q);
    __m256 r = _mm256_round_ps(q, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    r = _mm256_min_ps(_mm256_max_ps(r, vlo), vhi);  // NaN -> vlo, masked next
    r = _mm256_andnot_ps(nan, r);
    // The byte the reference stores (a truncating cast) in every lane.
    return _mm256_and_si256(_mm256_add_epi32(_mm256_cvttps_epi32(r), vzp), ff);
  };
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i w01 = _mm256_packus_epi32(q8(x + i), q8(x + i + 8));
    const __m256i w23 = _mm256_packus_epi32(q8(x + i + 16), q8(x + i + 24));
    const __m256i b = _mm256_permutevar8x32_epi32(_mm256_packus_epi16(w01, w23), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), b);
  }
  for (; i + 8 <= n; i += 8) store8(y + i, narrow8(q8(x + i)));
  if (i < n) {
    float t[8] = {};
    uint8_t o[8];
    std::memcpy(t, x + i, static_cast<size_t>(n - i) * sizeof(float));
    store8(o, narrow8(q8(t)));
    std::memcpy(y + i, o, static_cast<size_t>(n - i));
  }
}

template <bool S>
void dequantize_t(const uint8_t* x, int64_t n, float scale, int32_t zp, float* y) {
  const __m256 vs = _mm256_set1_ps(scale);
  const __m256i vzp = _mm256_set1_epi32(zp);
  auto f8 = [&](const uint8_t* p) { return _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_sub_epi32(load8<S>(p), vzp)), vs); };
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256 f0 = f8(x + i), f1 = f8(x + i + 8), f2 = f8(x + i + 16), f3 = f8(x + i + 24);
    _mm256_storeu_ps(y + i, f0);
    _mm256_storeu_ps(y + i + 8, f1);
    _mm256_storeu_ps(y + i + 16, f2);
    _mm256_storeu_ps(y + i + 24, f3);
  }
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f8(x + i));
  for (; i < n; ++i) {
    const int32_t q = S ? static_cast<int8_t>(x[i]) : x[i];
    y[i] = static_cast<float>(q - zp) * scale;
  }
}

// round_half_away(x / 2^s) for int64 lanes with |x| + half < 2^63.
inline __m256i round_shift(__m256i x, __m256i half, __m256i s) {
  const __m256i sign = _mm256_cmpgt_epi64(_mm256_setzero_si256(), x);
  const __m256i mag = _mm256_sub_epi64(_mm256_xor_si256(x, sign), sign);
  const __m256i r = _mm256_srlv_epi64(_mm256_add_epi64(mag, half), s);
  return _mm256_sub_epi64(_mm256_xor_si256(r, sign), sign);
}
// int32 values in the low halves of the 64-bit lanes of even / odd elements -> 8 int32.
inline __m256i combine(__m256i even, __m256i odd) {
  return _mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA);
}

struct OutLanes {
  __m256i zy, lo, hi, half, s;
  inline __m256i finish(__m256i even, __m256i odd) const {
    const __m256i r = combine(round_shift(even, half, s), round_shift(odd, half, s));
    return _mm256_min_epi32(_mm256_max_epi32(_mm256_add_epi32(r, zy), lo), hi);
  }
};
OutLanes out_lanes(int32_t shift, int32_t zy, int32_t lo, int32_t hi) {
  return {_mm256_set1_epi32(zy), _mm256_set1_epi32(lo), _mm256_set1_epi32(hi),
          _mm256_set1_epi64x(int64_t{1} << (shift - 1)), _mm256_set1_epi64x(shift)};
}

// One run of a binary op: op(da, db) -> 8 int32 results in the output range, da = a - za
// (a broadcast constant when BA), likewise db.
template <bool SA, bool SB, bool SY, bool BA, bool BB, typename Op>
void binary_run(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, int32_t za, int32_t zb, const Op& op) {
  const __m256i vza = _mm256_set1_epi32(za), vzb = _mm256_set1_epi32(zb);
  const __m256i ca = _mm256_set1_epi32((SA ? static_cast<int8_t>(a[0]) : a[0]) - za);
  const __m256i cb = _mm256_set1_epi32((SB ? static_cast<int8_t>(b[0]) : b[0]) - zb);
  auto lda = [&](const uint8_t* p) {
    if constexpr (BA) return ca;
    else return _mm256_sub_epi32(load8<SA>(p), vza);
  };
  auto ldb = [&](const uint8_t* p) {
    if constexpr (BB) return cb;
    else return _mm256_sub_epi32(load8<SB>(p), vzb);
  };
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    const __m256i r0 = op(lda(a + i), ldb(b + i));
    const __m256i r1 = op(lda(a + i + 8), ldb(b + i + 8));
    const __m256i r2 = op(lda(a + i + 16), ldb(b + i + 16));
    const __m256i r3 = op(lda(a + i + 24), ldb(b + i + 24));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), pack32<SY>(r0, r1, r2, r3));
  }
  for (; i + 8 <= n; i += 8) store8(y + i, narrow8(op(lda(a + i), ldb(b + i))));
  if (i < n) {
    const size_t rest = static_cast<size_t>(n - i);
    uint8_t ta[8] = {}, tb[8] = {}, ty[8];
    if constexpr (!BA) std::memcpy(ta, a + i, rest);
    if constexpr (!BB) std::memcpy(tb, b + i, rest);
    store8(ty, narrow8(op(lda(ta), ldb(tb))));
    std::memcpy(y + i, ty, rest);
  }
}

// Runs with strides (1|0, 1|0) on binary_run; anything else element by element with `scalar`.
template <bool SA, bool SB, bool SY, typename Op, typename Scalar>
void binary_dispatch(const plan::Runs& runs, const uint8_t* a, const uint8_t* b, uint8_t* y, int32_t za, int32_t zb,
                     const Op& op, const Scalar& scalar) {
  plan::binary_runs(
      runs, y,
      [&]<bool BA, bool BB>(int64_t ia, int64_t ib, int64_t o, int64_t n) {
        binary_run<SA, SB, SY, BA, BB>(a + ia, b + ib, y + o, n, za, zb, op);
      },
      scalar);
}

// ---------------------------------------------------------------------------------------
// qadd's digit path (plan::qadd_digits): 16 bytes of each operand widen to words, vpunpck{l,h}wd
// pairs them (qa, qb) in dwords, three vpmaddwd against the digit pairs (A_k, B_k) plus C_k
// give P_0..P_2 for 8 elements; two carries, the shift by j and the negative-tie correction
// give the result with zy (about 2 instructions per element against 6 in the 64-bit lanes).

struct DigitLanes {
  __m256i ab[3], c[3];
  explicit DigitLanes(const plan::QaddDigitLanes& l) {
    for (int k = 0; k < 3; ++k) ab[k] = _mm256_set1_epi32(l.ab[k]), c[k] = _mm256_set1_epi32(l.c[k]);
  }
};

// 8 dword pairs (qa | qb << 16) -> r = floor(u / 2^T) (zy included) and z = u's low T bits
// folded into 32 (zero exactly at a tie). Rounding half away from zero is r - 1 where z = 0 and
// r <= zy (t < 0): see tie_fix.
struct DigitOut {
  __m256i r, z;
};
template <bool kShift>
inline DigitOut digit_eval(__m256i pair, const DigitLanes& l, __m128i vj, __m256i jmask) {
  const __m256i low16 = _mm256_set1_epi32(0xFFFF);
  const __m256i p0 = _mm256_add_epi32(_mm256_madd_epi16(pair, l.ab[0]), l.c[0]);
  const __m256i p1 = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(pair, l.ab[1]), l.c[1]), _mm256_srai_epi32(p0, 16));
  const __m256i q = _mm256_add_epi32(_mm256_add_epi32(_mm256_madd_epi16(pair, l.ab[2]), l.c[2]), _mm256_srai_epi32(p1, 16));
  __m256i z = _mm256_and_si256(_mm256_or_si256(p0, p1), low16);
  if constexpr (kShift) z = _mm256_or_si256(z, _mm256_and_si256(q, jmask));
  return {kShift ? _mm256_sra_epi32(q, vj) : q, z};
}

inline __m256i tie_fix(const DigitOut& d, __m256i vzy1) {
  const __m256i tie = _mm256_cmpeq_epi32(d.z, _mm256_setzero_si256());
  return _mm256_add_epi32(d.r, _mm256_and_si256(tie, _mm256_cmpgt_epi32(vzy1, d.r)));  // - 1 at a negative tie
}

template <bool S>
inline __m256i widen16(const uint8_t* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return S ? _mm256_cvtepi8_epi16(v) : _mm256_cvtepu8_epi16(v);
}

// One run of n elements of qadd's digit path: a (b) is one broadcast value when BA (BB), whose
// term is already in `l`'s constants (its words stay zero). As on AVX-512, one pass tracks the
// smallest z and a second one, with the tie correction, runs only when some z was zero.
template <bool SA, bool SB, bool SY, bool BA, bool BB, bool kShift>
void digit_run(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, const DigitLanes& l, int32_t j,
               int32_t zy, int32_t lo, int32_t hi) {
  const __m128i vj = _mm_cvtsi32_si128(j);
  const __m256i jmask = _mm256_set1_epi32(static_cast<int32_t>((uint32_t{1} << (j & 31)) - 1));
  const __m256i vzy1 = _mm256_set1_epi32(zy + 1);
  const __m256i vlo = _mm256_set1_epi8(static_cast<char>(lo)), vhi = _mm256_set1_epi8(static_cast<char>(hi));
  __m256i zacc = _mm256_set1_epi32(-1);
  // 16 elements at pa / pb -> 16 words in order within each 128-bit lane.
  auto half = [&]<bool kFix>(const uint8_t* pa, const uint8_t* pb) __attribute__((always_inline)) {
    __m256i wa = _mm256_setzero_si256(), wb = _mm256_setzero_si256();
    if constexpr (!BA) wa = widen16<SA>(pa);
    if constexpr (!BB) wb = widen16<SB>(pb);
    const DigitOut d0 = digit_eval<kShift>(_mm256_unpacklo_epi16(wa, wb), l, vj, jmask);
    const DigitOut d1 = digit_eval<kShift>(_mm256_unpackhi_epi16(wa, wb), l, vj, jmask);
    if constexpr (kFix) return _mm256_packs_epi32(tie_fix(d0, vzy1), tie_fix(d1, vzy1));
    zacc = _mm256_min_epu32(zacc, _mm256_min_epu32(d0.z, d1.z));
    return _mm256_packs_epi32(d0.r, d1.r);
  };
  auto block = [&]<bool kFix>(const uint8_t* pa, const uint8_t* pb) __attribute__((always_inline)) {
    const __m256i w0 = half.template operator()<kFix>(pa, pb), w1 = half.template operator()<kFix>(pa + 16, pb + 16);
    const __m256i v = _mm256_permute4x64_epi64(SY ? _mm256_packs_epi16(w0, w1) : _mm256_packus_epi16(w0, w1), 0xD8);
    return SY ? _mm256_min_epi8(_mm256_max_epi8(v, vlo), vhi) : _mm256_min_epu8(_mm256_max_epu8(v, vlo), vhi);
  };
  auto pass = [&]<bool kFix>() {
    int64_t i = 0;
    for (; i + 32 <= n; i += 32)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), block.template operator()<kFix>(BA ? a : a + i, BB ? b : b + i));
    if (i < n) {
      const size_t rest = static_cast<size_t>(n - i);
      alignas(32) uint8_t ta[32] = {}, tb[32] = {}, ty[32];
      if constexpr (!BA) std::memcpy(ta, a + i, rest);
      if constexpr (!BB) std::memcpy(tb, b + i, rest);
      _mm256_store_si256(reinterpret_cast<__m256i*>(ty), block.template operator()<kFix>(ta, tb));
      std::memcpy(y + i, ty, rest);
    }
  };
  // An output over an operand (in place) has overwritten it after one pass: correct as it goes.
  auto overlaps = [&](const uint8_t* p) { return p < y + n && y < p + n; };
  if ((!BA && overlaps(a)) || (!BB && overlaps(b))) return pass.template operator()<true>();
  pass.template operator()<false>();
  // A tie somewhere (the zero-filled tail lanes count too): the run again, with the correction.
  if (__builtin_expect(!_mm256_testz_si256(_mm256_cmpeq_epi32(zacc, _mm256_setzero_si256()),
                                           _mm256_cmpeq_epi32(zacc, _mm256_setzero_si256())), 0))
    pass.template operator()<true>();
}

// ---------------------------------------------------------------------------------------
// qadd_q15 (plan::q15_lanes): 16 bytes of each operand widen to words, vpunpck{l,h}wd pairs
// them (qa, qb) in dwords, one vpmaddwd against (ma, mb) plus C gives the sum for 8 elements
// and an arithmetic shift floors it (no ties to correct: the rule rounds half up); two packs
// (+ zy in int16) and one vpermq make 32 output bytes, clamped in bytes.
template <bool SA, bool SB, bool SY, bool BA, bool BB>
void q15_run(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, const plan::Q15Lanes& l, int32_t s,
             int32_t zy, int32_t lo, int32_t hi) {
  const __m256i ab = _mm256_set1_epi32(l.ab), c = _mm256_set1_epi32(l.c), vzy = _mm256_set1_epi16(static_cast<int16_t>(zy));
  const __m128i vs = _mm_cvtsi32_si128(s);
  const __m256i vlo = _mm256_set1_epi8(static_cast<char>(lo)), vhi = _mm256_set1_epi8(static_cast<char>(hi));
  // 16 elements at pa / pb -> 16 int16 results + zy, in the unpacks' lane order.
  auto half = [&](const uint8_t* pa, const uint8_t* pb) __attribute__((always_inline)) {
    __m256i wa = _mm256_setzero_si256(), wb = _mm256_setzero_si256();
    if constexpr (!BA) wa = widen16<SA>(pa);
    if constexpr (!BB) wb = widen16<SB>(pb);
    const __m256i r0 = _mm256_sra_epi32(_mm256_add_epi32(_mm256_madd_epi16(_mm256_unpacklo_epi16(wa, wb), ab), c), vs);
    const __m256i r1 = _mm256_sra_epi32(_mm256_add_epi32(_mm256_madd_epi16(_mm256_unpackhi_epi16(wa, wb), ab), c), vs);
    return _mm256_adds_epi16(_mm256_packs_epi32(r0, r1), vzy);  // packs undo the unpacks' order
  };
  auto block = [&](const uint8_t* pa, const uint8_t* pb) __attribute__((always_inline)) {
    const __m256i w0 = half(pa, pb), w1 = half(BA ? pa : pa + 16, BB ? pb : pb + 16);
    const __m256i v = _mm256_permute4x64_epi64(SY ? _mm256_packs_epi16(w0, w1) : _mm256_packus_epi16(w0, w1), 0xD8);
    return SY ? _mm256_min_epi8(_mm256_max_epi8(v, vlo), vhi) : _mm256_min_epu8(_mm256_max_epu8(v, vlo), vhi);
  };
  int64_t i = 0;
  for (; i + 32 <= n; i += 32)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i), block(BA ? a : a + i, BB ? b : b + i));
  if (i < n) {
    const size_t rest = static_cast<size_t>(n - i);
    alignas(32) uint8_t ta[32] = {}, tb[32] = {}, ty[32];
    if constexpr (!BA) std::memcpy(ta, a + i, rest);
    if constexpr (!BB) std::memcpy(tb, b + i, rest);
    _mm256_store_si256(reinterpret_cast<__m256i*>(ty), block(ta, tb));
    std::memcpy(y + i, ty, rest);
  }
}

// ---------------------------------------------------------------------------------------
// lut8: 256-entry byte table, 32 lookups per iteration. With T_k = table[16k, 16k + 16),
// X_0 = T_0, X_k = T_k ^ T_(k-1) (k < 8) and the index i = 16h + l: the lower pass looks up
// pshufb(X_k, i - 16k) for k = 0..7. For h < 8 the index is negative (zeroing pshufb) exactly
// when k > h, so the xor telescopes to T_h; for h >= 8 the index starts at 0xff (i | its sign)
// and stays negative. The upper pass does the same on i ^ 0x80 with T_(8+k).

struct Lut {
  __m256i x[8], u[8];
};

inline __m256i lut32(const Lut& t, __m256i idx) {
  const __m256i zero = _mm256_setzero_si256(), sixteen = _mm256_set1_epi8(16);
  __m256i l = _mm256_or_si256(idx, _mm256_cmpgt_epi8(zero, idx));
  const __m256i hv = _mm256_xor_si256(idx, _mm256_set1_epi8(static_cast<char>(0x80)));
  __m256i u = _mm256_or_si256(hv, _mm256_cmpgt_epi8(zero, hv));
  __m256i r = _mm256_xor_si256(_mm256_shuffle_epi8(t.x[0], l), _mm256_shuffle_epi8(t.u[0], u));
  for (int k = 1; k < 8; ++k) {
    l = _mm256_sub_epi8(l, sixteen);
    u = _mm256_sub_epi8(u, sixteen);
    r = _mm256_xor_si256(r, _mm256_xor_si256(_mm256_shuffle_epi8(t.x[k], l), _mm256_shuffle_epi8(t.u[k], u)));
  }
  return r;
}

template <bool S>
void requant_block(const uint8_t* x, int64_t n, int32_t zx, const RequantLanes& q, int32_t zy, int32_t lo,
                   int32_t hi, uint8_t* y) {
  const __m256i vzx = _mm256_set1_epi32(zx);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) store8(y + i, narrow8(requant8(_mm256_sub_epi32(load8<S>(x + i), vzx), q, zy, lo, hi)));
  if (i < n) {
    const size_t rest = static_cast<size_t>(n - i);
    uint8_t t[8] = {}, o[8];
    std::memcpy(t, x + i, rest);
    store8(o, narrow8(requant8(_mm256_sub_epi32(load8<S>(t), vzx), q, zy, lo, hi)));
    std::memcpy(y + i, o, rest);
  }
}

}  // namespace

void quantize(std::span<const float> x, float scale, int32_t zp, Q8Out y) {
  auto* out = static_cast<uint8_t*>(y.data);
  const auto n = static_cast<int64_t>(x.size());
  if (y.is_signed) quantize_t<true>(x.data(), n, scale, zp, out);
  else quantize_t<false>(x.data(), n, scale, zp, out);
}

void dequantize(Q8In x, int64_t count, float scale, int32_t zp, float* y) {
  const auto* in = static_cast<const uint8_t*>(x.data);
  if (x.is_signed) dequantize_t<true>(in, count, scale, zp, y);
  else dequantize_t<false>(in, count, scale, zp, y);
}

void qadd_q15(const ref::BinaryGeometry& g, Q8In a, int32_t za, Q8In b, int32_t zb, const AddQ15& f, int32_t zy,
              int32_t lo, int32_t hi, Q8Out y) {
  plan::qadd_q15_walk(g, a, za, b, zb, f, zy, lo, hi, y,
                      [&]<bool SA, bool SB, bool SY, bool BA, bool BB>(const uint8_t* pa, const uint8_t* pb, uint8_t* o,
                                                                       int64_t n, const plan::Q15Lanes& l) {
                        q15_run<SA, SB, SY, BA, BB>(pa, pb, o, n, l, f.shift, zy, lo, hi);
                      });
}

void qadd(const ref::BinaryGeometry& g, Q8In a, int32_t za, QMultiplier ra, Q8In b, int32_t zb, QMultiplier rb,
          int32_t zy, int32_t lo, int32_t hi, Q8Out y) {
  const plan::Runs runs = plan::collapse(g);
  if (runs.total <= 0) return;
  auto scalar = [&](int64_t ia, int64_t ib) {
    return requantize_sum2(a[ia] - za, ra, b[ib] - zb, rb, zy, lo, hi);
  };
  auto* out = static_cast<uint8_t*>(y.data);
  const auto* pa = static_cast<const uint8_t*>(a.data);
  const auto* pb = static_cast<const uint8_t*>(b.data);
  if (plan::QaddDigits d; plan::qadd_digits(za, ra, zb, rb, zy, lo, hi, y.is_signed, &d)) {
    dispatch3(a.is_signed, b.is_signed, y.is_signed, [&]<bool SA, bool SB, bool SY>() {
      auto vec = [&]<bool BA, bool BB>(int64_t ia, int64_t ib, int64_t o, int64_t n) {
        const int32_t qa = BA ? (SA ? static_cast<int8_t>(pa[ia]) : pa[ia]) : 0;
        const int32_t qb = BB ? (SB ? static_cast<int8_t>(pb[ib]) : pb[ib]) : 0;
        const DigitLanes l(plan::qadd_digit_lanes(d, BA, qa, BB, qb));
        if (d.j > 0) digit_run<SA, SB, SY, BA, BB, true>(pa + ia, pb + ib, out + o, n, l, d.j, zy, lo, hi);
        else digit_run<SA, SB, SY, BA, BB, false>(pa + ia, pb + ib, out + o, n, l, 0, zy, lo, hi);
      };
      plan::binary_runs(runs, out, vec, scalar);
    });
    return;
  }
  // The other vector path: da * ma << (s - sa) + db * mb << (s - sb) plus half in int64 lanes, and
  // the rounded value narrowed to int32 (plan::qadd_shift proves it exact).
  const int32_t s = plan::qadd_shift(a.is_signed, za, ra, b.is_signed, zb, rb, zy, lo, hi, y.is_signed);
  if (s == 0) return plan::scalar_runs(runs, out, scalar);
  const OutLanes ol = out_lanes(s, zy, lo, hi);
  const __m256i ma = _mm256_set1_epi32(ra.m), mb = _mm256_set1_epi32(rb.m);
  const __m256i sha = _mm256_set1_epi64x(s - ra.shift), shb = _mm256_set1_epi64x(s - rb.shift);
  auto op = [&](__m256i da, __m256i db) {
    const __m256i e = _mm256_add_epi64(_mm256_sllv_epi64(_mm256_mul_epi32(da, ma), sha),
                                       _mm256_sllv_epi64(_mm256_mul_epi32(db, mb), shb));
    const __m256i o = _mm256_add_epi64(_mm256_sllv_epi64(_mm256_mul_epi32(_mm256_srli_epi64(da, 32), ma), sha),
                                       _mm256_sllv_epi64(_mm256_mul_epi32(_mm256_srli_epi64(db, 32), mb), shb));
    return ol.finish(e, o);
  };
  dispatch3(a.is_signed, b.is_signed, y.is_signed, [&]<bool SA, bool SB, bool SY>() {
    binary_dispatch<SA, SB, SY>(runs, pa, pb, out, za, zb, op, scalar);
  });
}

void qmul(const ref::BinaryGeometry& g, Q8In a, int32_t za, Q8In b, int32_t zb, QMultiplier r, int32_t zy,
          int32_t lo, int32_t hi, Q8Out y) {
  const plan::Runs runs = plan::collapse(g);
  if (runs.total <= 0) return;
  auto scalar = [&](int64_t ia, int64_t ib) {
    return requantize(static_cast<int64_t>(a[ia] - za) * (b[ib] - zb), r, zy, lo, hi);
  };
  auto* out = static_cast<uint8_t*>(y.data);
  // The vector path: da * db in int32 lanes, times m plus half in int64 lanes (plan::qmul_fast).
  if (!plan::qmul_fast(a.is_signed, za, b.is_signed, zb, r, zy, lo, hi, y.is_signed))
    return plan::scalar_runs(runs, out, scalar);
  const OutLanes ol = out_lanes(r.shift, zy, lo, hi);
  const __m256i m = _mm256_set1_epi32(r.m);
  auto op = [&](__m256i da, __m256i db) {
    const __m256i acc = _mm256_mullo_epi32(da, db);
    return ol.finish(_mm256_mul_epi32(acc, m), _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), m));
  };
  const auto* pa = static_cast<const uint8_t*>(a.data);
  const auto* pb = static_cast<const uint8_t*>(b.data);
  dispatch3(a.is_signed, b.is_signed, y.is_signed, [&]<bool SA, bool SB, bool SY>() {
    binary_dispatch<SA, SB, SY>(runs, pa, pb, out, za, zb, op, scalar);
  });
}

void lut8(Q8In x, int64_t count, std::span<const uint8_t> table, Q8Out y) {
  Lut t;
  auto slice = [&](int k) {
    return _mm256_broadcastsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(table.data() + 16 * k)));
  };
  t.x[0] = slice(0);
  t.u[0] = slice(8);
  for (int k = 1; k < 8; ++k) {
    t.x[k] = _mm256_xor_si256(slice(k), slice(k - 1));
    t.u[k] = _mm256_xor_si256(slice(8 + k), slice(7 + k));
  }
  // Index = byte - q8_min: the byte itself for uint8, byte ^ 0x80 for int8. The output byte
  // is the table byte whatever the output type.
  const __m256i flip = _mm256_set1_epi8(x.is_signed ? static_cast<char>(0x80) : 0);
  const auto* in = static_cast<const uint8_t*>(x.data);
  auto* out = static_cast<uint8_t*>(y.data);
  int64_t i = 0;
  for (; i + 32 <= count; i += 32) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), lut32(t, _mm256_xor_si256(v, flip)));
  }
  if (i < count) {
    const size_t rest = static_cast<size_t>(count - i);
    alignas(32) uint8_t tmp[32] = {};
    std::memcpy(tmp, in + i, rest);
    const __m256i v = _mm256_load_si256(reinterpret_cast<const __m256i*>(tmp));
    _mm256_store_si256(reinterpret_cast<__m256i*>(tmp), lut32(t, _mm256_xor_si256(v, flip)));
    std::memcpy(out + i, tmp, rest);
  }
}

void qconcat(std::span<const ref::ConcatInput> inputs, int64_t outer, int32_t zy, Q8Out y) {
  const int32_t lo = q8_min(y.is_signed), hi = q8_max(y.is_signed);
  KVector<RequantLanes> lanes;
  lanes.reserve(inputs.size());
  for (const ref::ConcatInput& in : inputs) lanes.push_back(requant_broadcast(in.mult));
  auto* out = static_cast<uint8_t*>(y.data);
  for (int64_t b = 0; b < outer; ++b)
    for (size_t k = 0; k < inputs.size(); ++k) {
      const ref::ConcatInput& in = inputs[k];
      if (in.block <= 0) continue;
      const auto* x = static_cast<const uint8_t*>(in.x.data) + b * in.block;
      // A copy keeps the byte: the reference's int32 round trip truncates back to it.
      if (!in.requant) std::memcpy(out, x, static_cast<size_t>(in.block));
      else if (in.x.is_signed) requant_block<true>(x, in.block, in.zx, lanes[k], zy, lo, hi, out);
      else requant_block<false>(x, in.block, in.zx, lanes[k], zy, lo, hi, out);
      out += in.block;
    }
}

}  // namespace qmap::kernels::avx2
