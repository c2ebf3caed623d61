// AVX-512 qadd / qadd_q15 / qmul (see qelementwise.h), bit-exact with kernels/ref/. The setup (runs,
// the proofs that the 64-bit lane arithmetic is exact, the scalar fallbacks) is
// kernels/qelementwise_plan.h, shared with the AVX2 kernels; this file has the vector runs.
//
// Lanes: 8 input bytes widen straight into 8 int64 lanes (vpmovzxbq / vpmovsxbq), so there is
// no even/odd split. A block is 64 elements (8 such vectors) and ends in one 64-byte store.
//   qadd  operands ordered so that a has the larger shift s; then, mod 2^64,
//           t = a * ma + (b * mb << (s - sb)) + C,  C = -za * ma - (zb * mb << (s - sb))
//         (a broadcast operand's term goes into C too). The true t is the reference's
//         da * ma * 2^(s-sa) + db * mb * 2^(s-sb) and |t| + 2^(s-1) < 2^63 (plan::qadd_shift),
//         so the wrap-around of the intermediates cancels and t is exact.
//   qmul  t = ((a - za) * (b - zb)) * m with two vpmuldq (|da * db| < 2^31, plan::qmul_fast).
//   round half away from zero of t / 2^s = (t + 2^(s-1) + (t >> 63)) >> s, arithmetic shifts
//         (for t < 0: floor((t + half - 1) / 2^s) = -floor((|t| + half) / 2^s)).
//   out   the results (|r| + |zy| < 2^31, plan::narrow_ok) gathered to int32 (vpermt2d), + zy,
//         saturating packs to 8 bits (monotone, lo/hi inside the type), then clamped in bytes.
// Tails (n % 64) run the groups of 8 they need on copies made with masked loads (clamped in
// 64 bits, narrowed with vpmovqb) and store masked.
//
// qadd_q15 (the Add's short form, what the lowering emits for nearly every Add) is one
// vpdpwssd per 16 elements, below. qadd's digit path (plan::qadd_digits, taken whenever it
// holds) replaces the 64-bit lanes with 16-bit digit products: 32 bytes of each operand widen
// to words (vpmovzxbw / vpmovsxbw), vpunpck{l,h}wd pairs them (qa, qb) in dwords, and three
// vpdpwssd against the digit pairs (A_k, B_k) plus C_k give P_0..P_2 for 16 elements; two
// carries and a shift by j give the result with zy. The packs (vpackssdw undoes the unpacks'
// order within 128-bit lanes), one vpermq and a byte clamp make 64 output bytes. Negative ties
// (rare) are corrected by a second pass over the run when the first one saw a tie (digit_run).
#include "kernels/x86_avx512vnni/qelementwise.h"

// GCC 12's avx512fintrin.h seeds its "undefined" vectors with a self-initialization that
// -Wmaybe-uninitialized reports at every inlined use (GCC PR 105593, fixed in 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <utility>

#define QMAP_KERNEL_ISA_TAG 512
#include "kernels/qelementwise_plan.h"

namespace qmap::kernels::avx512 {
namespace {

using ref::Q8In;
using ref::Q8Out;

template <bool S>
inline __m512i load8q(const uint8_t* p) {
  const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
  return S ? _mm512_cvtepi8_epi64(v) : _mm512_cvtepu8_epi64(v);
}

template <bool S>
inline int32_t value(const uint8_t* p) {
  return S ? static_cast<int8_t>(p[0]) : p[0];
}

// round_half_away(t / 2^s) for exact int64 t with |t| + half < 2^63, given u = t + half.
inline __m512i round_shift(__m512i t, __m512i u, __m128i s) {
  return _mm512_sra_epi64(_mm512_add_epi64(u, _mm512_srai_epi64(t, 63)), s);
}

// 8 vectors of int64 results r (|r| + |zy| < 2^31) -> 64 bytes clamp(r + zy, lo, hi) in order.
struct Narrow {
  __m512i zy, lo, hi;
  __m512i low_dwords = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  // After the in-lane packs, lane k's dword j holds elements 16j + 4k..+3.
  __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);

