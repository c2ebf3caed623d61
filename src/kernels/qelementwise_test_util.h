// Shared by the integer elementwise and pooling kernel testers (x86_*/qelementwise_test.cpp,
// x86_avx2/qpool_test.cpp): random bytes with the types' extremes, zero points worth testing,
// bit-equality checks that print the first differing index, numpy broadcasting shapes, and
// the qadd / qmul test bodies that every ISA runs against the references (kernels/ref/
// qelementwise.h) with its own functions. Header-only; test files include it without ISA
// flags and call only the kernels' declared entry points.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/fixed_point.h"
#include "kernels/isa.h"
#include "kernels/isa_test_util.h"
#include "kernels/ref/q8.h"
#include "kernels/ref/qelementwise.h"

namespace qmap::kernels::testing {

// Random bytes, a quarter of them the type's extremes.
inline std::vector<uint8_t> random_bytes(std::mt19937& rng, int64_t n) {
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& b : v) {
    const uint32_t r = rng();
    b = (r & 7) == 0 ? 0x80 : (r & 7) == 1 ? 0x7f : (r & 7) == 2 ? 0xff : (r & 7) == 3 ? 0x00 : static_cast<uint8_t>(r >> 8);
  }
  return v;
}

// Zero points worth testing for a type: its ends, 0, the middle and a random one.
inline std::vector<int32_t> zero_points(bool is_signed, std::mt19937& rng) {
  const int32_t lo = ref::q8_min(is_signed), hi = ref::q8_max(is_signed);
  return {lo, hi, 0, (lo + hi) / 2, lo + static_cast<int32_t>(rng() % 256)};
}

// One of zero_points(), picked at random (two draws from rng: the random one, then the pick).
inline int32_t pick_zero_point(bool is_signed, std::mt19937& rng) {
  const std::vector<int32_t> z = zero_points(is_signed, rng);
  return z[rng() % z.size()];
}

// -1 when equal, else the first differing index.
inline int64_t first_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size()) return 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return static_cast<int64_t>(i);
  return -1;
}

// "; first difference at d: ref <want[d]> <isa> <got[d]>" (-1 for an index out of range).
inline std::string diff_str(const std::vector<uint8_t>& want, const std::vector<uint8_t>& got, int64_t d,
                            const char* isa) {
  auto at = [d](const std::vector<uint8_t>& v) {
    return d >= 0 && static_cast<size_t>(d) < v.size() ? int(v[size_t(d)]) : -1;
  };
  return "; first difference at " + std::to_string(d) + ": ref " + std::to_string(at(want)) + " " + isa + " " +
         std::to_string(at(got));
}

// Asserts want == got byte for byte; on a mismatch prints `what` (a << chain) and diff_str.
#define QMAP_EXPECT_SAME_BYTES(want, got, isa, what)                                         \
  do {                                                                                       \
    const int64_t d_ = ::qmap::kernels::testing::first_diff(want, got);                      \
    ASSERT_EQ(d_, -1) << what << ::qmap::kernels::testing::diff_str(want, got, d_, isa);     \
  } while (0)

inline std::string dims_str(const std::vector<int64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) {
    if (i > 0) s += ',';  // not "," + to_string(): GCC 12 warns falsely there (-Wrestrict, PR 105329)
    s += std::to_string(d[i]);
  }
  return s + "]";
}

inline std::string mult_str(QMultiplier q) {
  return "{m=" + std::to_string(q.m) + ",shift=" + std::to_string(q.shift) + "}";
}

// Output dims of numpy broadcasting.
inline std::vector<int64_t> broadcast_dims(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> out(std::max(a.size(), b.size()), 1);
  for (size_t k = 0; k < out.size(); ++k) {
    const int64_t da = k < a.size() ? a[a.size() - 1 - k] : 1, db = k < b.size() ? b[b.size() - 1 - k] : 1;
    out[out.size() - 1 - k] = da == 1 ? db : da;
  }
  return out;
}
inline int64_t numel(const std::vector<int64_t>& d) {
  int64_t n = 1;
  for (int64_t v : d) n *= v;
  return n;
}

