// ISA-neutral planning shared by the SIMD binary elementwise kernels (x86_avx2/ and
// x86_avx512vnni/qelementwise.cpp): the broadcast geometry collapsed into runs, the walk over
// those runs (vector runs with operand strides 1|0, the element loop otherwise), the
// signedness dispatch, and the setup proofs that qadd's / qmul's 64-bit lane arithmetic is
// exact (else the scalar core functions run). No intrinsics: every ISA includes it.
//
// Everything here has internal linkage on purpose: each ISA's file compiles its own copy with
// its own flags, so the linker can never fold an AVX-512 build of an inline helper into the
// AVX2 path (or the reverse) and run it on a CPU without that ISA.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "kernels/isa_vector.h"

#include "core/fixed_point.h"
#include "kernels/ref/q8.h"
#include "kernels/ref/qelementwise.h"

// Included only by ISA folders' files, which define QMAP_KERNEL_ISA_TAG (their IsaVector
// tag) first, so the vectors below are that folder's own instances (kernels/isa_vector.h).
#ifndef QMAP_KERNEL_ISA_TAG
#error "define QMAP_KERNEL_ISA_TAG before including kernels/qelementwise_plan.h"
#endif

namespace qmap::kernels::plan {
namespace {

template <class T>
using PlanVector = IsaVector<T, QMAP_KERNEL_ISA_TAG>;

// ---------------------------------------------------------------------------------------
// Broadcast runs

struct Runs {
  PlanVector<int64_t> dims, sa, sb;  // collapsed: size-1 axes dropped, contiguous axes merged
  int64_t total = 1;
};

inline Runs collapse(const ref::BinaryGeometry& g) {
  Runs r;
  for (size_t d = 0; d < g.out.size(); ++d) {
    const int64_t n = g.out[d];
    r.total *= n;
    if (n == 1) continue;
    if (!r.dims.empty() && r.sa.back() == g.a_strides[d] * n && r.sb.back() == g.b_strides[d] * n) {
      r.dims.back() *= n;
      r.sa.back() = g.a_strides[d];
      r.sb.back() = g.b_strides[d];
    } else {
      r.dims.push_back(n);
      r.sa.push_back(g.a_strides[d]);
      r.sb.push_back(g.b_strides[d]);
    }
  }
  return r;
}

// Calls run(a_offset, b_offset, y_offset, n, a_stride, b_stride) per innermost run, in order.
template <typename F>
inline void for_each_run(const Runs& r, F run) {
  if (r.total <= 0) return;
  if (r.dims.empty()) {
    run(int64_t{0}, int64_t{0}, int64_t{0}, int64_t{1}, int64_t{0}, int64_t{0});
    return;
  }
  const size_t inner = r.dims.size() - 1;
  const int64_t n = r.dims[inner];
  PlanVector<int64_t> idx(inner, 0);
  int64_t ia = 0, ib = 0;
  for (int64_t o = 0; o < r.total; o += n) {
    run(ia, ib, o, n, r.sa[inner], r.sb[inner]);
    for (size_t d = inner; d-- > 0;) {
      ia += r.sa[d];
      ib += r.sb[d];
      if (++idx[d] < r.dims[d]) break;
      ia -= r.sa[d] * r.dims[d];
      ib -= r.sb[d] * r.dims[d];
      idx[d] = 0;
    }
  }
}

// Runs with strides (1|0, 1|0) on vec.template operator()<BA, BB>(ia, ib, o, n) (BA: a is
// one broadcast value over the run, likewise BB); both broadcast is one scalar value set n
// times; any other strides element by element with scalar(ia, ib).
template <typename Vec, typename Scalar>
inline void binary_runs(const Runs& runs, uint8_t* y, const Vec& vec, const Scalar& scalar) {
  for_each_run(runs, [&](int64_t ia, int64_t ib, int64_t o, int64_t n, int64_t sa, int64_t sb) {
    if (sa == 1 && sb == 1) vec.template operator()<false, false>(ia, ib, o, n);
    else if (sa == 1 && sb == 0) vec.template operator()<false, true>(ia, ib, o, n);
    else if (sa == 0 && sb == 1) vec.template operator()<true, false>(ia, ib, o, n);
    else if (sa == 0 && sb == 0) std::memset(y + o, static_cast<uint8_t>(scalar(ia, ib)), static_cast<size_t>(n));
    else
      for (int64_t k = 0; k < n; ++k) y[o + k] = static_cast<uint8_t>(scalar(ia + k * sa, ib + k * sb));
  });
}

// The reference's per-element rule on any runs (params the vector path cannot hold).
template <typename Scalar>
inline void scalar_runs(const Runs& runs, uint8_t* y, const Scalar& scalar) {
  for_each_run(runs, [&](int64_t ia, int64_t ib, int64_t o, int64_t n, int64_t sa, int64_t sb) {
    for (int64_t k = 0; k < n; ++k) y[o + k] = static_cast<uint8_t>(scalar(ia + k * sa, ib + k * sb));
  });
}

// ---------------------------------------------------------------------------------------
// Signedness dispatch: f.template operator()<A, B[, C]>() for the run-time flags.

template <typename F>
inline void dispatch2(bool a, bool b, F&& f) {
  if (a) {
    if (b) f.template operator()<true, true>();
    else f.template operator()<true, false>();
  } else {
    if (b) f.template operator()<false, true>();
    else f.template operator()<false, false>();
  }
}
template <typename F>
inline void dispatch3(bool a, bool b, bool c, F&& f) {
  if (c) dispatch2(a, b, [&]<bool A, bool B>() { f.template operator()<A, B, true>(); });
  else dispatch2(a, b, [&]<bool A, bool B>() { f.template operator()<A, B, false>(); });
}

// ---------------------------------------------------------------------------------------
// Setup proofs for the 64-bit lane arithmetic

// The largest |q - z| over an 8-bit type's values (>= |z|: both types hold 0).
inline int64_t max_abs_diff(bool is_signed, int32_t z) {
  return std::max(std::abs(int64_t{ref::q8_min(is_signed)} - z), std::abs(int64_t{ref::q8_max(is_signed)} - z));
}

// Results r with |r| <= bound (before the zero point) can be narrowed to int32, have zy added
// and be clamped there exactly as the reference clamps in 128 bits; lo/hi must be ordered and
// inside the output type (saturating packs then change nothing the clamp keeps).
inline bool narrow_ok(__int128 bound, int32_t zy, int32_t lo, int32_t hi, bool y_signed) {
  return bound + (zy < 0 ? -__int128{zy} : __int128{zy}) < (__int128{1} << 31) && lo <= hi &&
         lo >= ref::q8_min(y_signed) && hi <= ref::q8_max(y_signed);
}

// qadd's vector path: t = da * ma << (s - sa) + db * mb << (s - sb), s = max(sa, sb), in
// int64 lanes, |t| + 2^(s-1) < 2^63 (so rounding half away from zero is exact there), and
// the rounded value narrowed to int32 (narrow_ok). |da|, |db| < 2^31 fit vpmuldq's operands.
// Returns s, or 0 when the params need the scalar path.
inline int32_t qadd_shift(bool a_signed, int32_t za, QMultiplier ra, bool b_signed, int32_t zb, QMultiplier rb,
                          int32_t zy, int32_t lo, int32_t hi, bool y_signed) {
  const int64_t dA = max_abs_diff(a_signed, za), dB = max_abs_diff(b_signed, zb);
  const int32_t s = std::max(ra.shift, rb.shift);
  if (!(ra.shift >= kMinShift && ra.shift <= kMaxShift && rb.shift >= kMinShift && rb.shift <= kMaxShift &&
        ra.m > 0 && rb.m > 0 && dA < (int64_t{1} << 31) && dB < (int64_t{1} << 31)))
    return 0;
  const __int128 bound = ((__int128{dA} * ra.m) << (s - ra.shift)) + ((__int128{dB} * rb.m) << (s - rb.shift)) +
                         (__int128{1} << (s - 1));
  return bound < (__int128{1} << 63) && narrow_ok(bound >> s, zy, lo, hi, y_signed) ? s : 0;
}

// qadd's digit path: 16-bit products summed in int32 lanes (vpmaddwd / vpdpwssd), 16 lanes
// per zmm instead of the 8 int64 lanes above. With s = max(sa, sb), T = max(s, 32), j = T - 32,
// A = ma * 2^(T - sa), B = mb * 2^(T - sb) and C = -za * A - zb * B + 2^(T-1) + zy * 2^T, the
// reference's sum scaled by 2^(T - s) is t = (qa - za) * A + (qb - zb) * B, and
//   u = qa * A + qb * B + C = t + 2^(T-1) + zy * 2^T = sum_k P_k * 2^(16k),
//   P_k = qa * A_k + qb * B_k + C_k,
// where A_k, B_k are signed 16-bit digits (A = A_0 + A_1 2^16 + A_2 2^32, each in
// [-2^15, 2^15)) and C_0, C_1 in [0, 2^16), C_2 = C >> 32. Each P_k is one pair of 16x16-bit
// products plus a constant, far inside int32. Carrying P_0's and then P_1's high halves up
// gives u = Q * 2^32 + (P_1' mod 2^16) * 2^16 + (P_0 mod 2^16), so floor(u / 2^T) = Q >> j.
// Rounding half away from zero is floor(u / 2^T) less 1 at a negative tie: u's low T bits all
// zero and floor(u / 2^T) - zy <= 0. The result then carries zy; the clamp follows.
struct QaddDigits {
  int64_t a = 0, b = 0, c = 0;  // A, B, C above
  int32_t j = 0, zy = 0;
};

// The per-run lane constants: ab[k] = A_k | B_k << 16 (the dword a vpmaddwd pair (qa, qb)
// multiplies), c[k] = C_k. A broadcast operand's term (value qa or qb) moves into C.
struct QaddDigitLanes {
  int32_t ab[3], c[3];
};

inline QaddDigitLanes qadd_digit_lanes(const QaddDigits& d, bool a_broadcast, int32_t qa, bool b_broadcast,
                                       int32_t qb) {
  int64_t a = d.a, b = d.b, c = d.c;
  if (a_broadcast) c += qa * a, a = 0;
  if (b_broadcast) c += qb * b, b = 0;
  QaddDigitLanes l{};
  for (int k = 0; k < 3; ++k) {
    const int64_t ak = k < 2 ? static_cast<int16_t>(a & 0xFFFF) : a, bk = k < 2 ? static_cast<int16_t>(b & 0xFFFF) : b;
    l.ab[k] = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(ak)) |
                                   (static_cast<uint32_t>(static_cast<uint16_t>(bk)) << 16));
    a = (a - ak) >> 16, b = (b - bk) >> 16;  // exact: the low 16 bits are now zero
    l.c[k] = static_cast<int32_t>(k < 2 ? (c & 0xFFFF) : c);
    c >>= 16;  // arithmetic (C++20)
  }
  return l;
}