  __m512i zy64, lo64, hi64;  // for single groups (tails): the clamp in 64 bits

  Narrow(int32_t zp, int32_t l, int32_t h)
      : zy(_mm512_set1_epi32(zp)),
        lo(_mm512_set1_epi8(static_cast<char>(l))),
        hi(_mm512_set1_epi8(static_cast<char>(h))),
        zy64(_mm512_set1_epi64(zp)),
        lo64(_mm512_set1_epi64(int64_t{l} - zp)),
        hi64(_mm512_set1_epi64(int64_t{h} - zp)) {}

  // One vector of 8 results -> 8 bytes.
  inline __m128i operator()(__m512i q) const {
    return _mm512_cvtepi64_epi8(_mm512_add_epi64(_mm512_min_epi64(_mm512_max_epi64(q, lo64), hi64), zy64));
  }

  template <bool SY>
  inline __m512i operator()(const __m512i (&q)[8]) const {
    const __m512i d0 = _mm512_add_epi32(_mm512_permutex2var_epi32(q[0], low_dwords, q[1]), zy);
    const __m512i d1 = _mm512_add_epi32(_mm512_permutex2var_epi32(q[2], low_dwords, q[3]), zy);
    const __m512i d2 = _mm512_add_epi32(_mm512_permutex2var_epi32(q[4], low_dwords, q[5]), zy);
    const __m512i d3 = _mm512_add_epi32(_mm512_permutex2var_epi32(q[6], low_dwords, q[7]), zy);
    const __m512i w01 = _mm512_packs_epi32(d0, d1), w23 = _mm512_packs_epi32(d2, d3);
    if constexpr (SY) {
      const __m512i b = _mm512_permutexvar_epi32(order, _mm512_packs_epi16(w01, w23));
      return _mm512_min_epi8(_mm512_max_epi8(b, lo), hi);
    } else {
      const __m512i b = _mm512_permutexvar_epi32(order, _mm512_packus_epi16(w01, w23));
      return _mm512_min_epu8(_mm512_max_epu8(b, lo), hi);
    }
  }
};

// One run of n elements: op(pa, pb) -> 8 int64 results for the 8 elements at pa / pb (a
// broadcast operand's pointer is not read).
template <bool SY, bool BA, bool BB, typename Op>
inline void run64(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, const Narrow& nw, const Op& op) {
  auto block = [&](const uint8_t* pa, const uint8_t* pb) {
    __m512i q[8];
    for (int k = 0; k < 8; ++k) q[k] = op(pa + 8 * k, pb + 8 * k);
    return nw.template operator()<SY>(q);
  };
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) _mm512_storeu_si512(y + i, block(a + i, b + i));
  if (i < n) {  // the groups of 8 that hold the last n - i < 64 elements
    const int64_t rest = n - i;
    const __mmask64 m = (__mmask64{1} << rest) - 1;
    alignas(64) uint8_t ta[64], tb[64];
    if constexpr (!BA) _mm512_store_si512(ta, _mm512_maskz_loadu_epi8(m, a + i));
    if constexpr (!BB) _mm512_store_si512(tb, _mm512_maskz_loadu_epi8(m, b + i));
    for (int64_t k = 0; k < rest; k += 8)
      _mm_mask_storeu_epi8(y + i + k, static_cast<__mmask16>(m >> k) & 0xff, nw(op(ta + k, tb + k)));
  }
}

// ---- qadd's digit path (plan::qadd_digits) ----

struct DigitLanes {
  __m512i ab[3], c[3];
  explicit DigitLanes(const plan::QaddDigitLanes& l) {
    for (int k = 0; k < 3; ++k) ab[k] = _mm512_set1_epi32(l.ab[k]), c[k] = _mm512_set1_epi32(l.c[k]);
  }
};