struct Shapes {
  std::vector<int64_t> a, b;
};
// Same-shape rank 1 operands of each of `sizes`, then broadcasting shapes of rank 0..4.
inline std::vector<Shapes> binary_shapes(std::span<const int64_t> sizes) {
  std::vector<Shapes> s;
  for (int64_t n : sizes) s.push_back({{n}, {n}});                              // rank 1 same shape
  s.push_back({{1001}, {1}});                                                     // scalar
  s.push_back({{1}, {33}});
  s.push_back({{2, 9, 5, 7}, {}});                                                // rank 0 operand
  s.push_back({{}, {}});
  s.push_back({{2, 3, 7, 9}, {2, 3, 7, 9}});                                      // rank 4 same shape
  s.push_back({{1, 24, 14, 14}, {1, 24, 1, 1}});                                  // squeeze-excitation
  s.push_back({{1, 24, 1, 1}, {1, 24, 14, 14}});
  s.push_back({{2, 5, 3, 11}, {1, 5, 1, 1}});                                     // per channel, N = 2
  s.push_back({{2, 5, 6, 7}, {2, 1, 6, 7}});                                      // [N,1,H,W]
  s.push_back({{2, 1, 6, 7}, {2, 5, 6, 7}});
  s.push_back({{3, 4, 40}, {40}});                                                // last-axis vector
  s.push_back({{7, 1}, {1, 37}});                                                 // outer product
  s.push_back({{2, 1, 3, 1}, {1, 4, 1, 5}});                                      // general
  s.push_back({{6, 1, 9}, {6, 4, 1}});
  s.push_back({{33, 3}, {33, 1}});                                                // short runs
  s.push_back({{2, 3, 0, 4}, {2, 3, 1, 4}});                                      // empty
  s.push_back({{1, 1, 1}, {1}});
  return s;
}

struct Clamp {
  int32_t lo, hi;
};
inline std::vector<Clamp> clamps(bool ys, int32_t zy) {
  const int32_t lo = ref::q8_min(ys), hi = ref::q8_max(ys);
  return {{lo, hi}, {zy, hi}, {std::clamp(zy + 3, lo, hi), std::clamp(zy + 40, lo, hi)}};
}

// For each of `shapes` (its operands drawn from rng) and each signedness of a, b and y:
// body(shape, geometry, a, b, a signed, b signed, y signed); stops at body's first fatal failure.
template <class Body>
inline void for_each_binary_case(const std::vector<Shapes>& shapes, std::mt19937& rng, Body body) {
  for (const Shapes& sh : shapes) {
    const std::vector<int64_t> out = broadcast_dims(sh.a, sh.b);
    const ref::BinaryGeometry g{out, ref::broadcast_strides(sh.a, out), ref::broadcast_strides(sh.b, out)};
    const std::vector<uint8_t> a = random_bytes(rng, numel(sh.a)), b = random_bytes(rng, numel(sh.b));
    for (bool as : {true, false})
      for (bool bs : {true, false})
        for (bool ys : {true, false}) {
          body(sh, g, a, b, as, bs, ys);
          if (::testing::Test::HasFatalFailure()) return;  // body failed an ASSERT: stop
        }
  }
}

// The signatures of ref::qadd / ref::qmul, which every ISA's kernels share.
using QAddFn = void (*)(const ref::BinaryGeometry& g, ref::Q8In a, int32_t za, QMultiplier ra, ref::Q8In b, int32_t zb,
                        QMultiplier rb, int32_t zy, int32_t lo, int32_t hi, ref::Q8Out y);
using QMulFn = void (*)(const ref::BinaryGeometry& g, ref::Q8In a, int32_t za, ref::Q8In b, int32_t zb, QMultiplier r,
                        int32_t zy, int32_t lo, int32_t hi, ref::Q8Out y);