// Whether the digit path holds for these params (else qadd_shift's path or the scalar one):
// the top digits of A and B fit int16, |u| < 2^60 for every (qa, qb) with or without a
// broadcast operand folded into C (so C_2 and Q are far inside int32), and lo/hi ordered
// inside the output type (the saturating packs then clamp exactly).
inline bool qadd_digits(int32_t za, QMultiplier ra, int32_t zb, QMultiplier rb, int32_t zy, int32_t lo, int32_t hi,
                        bool y_signed, QaddDigits* d) {
  if (!(ra.shift >= kMinShift && ra.shift <= kMaxShift && rb.shift >= kMinShift && rb.shift <= kMaxShift &&
        ra.m > 0 && rb.m > 0 && lo <= hi && lo >= ref::q8_min(y_signed) && hi <= ref::q8_max(y_signed)))
    return false;
  const int32_t t = std::max({ra.shift, rb.shift, 32});
  if (t - ra.shift > 16 || t - rb.shift > 16) return false;  // A or B would not fit three digits
  const int64_t a = int64_t{ra.m} << (t - ra.shift), b = int64_t{rb.m} << (t - rb.shift);  // < 2^47
  auto top_fits = [](int64_t v) {
    for (int k = 0; k < 2; ++k) v = (v - static_cast<int16_t>(v & 0xFFFF)) >> 16;
    return v >= -32768 && v <= 32767;
  };
  if (!top_fits(a) || !top_fits(b)) return false;
  auto mag = [](int64_t v) { return v < 0 ? -__int128{v} : __int128{v}; };
  const __int128 qmax = 255;  // |qa|, |qb| for either type
  const __int128 bound = (mag(za) + qmax) * a + (mag(zb) + qmax) * b + (__int128{1} << (t - 1)) +
                         (mag(zy) << t);
  if (bound >= (__int128{1} << 60)) return false;
  d->a = a, d->b = b, d->j = t - 32, d->zy = zy;
  d->c = static_cast<int64_t>(-__int128{za} * a - __int128{zb} * b + (__int128{1} << (t - 1)) + (__int128{zy} << t));
  return true;
}