// 16 dword pairs (qa | qb << 16) -> r = floor(u / 2^T) (zy included) and z = u's low T bits
// folded into 32 (zero exactly at a tie). Rounding half away from zero is r - 1 where z = 0 and
// r <= zy (t < 0): see tie_fix.
struct DigitOut {
  __m512i r, z;
};
template <bool kShift>
inline DigitOut digit_eval(__m512i pair, const DigitLanes& l, __m128i vj, __m512i jmask) {
  const __m512i low16 = _mm512_set1_epi32(0xFFFF);
  const __m512i p0 = _mm512_dpwssd_epi32(l.c[0], pair, l.ab[0]);
  const __m512i p1 = _mm512_add_epi32(_mm512_dpwssd_epi32(l.c[1], pair, l.ab[1]), _mm512_srai_epi32(p0, 16));
  const __m512i q = _mm512_add_epi32(_mm512_dpwssd_epi32(l.c[2], pair, l.ab[2]), _mm512_srai_epi32(p1, 16));
  // Ternary logic 0xA8: (a | b) & c; 0xF8: a | (b & c).
  __m512i z = _mm512_ternarylogic_epi32(p0, p1, low16, 0xA8);
  if constexpr (kShift) z = _mm512_ternarylogic_epi32(z, q, jmask, 0xF8);
  return {kShift ? _mm512_sra_epi32(q, vj) : q, z};
}

inline __m512i tie_fix(const DigitOut& d, __m512i vzy) {
  const __mmask16 tie = _mm512_mask_cmple_epi32_mask(_mm512_testn_epi32_mask(d.z, d.z), d.r, vzy);
  return _mm512_mask_sub_epi32(d.r, tie, d.r, _mm512_set1_epi32(1));
}

template <bool S>
inline __m512i widen32(const uint8_t* p, __mmask32 m) {
  const __m256i v = _mm256_maskz_loadu_epi8(m, p);
  return S ? _mm512_cvtepi8_epi16(v) : _mm512_cvtepu8_epi16(v);
}