// qadd (named `isa` in messages) against ref::qadd (seed 104): every shape of `shapes`,
// signedness combination and multiplier pair with random zero points and three clamps, then
// 300 random multiplier pairs with shift differences 0..40 on runs of trial_len(rng) elements.
inline void check_qadd(QAddFn qadd, const char* isa, const std::vector<Shapes>& shapes,
                       int64_t (*trial_len)(std::mt19937& rng)) {
  const uint32_t seed = 104;
  std::mt19937 rng(seed);
  // (ra, rb): typical, equal, tiny, large, very different shifts, and ones that leave the
  // 64-bit lanes (scalar fallback).
  const std::pair<double, double> ratios[] = {{0.5, 0.25},   {0.731, 1.37},  {1.0, 1.0},     {1e-7, 3e-9},
                                              {40.0, 200.0}, {0.5, 1e-8},    {3e-9, 0.75},   {1e6, 1e-12},
                                              {2e9, 2e9},    {0.9, 4.6e-10}, {1e-3, 1e-3 / 3}};
  int cases = 0;
  for_each_binary_case(shapes, rng, [&](const Shapes& sh, const ref::BinaryGeometry& g, const std::vector<uint8_t>& a,
                                         const std::vector<uint8_t>& b, bool as, bool bs, bool ys) -> void {
    for (const auto& [r1, r2] : ratios) {
      const QMultiplier ra = quantize_multiplier(r1), rb = quantize_multiplier(r2);
      const int32_t za = pick_zero_point(as, rng), zb = pick_zero_point(bs, rng);
      const int32_t zy = pick_zero_point(ys, rng);
      for (const Clamp& c : clamps(ys, zy)) {
        std::vector<uint8_t> want(static_cast<size_t>(numel(g.out)), 1), got(want.size(), 2);
        ref::qadd(g, {a.data(), as}, za, ra, {b.data(), bs}, zb, rb, zy, c.lo, c.hi, {want.data(), ys});
        qadd(g, {a.data(), as}, za, ra, {b.data(), bs}, zb, rb, zy, c.lo, c.hi, {got.data(), ys});
        QMAP_EXPECT_SAME_BYTES(want, got, isa,
                               "seed " << seed << " qadd a " << dims_str(sh.a) << (as ? " s8" : " u8") << " za "
                                       << za << " ra " << mult_str(ra) << " b " << dims_str(sh.b)
                                       << (bs ? " s8" : " u8") << " zb " << zb << " rb " << mult_str(rb) << " y"
                                       << (ys ? " s8" : " u8") << " zy " << zy << " clamp [" << c.lo << ","
                                       << c.hi << "]");
        ++cases;
      }
    }
  });
  if (::testing::Test::HasFatalFailure()) return;  // a mismatch above: stop, as an ASSERT would
  // Random multipliers with shift differences 0..40 on a long run.
  for (int t = 0; t < 300; ++t) {
    const bool as = rng() & 1, bs = rng() & 1, ys = rng() & 1;
    const QMultiplier ra{static_cast<int32_t>((1u << 30) + rng() % (1u << 30)), 1 + static_cast<int32_t>(rng() % 62)};
    const QMultiplier rb{static_cast<int32_t>((1u << 30) + rng() % (1u << 30)),
                         std::clamp(ra.shift + static_cast<int32_t>(rng() % 81) - 40, 1, 62)};
    const int64_t n = trial_len(rng);
    const std::vector<int64_t> d{n};
    const ref::BinaryGeometry g{d, {1}, {1}};
    const std::vector<uint8_t> a = random_bytes(rng, n), b = random_bytes(rng, n);
    const int32_t za = pick_zero_point(as, rng), zb = pick_zero_point(bs, rng);
    const int32_t zy = pick_zero_point(ys, rng);
    std::vector<uint8_t> want(static_cast<size_t>(n)), got(want.size());
    const int32_t lo = ref::q8_min(ys), hi = ref::q8_max(ys);
    ref::qadd(g, {a.data(), as}, za, ra, {b.data(), bs}, zb, rb, zy, lo, hi, {want.data(), ys});
    qadd(g, {a.data(), as}, za, ra, {b.data(), bs}, zb, rb, zy, lo, hi, {got.data(), ys});
    QMAP_EXPECT_SAME_BYTES(want, got, isa,
                           "seed " << seed << " qadd random trial " << t << " ra " << mult_str(ra) << " rb "
                                   << mult_str(rb) << " za " << za << " zb " << zb << " zy " << zy);
    ++cases;
  }
  ::testing::Test::RecordProperty("cases", cases);
}