// qadd_q15 (the Add's short form, requantize_sum2_q15): one 16-bit multiply-add of the pair
// (qa, qb) against (ma, mb) plus C = 2^(s-1) - za * ma - zb * mb gives da * ma + db * mb +
// 2^(s-1) in an int32 lane (|qa * ma| < 2^23, |C| < 2^24 + 2^29); an arithmetic shift by s
// floors it. A broadcast operand's term (value qa or qb) moves into C. The vector path needs
// lo/hi ordered inside the output type (the saturating packs then clamp exactly); the result
// before zy is below 2^12 in magnitude, so it and + zy fit int16.
struct Q15Lanes {
  int32_t ab = 0, c = 0;  // ma | mb << 16 (the dword a vpmaddwd pair (qa, qb) multiplies), C
};
inline Q15Lanes q15_lanes(const AddQ15& f, int32_t za, int32_t zb, bool a_broadcast, int32_t qa, bool b_broadcast,
                          int32_t qb) {
  Q15Lanes l;
  l.ab = static_cast<int32_t>(static_cast<uint32_t>(a_broadcast ? 0 : f.ma) |
                              (static_cast<uint32_t>(b_broadcast ? 0 : f.mb) << 16));
  l.c = (int32_t{1} << (f.shift - 1)) - za * f.ma - zb * f.mb + (a_broadcast ? qa * f.ma : 0) +
        (b_broadcast ? qb * f.mb : 0);
  return l;
}
inline bool q15_vector_ok(const AddQ15& f, int32_t lo, int32_t hi, bool y_signed) {
  return f.shift >= kAddQ15MinShift && f.shift <= kAddQ15MaxShift && f.ma >= 0 && f.ma < (1 << 15) && f.mb >= 0 &&
         f.mb < (1 << 15) && lo <= hi && lo >= ref::q8_min(y_signed) && hi <= ref::q8_max(y_signed);
}