// One run of n elements of qadd's digit path: a (b) is one broadcast value when BA (BB), whose
// term is already in `l`'s constants (its words stay zero). Ties are rare (u's low T >= 32 bits
// all zero: none in ResNet-50's Adds), and correcting every vector for them cost as much as the
// rest of the arithmetic, so one pass tracks the smallest z and a second pass, with the
// correction, runs only when some z was zero.
template <bool SA, bool SB, bool SY, bool BA, bool BB, bool kShift>
void digit_run(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, const DigitLanes& l, int32_t j,
               int32_t zy, int32_t lo, int32_t hi) {
  const __m128i vj = _mm_cvtsi32_si128(j);
  const __m512i jmask = _mm512_set1_epi32(static_cast<int32_t>((uint32_t{1} << (j & 31)) - 1));
  const __m512i vzy = _mm512_set1_epi32(zy);
  const __m512i vlo = _mm512_set1_epi8(static_cast<char>(lo)), vhi = _mm512_set1_epi8(static_cast<char>(hi));
  const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
  // 32 elements from offset i (mask m) -> d[0], d[1]: the unpacked low and high word pairs.
  auto half = [&](int64_t i, __mmask32 m, DigitOut* d) __attribute__((always_inline)) {
    __m512i wa = _mm512_setzero_si512(), wb = _mm512_setzero_si512();
    if constexpr (!BA) wa = widen32<SA>(a + i, m);
    if constexpr (!BB) wb = widen32<SB>(b + i, m);
    d[0] = digit_eval<kShift>(_mm512_unpacklo_epi16(wa, wb), l, vj, jmask);
    d[1] = digit_eval<kShift>(_mm512_unpackhi_epi16(wa, wb), l, vj, jmask);
  };
  // kFix: correct ties; else only track the smallest z over the run (zacc).
  __m512i zacc = _mm512_set1_epi32(-1);
  auto block = [&]<bool kFix>(int64_t i, __mmask32 m0, __mmask32 m1) __attribute__((always_inline)) {
    DigitOut d[4];
    half(i, m0, d);
    half(i + 32, m1, d + 2);
    __m512i r[4] = {d[0].r, d[1].r, d[2].r, d[3].r};
    if constexpr (kFix) {
      for (int k = 0; k < 4; ++k) r[k] = tie_fix(d[k], vzy);
    } else {
      zacc = _mm512_min_epu32(_mm512_min_epu32(zacc, _mm512_min_epu32(d[0].z, d[1].z)), _mm512_min_epu32(d[2].z, d[3].z));
    }
    // vpackssdw undoes the unpacks' order within 128-bit lanes; vpermq puts the halves in order.
    const __m512i w0 = _mm512_packs_epi32(r[0], r[1]), w1 = _mm512_packs_epi32(r[2], r[3]);
    const __m512i v = _mm512_permutexvar_epi64(order, SY ? _mm512_packs_epi16(w0, w1) : _mm512_packus_epi16(w0, w1));
    return SY ? _mm512_min_epi8(_mm512_max_epi8(v, vlo), vhi) : _mm512_min_epu8(_mm512_max_epu8(v, vlo), vhi);
  };
  auto pass = [&]<bool kFix>() {
    int64_t i = 0;
    for (; i + 64 <= n; i += 64)
      _mm512_storeu_si512(y + i, block.template operator()<kFix>(i, ~__mmask32{0}, ~__mmask32{0}));
    if (i < n) {
      const __mmask64 m = (~__mmask64{0}) >> (64 - (n - i));
      _mm512_mask_storeu_epi8(y + i, m,
                              block.template operator()<kFix>(i, static_cast<__mmask32>(m), static_cast<__mmask32>(m >> 32)));
    }
  };
  // An output over an operand (in place) has overwritten it after one pass: correct as it goes.
  auto overlaps = [&](const uint8_t* p) { return p < y + n && y < p + n; };
  if ((!BA && overlaps(a)) || (!BB && overlaps(b))) return pass.template operator()<true>();
  pass.template operator()<false>();
  // A tie somewhere (masked-off tail lanes count too): the run again, with the correction.
  if (__builtin_expect(_mm512_testn_epi32_mask(zacc, zacc) != 0, 0)) pass.template operator()<true>();
}

// ---- qadd_q15 (plan::q15_lanes) ----