// The byte-pair part of the Add kernels' testers: `fast` against `ref` (both called as
// op(g, a, za, b, zb, zy, lo, hi, y)) on every (qa, qb) pair of bytes, a run of 65536 elements
// (a = index % 256, b = index / 256); the same in place (y over a, y over b: a kernel must not
// read an operand it has already overwritten; the memory plan puts Add and Mul outputs there);
// and b broadcast, one call per value over a's 256.
// `what` names the kernel and its parameters in messages.
template <class Ref, class Fast>
inline void check_binary_byte_pairs(Ref ref_op, Fast fast, const char* isa, const std::string& what, bool as, bool bs,
                                    bool ys, int32_t za, int32_t zb, int32_t zy, const Clamp& c) {
  std::vector<uint8_t> a(65536), b(65536);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i), b[i] = static_cast<uint8_t>(i >> 8);
  const std::vector<int64_t> d{65536};
  const ref::BinaryGeometry g{d, {1}, {1}};
  std::vector<uint8_t> want(a.size()), got(a.size());
  ref_op(g, ref::Q8In{a.data(), as}, za, ref::Q8In{b.data(), bs}, zb, zy, c.lo, c.hi, ref::Q8Out{want.data(), ys});
  fast(g, ref::Q8In{a.data(), as}, za, ref::Q8In{b.data(), bs}, zb, zy, c.lo, c.hi, ref::Q8Out{got.data(), ys});
  const std::string types = std::string(as ? " s8" : " u8") + " za " + std::to_string(za) + (bs ? " s8" : " u8") +
                            " zb " + std::to_string(zb) + (ys ? " s8" : " u8") + " zy " + std::to_string(zy) +
                            " clamp [" + std::to_string(c.lo) + "," + std::to_string(c.hi) + "]";
  QMAP_EXPECT_SAME_BYTES(want, got, isa, what << " every pair:" << types << " (a = index % 256, b = index / 256)");
  // In place over a, then over b, on a run 37 short of the whole (every level's vector loops
  // end in a tail there, which must copy its operands before it stores).
  const std::vector<int64_t> dt{65536 - 37};
  const ref::BinaryGeometry gt{dt, {1}, {1}};
  const std::vector<uint8_t> want_t(want.begin(), want.begin() + dt[0]);
  for (const bool over_b : {false, true}) {
    const std::vector<uint8_t>& op = over_b ? b : a;
    std::vector<uint8_t> in_place(op.begin(), op.begin() + dt[0]);
    fast(gt, ref::Q8In{over_b ? a.data() : in_place.data(), as}, za, ref::Q8In{over_b ? in_place.data() : b.data(), bs},
         zb, zy, c.lo, c.hi, ref::Q8Out{in_place.data(), ys});
    QMAP_EXPECT_SAME_BYTES(want_t, in_place, isa, what << " in place (y = " << (over_b ? "b" : "a") << "):" << types);
  }
  const std::vector<int64_t> da{256};
  const ref::BinaryGeometry gb{da, {1}, {0}};
  for (int v = 0; v < 256; v += 51) {
    std::vector<uint8_t> w(256), o(256);
    const uint8_t bv = static_cast<uint8_t>(v);
    ref_op(gb, ref::Q8In{a.data(), as}, za, ref::Q8In{&bv, bs}, zb, zy, c.lo, c.hi, ref::Q8Out{w.data(), ys});
    fast(gb, ref::Q8In{a.data(), as}, za, ref::Q8In{&bv, bs}, zb, zy, c.lo, c.hi, ref::Q8Out{o.data(), ys});
    QMAP_EXPECT_SAME_BYTES(w, o, isa, what << " broadcast b " << v << ":" << types);
  }
}