// qadd_q15's walk, the same on every ISA: runs the reference rule where the vector path does
// not hold, else run.template operator()<SA, SB, SY, BA, BB>(a, b, y, n, lanes) per vector run
// (signednesses and broadcast flags as template arguments, the run's lanes from q15_lanes).
template <typename Run>
inline void qadd_q15_walk(const ref::BinaryGeometry& g, ref::Q8In a, int32_t za, ref::Q8In b, int32_t zb,
                          const AddQ15& f, int32_t zy, int32_t lo, int32_t hi, ref::Q8Out y, const Run& run) {
  const Runs runs = collapse(g);
  if (runs.total <= 0) return;
  auto scalar = [&](int64_t ia, int64_t ib) { return requantize_sum2_q15(a[ia] - za, b[ib] - zb, f, zy, lo, hi); };
  auto* out = static_cast<uint8_t*>(y.data);
  const auto* pa = static_cast<const uint8_t*>(a.data);
  const auto* pb = static_cast<const uint8_t*>(b.data);
  if (!q15_vector_ok(f, lo, hi, y.is_signed)) return scalar_runs(runs, out, scalar);
  dispatch3(a.is_signed, b.is_signed, y.is_signed, [&]<bool SA, bool SB, bool SY>() {
    auto vec = [&]<bool BA, bool BB>(int64_t ia, int64_t ib, int64_t o, int64_t n) {
      const int32_t qa = BA ? (SA ? static_cast<int8_t>(pa[ia]) : pa[ia]) : 0;
      const int32_t qb = BB ? (SB ? static_cast<int8_t>(pb[ib]) : pb[ib]) : 0;
      run.template operator()<SA, SB, SY, BA, BB>(pa + ia, pb + ib, out + o, n, q15_lanes(f, za, zb, BA, qa, BB, qb));
    };
    binary_runs(runs, out, vec, scalar);
  });
}

// qmul's vector path: da * db exact in int32 (vpmuldq / vpmulld), times m plus 2^(shift-1)
// below 2^63 in int64 lanes, the rounded value narrowed to int32.
inline bool qmul_fast(bool a_signed, int32_t za, bool b_signed, int32_t zb, QMultiplier r, int32_t zy, int32_t lo,
                      int32_t hi, bool y_signed) {
  const int64_t dA = max_abs_diff(a_signed, za), dB = max_abs_diff(b_signed, zb);
  if (!(r.shift >= kMinShift && r.shift <= kMaxShift && r.m > 0 && dA < (int64_t{1} << 31) &&
        dB < (int64_t{1} << 31) && __int128{dA} * dB < (__int128{1} << 31)))
    return false;
  const __int128 bound = __int128{dA} * dB * r.m + (__int128{1} << (r.shift - 1));
  return bound < (__int128{1} << 63) && narrow_ok(bound >> r.shift, zy, lo, hi, y_signed);
}

}  // namespace
}  // namespace qmap::kernels::plan
