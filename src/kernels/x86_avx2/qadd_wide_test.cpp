// Kernel tester of avx2::qadd_wide (x86_avx2/qadd_wide.cpp), the exact Add with an int16 side,
// against ref::qadd bit for bit: every operand/output type combination with an int16 side,
// lengths around the 8-element block, the int16 extremes, ratios from tiny to large (shift
// differences up to 14 on the int64 lanes, beyond it the reference path), ties (ratios with
// few mantissa bits), clamps narrowed by a fused Relu, and broadcast operands (the reference
// path). Compiled without ISA flags; skipped on a CPU without AVX2.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/isa.h"
#include "kernels/qelementwise_test_util.h"
#include "kernels/x86_avx2/qelementwise.h"

namespace qmap::kernels {
namespace {

enum T { kU8, kS8, kS16 };

struct Buf {
  T t;
  std::vector<uint8_t> bytes;
  ref::Q8In in() const { return {bytes.data(), t != kU8, t == kS16}; }
  ref::Q8Out out() { return {bytes.data(), t != kU8, t == kS16}; }
};

Buf random_buf(T t, int64_t n, std::mt19937& rng, bool extremes) {
  Buf b{t, std::vector<uint8_t>(static_cast<size_t>(n) * (t == kS16 ? 2 : 1))};
  const int32_t lo = ref::q_min(t != kU8, t == kS16), hi = ref::q_max(t != kU8, t == kS16);
  for (int64_t i = 0; i < n; ++i) {
    const int32_t v = extremes ? (rng() & 1 ? hi : lo) : lo + static_cast<int32_t>(rng() % static_cast<uint32_t>(hi - lo + 1));
    b.out().set(i, v);
  }
  return b;
}

void check(T ta, T tb, T ty, const ref::BinaryGeometry& g, double ra, double rb, bool relu, uint32_t seed,
           bool extremes = false) {
  std::mt19937 rng(seed);
  int64_t na = 1, nb = 1, n = 1;
  for (size_t k = 0; k < g.out.size(); ++k) {
    n *= g.out[k];
    if (g.a_strides[k] != 0) na = std::max(na, g.a_strides[k] * g.out[k]);
    if (g.b_strides[k] != 0) nb = std::max(nb, g.b_strides[k] * g.out[k]);
  }
  const Buf a = random_buf(ta, na, rng, extremes), b = random_buf(tb, nb, rng, extremes);
  const int32_t za = ta == kS16 ? 0 : ta == kS8 ? -3 : 7, zb = tb == kS16 ? 0 : tb == kS8 ? 5 : 120;
  const int32_t zy = ty == kS16 ? 0 : ty == kS8 ? 1 : 60;
  const int32_t lo = relu ? zy : ref::q_min(ty != kU8, ty == kS16), hi = ref::q_max(ty != kU8, ty == kS16);
  const QMultiplier qa = quantize_multiplier(ra), qb = quantize_multiplier(rb);
  Buf want{ty, std::vector<uint8_t>(static_cast<size_t>(n) * (ty == kS16 ? 2 : 1), 0)};
  Buf got{ty, std::vector<uint8_t>(want.bytes.size(), 0xA5)};
  ref::qadd(g, a.in(), za, qa, b.in(), zb, qb, zy, lo, hi, want.out());
  avx2::qadd_wide(g, a.in(), za, qa, b.in(), zb, qb, zy, lo, hi, got.out());
  // In place over an operand of the output's element size and count (the memory plan's
  // in-place Add): each result is stored over the operand elements it was computed from.
  for (const Buf* op : {&a, &b}) {
    if (op->bytes.size() != want.bytes.size() || (op->t == kS16) != (ty == kS16) || want.bytes != got.bytes) continue;
    Buf y{ty, op->bytes};
    const ref::Q8In over{y.bytes.data(), op->t != kU8, op->t == kS16};  // the operand's type, y's bytes
    avx2::qadd_wide(g, op == &a ? over : a.in(), za, qa, op == &b ? over : b.in(), zb, qb, zy, lo, hi, y.out());
    EXPECT_EQ(y.bytes, want.bytes) << "types " << ta << "," << tb << "->" << ty << " n " << n << " seed " << seed
                                   << ": in place over " << (op == &a ? "a" : "b");
  }
  if (want.bytes == got.bytes) return;
  size_t i = 0;
  while (want.in()[static_cast<int64_t>(i)] == got.in()[static_cast<int64_t>(i)]) ++i;
  ADD_FAILURE() << "types " << ta << "," << tb << "->" << ty << " n " << n << " ra " << ra << " rb " << rb << " seed "
                << seed << ": first difference at " << i << ": want " << want.in()[static_cast<int64_t>(i)] << " got "
                << got.in()[static_cast<int64_t>(i)];
}

ref::BinaryGeometry dense(int64_t n) { return {{n}, {1}, {1}}; }

TEST(QAddWideAvx2, TypesLengthsAndRatios) {
  QMAP_REQUIRE_ISA(Isa::kAvx2, "avx2");
  uint32_t seed = 1;
  for (int ta = 0; ta < 3; ++ta)
    for (int tb = 0; tb < 3; ++tb)
      for (int ty = 0; ty < 3; ++ty) {
        if (ta != kS16 && tb != kS16 && ty != kS16) continue;
        // Ratios so that outputs span the output range (int16 from 8-bit inputs needs ~100).
        const double up = ty == kS16 && ta != kS16 && tb != kS16 ? 100.0 : ty == kS16 ? 0.7 : 0.004;
        for (int64_t n : {1, 7, 8, 9, 16, 31, 100, 1000})
          for (bool relu : {false, true})
            check(T(ta), T(tb), T(ty), dense(n), up, up * 0.37, relu, seed++);
      }
}

TEST(QAddWideAvx2, ShiftsTiesExtremesAndBroadcast) {
  QMAP_REQUIRE_ISA(Isa::kAvx2, "avx2");
  uint32_t seed = 100;
  // Shift differences 0..16 (past 14 the reference runs), ratios near powers of two (ties).
  for (int e = 0; e <= 16; ++e) {
    check(kS16, kS16, kS16, dense(203), 0.9, 0.9 * std::ldexp(1.0, -e), false, seed++);
    check(kS16, kS8, kS16, dense(203), std::ldexp(1.0, -e), 0.5, false, seed++);
  }
  for (double r : {0.5, 0.25, 1.0, 0.75, 1.5})
    for (bool ext : {false, true}) check(kS16, kS16, kS16, dense(77), r, r, false, seed++, ext);
  check(kS16, kS16, kS8, dense(500), 1e-3, 2e-3, false, seed++, true);   // saturating to int8
  check(kS16, kS16, kS16, dense(500), 40.0, 30.0, false, seed++, true);  // saturating to int16
  // Broadcast: b is one value per channel of [2, 3, 5] (the reference path).
  const ref::BinaryGeometry bc{{2, 3, 5}, {15, 5, 1}, {0, 1, 0}};
  check(kS16, kS16, kS16, bc, 0.6, 0.4, false, seed++);
  check(kS16, kU8, kS16, bc, 0.6, 40.0, true, seed++);
  // Dense over several axes with size-1 axes (what the runtime's row slices look like).
  check(kS16, kS16, kS16, {{1, 4, 1, 9}, {0, 9, 0, 1}, {36, 9, 9, 1}}, 0.6, 0.4, false, seed++);
}

}  // namespace
}  // namespace qmap::kernels