// qadd (named `isa`) against ref::qadd on every (qa, qb) pair of bytes (seed 108), in place and
// with b broadcast (check_binary_byte_pairs), for each signedness combination and multiplier
// pairs that reach every case of the kernels' digit path: equal and nearby shifts, a common
// shift above 32 (the extra shift j), powers of two (exact ties, positive and negative, where
// half away from zero differs from half up: the kernels' second, correcting pass), mantissas
// near 2^31 (A's top digit at its limit) and shift differences around the 16 the digit path
// holds (beyond it, the other paths).
inline void check_qadd_all_pairs(QAddFn qadd, const char* isa) {
  const uint32_t seed = 108;
  std::mt19937 rng(seed);
  std::vector<std::pair<QMultiplier, QMultiplier>> mults;
  for (const auto& [r1, r2] : std::vector<std::pair<double, double>>{
           {0.5, 0.25}, {1.0, 1.0}, {0.731, 1.37}, {0.125, 0.0625}, {0.1, 0.2}, {0.03, 0.01}, {2.0, 0.5},
           {1.0 / 3, 2.0 / 3}, {0.9, 0.9 / 65536}, {0.9, 0.9 / 70000}, {1e-3, 1e-3}, {3.0, 0.01}})
    mults.emplace_back(quantize_multiplier(r1), quantize_multiplier(r2));
  mults.push_back({{0x7FFFFFFF, 30}, {0x7FFFC000, 31}});  // mantissas at the top
  mults.push_back({{1 << 30, 33}, {1 << 30, 49}});        // shift difference 16, exact ties
  mults.push_back({{0x7FFFFFFF, 49}, {0x7FFFFFFF, 33}});  // A's top digit past int16: not the digit path
  for (int t = 0; t < 12; ++t) {
    const QMultiplier r1{static_cast<int32_t>((1u << 30) + rng() % (1u << 30)), 28 + static_cast<int32_t>(rng() % 12)};
    const QMultiplier r2{static_cast<int32_t>((1u << 30) + rng() % (1u << 30)),
                         std::clamp(r1.shift + static_cast<int32_t>(rng() % 37) - 18, 1, 62)};
    mults.emplace_back(r1, r2);
  }
  for (const auto& [ra, rb] : mults)
    for (int sig = 0; sig < 8; ++sig) {
      const bool as = sig & 1, bs = sig & 2, ys = sig & 4;
      const int32_t za = pick_zero_point(as, rng), zb = pick_zero_point(bs, rng), zy = pick_zero_point(ys, rng);
      const Clamp c = clamps(ys, zy)[rng() % 2];
      auto bind = [&](auto op) {
        return [&, op](const ref::BinaryGeometry& g, ref::Q8In a, int32_t za_, ref::Q8In b, int32_t zb_, int32_t zy_,
                       int32_t lo, int32_t hi, ref::Q8Out y) { op(g, a, za_, ra, b, zb_, rb, zy_, lo, hi, y); };
      };
      check_binary_byte_pairs(bind(ref::qadd), bind(qadd), isa,
                              "seed " + std::to_string(seed) + " qadd: ra " + mult_str(ra) + " rb " + mult_str(rb), as,
                              bs, ys, za, zb, zy, c);
    }
}

using QAddQ15Fn = void (*)(const ref::BinaryGeometry& g, ref::Q8In a, int32_t za, ref::Q8In b, int32_t zb,
                           const AddQ15& f, int32_t zy, int32_t lo, int32_t hi, ref::Q8Out y);

inline std::string q15_str(const AddQ15& f) {
  return "(" + std::to_string(f.ma) + ", " + std::to_string(f.mb) + ") >> " + std::to_string(f.shift);
}