// One run of n elements: 32 bytes of each operand widen to words, vpunpck{l,h}wd pairs them
// (qa, qb) in dwords, one vpdpwssd against (ma, mb) from C gives the sum for 16 elements, an
// arithmetic shift floors it; two packs (+ zy in int16) and one vpermq make 64 output bytes,
// clamped in bytes: 0.36-0.38x of the digit path's time (build/bench/qadd_paths); no ties to
// correct (the rule rounds half up). A broadcast operand's words stay zero.
template <bool SA, bool SB, bool SY, bool BA, bool BB>
void q15_run(const uint8_t* a, const uint8_t* b, uint8_t* y, int64_t n, const plan::Q15Lanes& l, int32_t s,
             int32_t zy, int32_t lo, int32_t hi) {
  const __m512i ab = _mm512_set1_epi32(l.ab), c = _mm512_set1_epi32(l.c), vzy = _mm512_set1_epi16(static_cast<int16_t>(zy));
  const __m128i vs = _mm_cvtsi32_si128(s);
  const __m512i vlo = _mm512_set1_epi8(static_cast<char>(lo)), vhi = _mm512_set1_epi8(static_cast<char>(hi));
  const __m512i order = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
  // 32 elements from offset i (mask m) -> 32 int16 results + zy, in the unpacks' lane order.
  auto half = [&](int64_t i, __mmask32 m) __attribute__((always_inline)) {
    __m512i wa = _mm512_setzero_si512(), wb = _mm512_setzero_si512();
    if constexpr (!BA) wa = widen32<SA>(a + i, m);
    if constexpr (!BB) wb = widen32<SB>(b + i, m);
    const __m512i lo16 = _mm512_sra_epi32(_mm512_dpwssd_epi32(c, _mm512_unpacklo_epi16(wa, wb), ab), vs);
    const __m512i hi16 = _mm512_sra_epi32(_mm512_dpwssd_epi32(c, _mm512_unpackhi_epi16(wa, wb), ab), vs);
    return _mm512_adds_epi16(_mm512_packs_epi32(lo16, hi16), vzy);  // packs undo the unpacks' order
  };
  auto block = [&](int64_t i, __mmask32 m0, __mmask32 m1) __attribute__((always_inline)) {
    const __m512i w0 = half(i, m0), w1 = half(i + 32, m1);
    const __m512i v = _mm512_permutexvar_epi64(order, SY ? _mm512_packs_epi16(w0, w1) : _mm512_packus_epi16(w0, w1));
    return SY ? _mm512_min_epi8(_mm512_max_epi8(v, vlo), vhi) : _mm512_min_epu8(_mm512_max_epu8(v, vlo), vhi);
  };
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) _mm512_storeu_si512(y + i, block(i, ~__mmask32{0}, ~__mmask32{0}));
  if (i < n) {
    const __mmask64 m = (~__mmask64{0}) >> (64 - (n - i));
    _mm512_mask_storeu_epi8(y + i, m, block(i, static_cast<__mmask32>(m), static_cast<__mmask32>(m >> 32)));
  }
}

}  // namespace

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
  plan::Runs runs = plan::collapse(g);
  if (runs.total <= 0) return;
  // The sum is symmetric: make a the operand with the larger shift (its term is not shifted).
  if (ra.shift < rb.shift) {
    std::swap(a, b);
    std::swap(za, zb);
    std::swap(ra, rb);
    std::swap(runs.sa, runs.sb);
  }
  auto scalar = [&](int64_t ia, int64_t ib) {
    return requantize_sum2(a[ia] - za, ra, b[ib] - zb, rb, zy, lo, hi);
  };
  auto* out = static_cast<uint8_t*>(y.data);
  const auto* pa = static_cast<const uint8_t*>(a.data);
  const auto* pb = static_cast<const uint8_t*>(b.data);
  if (plan::QaddDigits d; plan::qadd_digits(za, ra, zb, rb, zy, lo, hi, y.is_signed, &d)) {
    plan::dispatch3(a.is_signed, b.is_signed, y.is_signed, [&]<bool SA, bool SB, bool SY>() {
      auto vec = [&]<bool BA, bool BB>(int64_t ia, int64_t ib, int64_t o, int64_t n) {
        const DigitLanes l(plan::qadd_digit_lanes(d, BA, BA ? value<SA>(pa + ia) : 0, BB, BB ? value<SB>(pb + ib) : 0));
        if (d.j > 0) digit_run<SA, SB, SY, BA, BB, true>(pa + ia, pb + ib, out + o, n, l, d.j, zy, lo, hi);
        else digit_run<SA, SB, SY, BA, BB, false>(pa + ia, pb + ib, out + o, n, l, 0, zy, lo, hi);
      };
      plan::binary_runs(runs, out, vec, scalar);
    });
    return;
  }
  const int32_t s = plan::qadd_shift(a.is_signed, za, ra, b.is_signed, zb, rb, zy, lo, hi, y.is_signed);
  if (s == 0) return plan::scalar_runs(runs, out, scalar);
  const int32_t shb = s - rb.shift;
  // Mod 2^64 (unsigned: wrap-around is defined); only the sum is exact.
  const uint64_t ta0 = static_cast<uint64_t>(int64_t{za} * ra.m), tb0 = static_cast<uint64_t>(int64_t{zb} * rb.m) << shb;
  const uint64_t c0 = uint64_t{0} - ta0 - tb0, half = uint64_t{1} << (s - 1);
  const Narrow nw(zy, lo, hi);
  const __m512i ma = _mm512_set1_epi64(ra.m), mb = _mm512_set1_epi64(rb.m);
  const __m128i vshb = _mm_cvtsi64_si128(shb), vs = _mm_cvtsi64_si128(s);
  plan::dispatch3(a.is_signed, b.is_signed, y.is_signed, [&]<bool SA, bool SB, bool SY>() {
    auto vec = [&]<bool BA, bool BB>(int64_t ia, int64_t ib, int64_t o, int64_t n) {
      uint64_t c = c0;
      if constexpr (BA) c += static_cast<uint64_t>(int64_t{value<SA>(pa + ia)} * ra.m);
      if constexpr (BB) c += static_cast<uint64_t>(int64_t{value<SB>(pb + ib)} * rb.m) << shb;
      const __m512i vc = _mm512_set1_epi64(static_cast<int64_t>(c));
      const __m512i vch = _mm512_set1_epi64(static_cast<int64_t>(c + half));
      run64<SY, BA, BB>(pa + ia, pb + ib, out + o, n, nw, [&](const uint8_t* qa, const uint8_t* qb) {
        __m512i u;  // t - C
        if constexpr (BA) u = _mm512_sll_epi64(_mm512_mul_epi32(load8q<SB>(qb), mb), vshb);
        else if constexpr (BB) u = _mm512_mul_epi32(load8q<SA>(qa), ma);
        else
          u = _mm512_add_epi64(_mm512_mul_epi32(load8q<SA>(qa), ma),
                               _mm512_sll_epi64(_mm512_mul_epi32(load8q<SB>(qb), mb), vshb));
        return round_shift(_mm512_add_epi64(u, vc), _mm512_add_epi64(u, vch), vs);
      });
    };
    plan::binary_runs(runs, out, vec, scalar);
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
  if (!plan::qmul_fast(a.is_signed, za, b.is_signed, zb, r, zy, lo, hi, y.is_signed))
    return plan::scalar_runs(runs, out, scalar);
  const Narrow nw(zy, lo, hi);
  const __m512i m = _mm512_set1_epi64(r.m), half = _mm512_set1_epi64(int64_t{1} << (r.shift - 1));
  const __m512i vza = _mm512_set1_epi64(za), vzb = _mm512_set1_epi64(zb);
  const __m128i vs = _mm_cvtsi64_si128(r.shift);
  const auto* pa = static_cast<const uint8_t*>(a.data);
  const auto* pb = static_cast<const uint8_t*>(b.data);
  plan::dispatch3(a.is_signed, b.is_signed, y.is_signed, [&]<bool SA, bool SB, bool SY>() {
    auto vec = [&]<bool BA, bool BB>(int64_t ia, int64_t ib, int64_t o, int64_t n) {
      // A broadcast operand's difference, one value over the run.
      const __m512i ca = _mm512_set1_epi64(BA ? value<SA>(pa + ia) - za : 0);
      const __m512i cb = _mm512_set1_epi64(BB ? value<SB>(pb + ib) - zb : 0);
      run64<SY, BA, BB>(pa + ia, pb + ib, out + o, n, nw, [&](const uint8_t* qa, const uint8_t* qb) {
        const __m512i da = BA ? ca : _mm512_sub_epi64(load8q<SA>(qa), vza);
        const __m512i db = BB ? cb : _mm512_sub_epi64(load8q<SB>(qb), vzb);
        const __m512i t = _mm512_mul_epi32(_mm512_mul_epi32(da, db), m);
        return round_shift(t, _mm512_add_epi64(t, half), vs);
      });
    };
    plan::binary_runs(runs, out, vec, scalar);
  });
}

}  // namespace qmap::kernels::avx512