// qadd_q15 (named `isa`) against ref::qadd_q15 (seed 109): every shape of `shapes`,
// signedness combination and short form (from typical ratios, and mantissas and shifts at
// their limits) with random zero points and three clamps; then every (qa, qb) pair of bytes,
// in place and with b broadcast (check_binary_byte_pairs), per signedness.
inline void check_qadd_q15(QAddQ15Fn qadd_q15, const char* isa, const std::vector<Shapes>& shapes) {
  const uint32_t seed = 109;
  std::mt19937 rng(seed);
  std::vector<AddQ15> forms;
  for (const auto& [r1, r2] : std::vector<std::pair<double, double>>{
           {0.5, 0.25}, {1.0, 1.0}, {0.731, 1.37}, {3.9, 0.01}, {1e-3, 1e-3 / 3}, {0.9, 1e-6}, {2.0, 2.0}}) {
    AddQ15 f;
    EXPECT_TRUE(add_q15_form(quantize_multiplier(r1), quantize_multiplier(r2), &f)) << r1 << " " << r2;
    forms.push_back(f);
  }
  forms.push_back({32767, 32767, kAddQ15MinShift});  // the largest terms
  forms.push_back({32767, 0, kAddQ15MaxShift});      // the largest shift, one term zero
  forms.push_back({1, 32767, kAddQ15MaxShift});
  int cases = 0;
  for_each_binary_case(shapes, rng, [&](const Shapes& sh, const ref::BinaryGeometry& g, const std::vector<uint8_t>& a,
                                         const std::vector<uint8_t>& b, bool as, bool bs, bool ys) -> void {
    for (const AddQ15& f : forms) {
      const int32_t za = pick_zero_point(as, rng), zb = pick_zero_point(bs, rng), zy = pick_zero_point(ys, rng);
      for (const Clamp& c : clamps(ys, zy)) {
        std::vector<uint8_t> want(static_cast<size_t>(numel(g.out)), 1), got(want.size(), 2);
        ref::qadd_q15(g, {a.data(), as}, za, {b.data(), bs}, zb, f, zy, c.lo, c.hi, {want.data(), ys});
        qadd_q15(g, {a.data(), as}, za, {b.data(), bs}, zb, f, zy, c.lo, c.hi, {got.data(), ys});
        QMAP_EXPECT_SAME_BYTES(want, got, isa,
                               "seed " << seed << " qadd_q15 a " << dims_str(sh.a) << (as ? " s8" : " u8") << " za "
                                       << za << " b " << dims_str(sh.b) << (bs ? " s8" : " u8") << " zb " << zb
                                       << " form " << q15_str(f) << " y" << (ys ? " s8" : " u8") << " zy " << zy
                                       << " clamp [" << c.lo << "," << c.hi << "]");
        ++cases;
      }
    }
  });
  if (::testing::Test::HasFatalFailure()) return;
  for (const AddQ15& f : forms)
    for (int sig = 0; sig < 8; ++sig) {
      const bool as = sig & 1, bs = sig & 2, ys = sig & 4;
      const int32_t za = pick_zero_point(as, rng), zb = pick_zero_point(bs, rng), zy = pick_zero_point(ys, rng);
      const Clamp c = clamps(ys, zy)[rng() % 2];
      auto bind = [&](auto op) {
        return [&, op](const ref::BinaryGeometry& g, ref::Q8In a, int32_t za_, ref::Q8In b, int32_t zb_, int32_t zy_,
                       int32_t lo, int32_t hi, ref::Q8Out y) { op(g, a, za_, b, zb_, f, zy_, lo, hi, y); };
      };
      check_binary_byte_pairs(bind(ref::qadd_q15), bind(qadd_q15), isa,
                              "seed " + std::to_string(seed) + " qadd_q15: form " + q15_str(f), as, bs, ys, za, zb, zy,
                              c);
      cases += 3;
    }
  ::testing::Test::RecordProperty("cases", cases);
}

// qmul (named `isa` in messages) against ref::qmul (seed 105): every shape of `shapes`,
// signedness combination and multiplier with random zero points and three clamps.
inline void check_qmul(QMulFn qmul, const char* isa, const std::vector<Shapes>& shapes) {
  const uint32_t seed = 105;
  std::mt19937 rng(seed);
  const double ratios[] = {1e-4, 3.3e-3, 0.0117, 0.5, 1.0, 1e-12, 7e3, 2e6, 1e9};
  int cases = 0;
  for_each_binary_case(shapes, rng, [&](const Shapes& sh, const ref::BinaryGeometry& g, const std::vector<uint8_t>& a,
                                         const std::vector<uint8_t>& b, bool as, bool bs, bool ys) -> void {
    for (double rr : ratios) {
      const QMultiplier r = quantize_multiplier(rr);
      const int32_t za = pick_zero_point(as, rng), zb = pick_zero_point(bs, rng);
      const int32_t zy = pick_zero_point(ys, rng);
      for (const Clamp& c : clamps(ys, zy)) {
        std::vector<uint8_t> want(static_cast<size_t>(numel(g.out)), 1), got(want.size(), 2);
        ref::qmul(g, {a.data(), as}, za, {b.data(), bs}, zb, r, zy, c.lo, c.hi, {want.data(), ys});
        qmul(g, {a.data(), as}, za, {b.data(), bs}, zb, r, zy, c.lo, c.hi, {got.data(), ys});
        QMAP_EXPECT_SAME_BYTES(want, got, isa,
                               "seed " << seed << " qmul a " << dims_str(sh.a) << (as ? " s8" : " u8") << " za "
                                       << za << " b " << dims_str(sh.b) << (bs ? " s8" : " u8") << " zb " << zb
                                       << " r " << mult_str(r) << " y" << (ys ? " s8" : " u8") << " zy " << zy
                                       << " clamp [" << c.lo << "," << c.hi << "]");
        // In place over an operand with the output's elements (the memory plan's in-place Mul).
        for (const bool over_b : {false, true}) {
          if ((over_b ? b : a).size() != want.size()) continue;
          got = over_b ? b : a;
          qmul(g, {over_b ? a.data() : got.data(), as}, za, {over_b ? got.data() : b.data(), bs}, zb, r, zy, c.lo, c.hi,
               {got.data(), ys});
          QMAP_EXPECT_SAME_BYTES(want, got, isa, "seed " << seed << " qmul in place (y = " << (over_b ? "b" : "a")
                                                         << ") a " << dims_str(sh.a) << " b " << dims_str(sh.b)
                                                         << " r " << mult_str(r));
        }
        ++cases;
      }
    }
  });
  if (::testing::Test::HasFatalFailure()) return;  // a mismatch above: stop, as an ASSERT would
  ::testing::Test::RecordProperty("cases", cases);
}

// Zero points far outside the types: not produced by the lowering, but the kernels must
// still agree with the reference.
inline void check_wide_zero_points(QAddFn qadd, QMulFn qmul, const char* isa) {
  const std::vector<uint8_t> a = {0, 1, 127, 128, 200, 255, 3, 9, 17}, b = {255, 0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<int64_t> d{9};
  const ref::BinaryGeometry g{d, {1}, {1}};
  for (int32_t z : {-70000, 100000, 40000}) {
    std::vector<uint8_t> want(9), got(9);
    const QMultiplier r = quantize_multiplier(1e-6), ra = quantize_multiplier(1e-4), rb = quantize_multiplier(0.5);
    ref::qmul(g, {a.data(), false}, z, {b.data(), true}, 3, r, 0, -128, 127, {want.data(), true});
    qmul(g, {a.data(), false}, z, {b.data(), true}, 3, r, 0, -128, 127, {got.data(), true});
    QMAP_EXPECT_SAME_BYTES(want, got, isa, "qmul za " << z);
    ref::qadd(g, {a.data(), false}, z, ra, {b.data(), true}, 3, rb, 0, -128, 127, {want.data(), true});
    qadd(g, {a.data(), false}, z, ra, {b.data(), true}, 3, rb, 0, -128, 127, {got.data(), true});
    QMAP_EXPECT_SAME_BYTES(want, got, isa, "qadd za " << z);
  }
}

// A geometry broadcast_strides never makes (a transposed operand): the element loop (seed 107).
inline void check_general_strides(QAddFn qadd, QMulFn qmul, const char* isa) {
  const uint32_t seed = 107;
  std::mt19937 rng(seed);
  const std::vector<uint8_t> a = random_bytes(rng, 12), b = random_bytes(rng, 12);
  const ref::BinaryGeometry g{{3, 4}, {1, 3}, {4, 1}};
  for (bool s : {true, false}) {
    std::vector<uint8_t> want(12), got(12);
    const int32_t lo = ref::q8_min(s), hi = ref::q8_max(s);
    const QMultiplier ra = quantize_multiplier(0.3), rb = quantize_multiplier(0.6), r = quantize_multiplier(0.01);
    ref::qadd(g, {a.data(), s}, 1, ra, {b.data(), !s}, 7, rb, 2, lo, hi, {want.data(), s});
    qadd(g, {a.data(), s}, 1, ra, {b.data(), !s}, 7, rb, 2, lo, hi, {got.data(), s});
    QMAP_EXPECT_SAME_BYTES(want, got, isa, "seed " << seed << " qadd transposed a, signed " << s);
    ref::qmul(g, {a.data(), s}, 1, {b.data(), !s}, 7, r, 2, lo, hi, {want.data(), s});
    qmul(g, {a.data(), s}, 1, {b.data(), !s}, 7, r, 2, lo, hi, {got.data(), s});
    QMAP_EXPECT_SAME_BYTES(want, got, isa, "seed " << seed << " qmul transposed a, signed " << s);
  }
}

}  // namespace qmap::kernels::testing
