// fixed_point: the multiplier representation and the half-away rounding, checked against an
// independent exact formulation (floor division plus remainder comparison in __int128) on
// random values, ties and negative ties.
#include "core/fixed_point.h"

#include <cmath>
#include <random>

#include <gtest/gtest.h>

namespace qmap {
namespace {

// round_half_away(num / 2^s) by floor division and the remainder: independent of the
// "add half, truncate magnitude" formulation in fixed_point.cpp.
__int128 exact_round(__int128 num, int s) {
  const __int128 d = static_cast<__int128>(1) << s;
  __int128 q = num / d, r = num % d;  // truncating
  if (r < 0) { q -= 1; r += d; }      // now floor: num = q*d + r, 0 <= r < d
  if (2 * r > d || (2 * r == d && num > 0)) q += 1;  // above half, or a positive tie
  return q;
}

TEST(FixedPoint, QuantizeMultiplierRangeAndAccuracy) {
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> ex(-31.5, 29.5);
  for (int i = 0; i < 20000; ++i) {
    const double r = std::exp2(ex(rng));
    const QMultiplier q = quantize_multiplier(r);
    ASSERT_GE(q.m, 1 << 30) << "r=" << r << " seed 7";
    ASSERT_GE(q.shift, 1) << "r=" << r;
    ASSERT_LE(q.shift, 62) << "r=" << r;
    // Q31 mantissa: relative error at most half a unit of 2^-30 relative to [2^30, 2^31).
    ASSERT_LE(std::fabs(multiplier_value(q) - r), r * std::ldexp(1.0, -31)) << "r=" << r << " seed 7";
  }
}

TEST(FixedPoint, QuantizeMultiplierLiterals) {
  EXPECT_EQ(quantize_multiplier(0.5).m, 1 << 30);
  EXPECT_EQ(quantize_multiplier(0.5).shift, 31);
  EXPECT_EQ(quantize_multiplier(1.0).shift, 30);
  // Just below a power of two: the mantissa rounds up to 2^31 and renormalizes.
  const QMultiplier q = quantize_multiplier(std::nextafter(1.0, 0.0));
  EXPECT_EQ(q.m, 1 << 30);
  EXPECT_EQ(q.shift, 30);
  // Saturation at both ends of the range.
  EXPECT_EQ(quantize_multiplier(1e12).shift, 1);
  EXPECT_EQ(quantize_multiplier(1e12).m, 0x7fffffff);
  EXPECT_EQ(quantize_multiplier(1e-12).shift, 62);
  EXPECT_EQ(quantize_multiplier(1e-12).m, 1 << 30);
  EXPECT_EQ(requantize(INT32_MAX, quantize_multiplier(1e-12), 0, -128, 127), 0);
}

TEST(FixedPoint, RoundingShiftRightTies) {
  // 2^-1 multiples: ties go away from zero.
  EXPECT_EQ(rounding_shift_right(3, 1), 2);
  EXPECT_EQ(rounding_shift_right(-3, 1), -2);
  EXPECT_EQ(rounding_shift_right(1, 1), 1);
  EXPECT_EQ(rounding_shift_right(-1, 1), -1);
  EXPECT_EQ(rounding_shift_right(5, 2), 1);    // 1.25
  EXPECT_EQ(rounding_shift_right(-6, 2), -2);  // -1.5
  EXPECT_EQ(rounding_shift_right(-7, 2), -2);  // -1.75
  EXPECT_EQ(rounding_shift_right(7, 0), 7);
  // Saturation to int64.
  EXPECT_EQ(rounding_shift_right(static_cast<__int128>(1) << 100, 1), INT64_MAX);
  EXPECT_EQ(rounding_shift_right(-(static_cast<__int128>(1) << 100), 1), INT64_MIN);
}

TEST(FixedPoint, RequantizeMatchesExactRational) {
  std::mt19937_64 rng(11);
  std::uniform_int_distribution<int64_t> acc_d(-(int64_t{1} << 40), int64_t{1} << 40);
  std::uniform_int_distribution<int32_t> m_d(1 << 30, 0x7fffffff);
  std::uniform_int_distribution<int32_t> s_d(1, 62);
  for (int i = 0; i < 100000; ++i) {
    int64_t acc = acc_d(rng);
    QMultiplier q{m_d(rng), s_d(rng)};
    if (i % 4 == 0) {
      // A tie: m = 2^30, shift 31 is r = 1/2, so an odd acc (of either sign) is a tie.
      acc = 2 * (acc % 1000) + 1;
      q = {1 << 30, 31};
    }
    const int32_t zp = static_cast<int32_t>(i % 7) - 3;
    const __int128 exact = exact_round(static_cast<__int128>(acc) * q.m, q.shift) + zp;
    const int32_t want = static_cast<int32_t>(std::clamp<__int128>(exact, -128, 127));
    ASSERT_EQ(requantize(acc, q, zp, -128, 127), want)
        << "acc=" << acc << " m=" << q.m << " shift=" << q.shift << " zp=" << zp << " seed 11 i=" << i;
    // Unclamped check in a wide range catches errors hidden by saturation.
    const int32_t wide = requantize(acc, q, zp, INT32_MIN, INT32_MAX);
    ASSERT_EQ(static_cast<__int128>(wide), std::clamp<__int128>(exact, INT32_MIN, INT32_MAX))
        << "acc=" << acc << " m=" << q.m << " shift=" << q.shift << " seed 11";
  }
}

TEST(FixedPoint, RequantizeSum2MatchesExactRational) {
  std::mt19937_64 rng(13);
  std::uniform_int_distribution<int64_t> d_d(-255, 255);
  std::uniform_real_distribution<double> ex(-12.0, 4.0);
  for (int i = 0; i < 100000; ++i) {
    const int64_t da = d_d(rng), db = d_d(rng);
    const QMultiplier ra = quantize_multiplier(std::exp2(ex(rng)));
    const QMultiplier rb = i % 5 == 0 ? ra : quantize_multiplier(std::exp2(ex(rng)));
    // Exact: (da*ma*2^sb + db*mb*2^sa) / 2^(sa+sb), rounded once half away.
    const __int128 num = static_cast<__int128>(da) * ra.m * (static_cast<__int128>(1) << rb.shift) +
                         static_cast<__int128>(db) * rb.m * (static_cast<__int128>(1) << ra.shift);
    const __int128 exact = exact_round(num, ra.shift + rb.shift);
    const int32_t want = static_cast<int32_t>(std::clamp<__int128>(exact + 5, -100000, 100000));
    ASSERT_EQ(requantize_sum2(da, ra, db, rb, 5, -100000, 100000), want)
        << "da=" << da << " db=" << db << " ra=" << ra.m << "/" << ra.shift << " rb=" << rb.m << "/" << rb.shift
        << " seed 13 i=" << i;
  }
  // A negative tie: -1 * 0.5 + 0 * 0.5 = -0.5 -> -1 (away from zero); 1 * 0.5 + 1 * 1 = 1.5 -> 2.
  const QMultiplier half = quantize_multiplier(0.5), one = quantize_multiplier(1.0);
  EXPECT_EQ(requantize_sum2(-1, half, 0, half, 0, -128, 127), -1);
  EXPECT_EQ(requantize_sum2(1, half, 1, one, 0, -128, 127), 2);
  EXPECT_EQ(requantize_sum2(200, one, 200, one, 0, -128, 127), 127);
}

// The short form (add_q15_form): its shift and mantissas, renormalization when the larger
// mantissa rounds up to 2^15, and no form for ratios of 4 and more.
TEST(FixedPoint, AddQ15Form) {
  AddQ15 f;
  // 1.0 = 2^30 / 2^30 and 0.5 = 2^30 / 2^31: s = 30 - 16 = 14, ma = 2^30 / 2^16 = 2^14.
  ASSERT_TRUE(add_q15_form(quantize_multiplier(1.0), quantize_multiplier(0.5), &f));
  EXPECT_EQ(f.shift, 14);
  EXPECT_EQ(f.ma, 1 << 14);
  EXPECT_EQ(f.mb, 1 << 13);
  // A mantissa within 2^15 of 2^31 rounds to 2^15 at k = 16: one shift less.
  ASSERT_TRUE(add_q15_form({0x7FFFFFFF, 40}, {1 << 30, 45}, &f));
  EXPECT_EQ(f.shift, 40 - 17);
  EXPECT_EQ(f.ma, 1 << 14);                  // round(0x7FFFFFFF / 2^17)
  EXPECT_EQ(f.mb, (1 << 30) >> (45 - 23));  // 2^8, exact
  // Symmetric in its operands.
  AddQ15 g;
  ASSERT_TRUE(add_q15_form({1 << 30, 45}, {0x7FFFFFFF, 40}, &g));
  EXPECT_EQ(g.ma, f.mb);
  EXPECT_EQ(g.mb, f.ma);
  // Far apart: the small term's mantissa rounds to 0 (k >= 32).
  ASSERT_TRUE(add_q15_form({1 << 30, 30}, {1 << 30, 62}, &f));
  EXPECT_EQ(f.mb, 0);
  // Ratios: 3.99 has a form (s = 13), 4.0 does not; very small ratios keep s = 30.
  EXPECT_TRUE(add_q15_form(quantize_multiplier(3.99), quantize_multiplier(1.0), &f));
  EXPECT_EQ(f.shift, kAddQ15MinShift);
  EXPECT_FALSE(add_q15_form(quantize_multiplier(4.0), quantize_multiplier(1.0), &f));
  ASSERT_TRUE(add_q15_form(quantize_multiplier(1e-6), quantize_multiplier(1e-6), &f));
  EXPECT_EQ(f.shift, kAddQ15MaxShift);
  EXPECT_EQ(f.ma, 1074);  // round(1e-6 * 2^30)
  EXPECT_FALSE(add_q15_form({0, 31}, {1 << 30, 31}, &f));  // not a Q31 mantissa
}

// requantize_sum2_q15 is floor((da * ma + db * mb + 2^(s-1)) / 2^s) + zp, clamped (checked
// against 128-bit arithmetic), and never more than 0.5 + 510 / 2^(s+1) from the real sum
// da * ra + db * rb of the Q31 multipliers it came from.
TEST(FixedPoint, RequantizeSum2Q15) {
  std::mt19937_64 rng(17);
  std::uniform_int_distribution<int32_t> d_d(-255, 255);
  std::uniform_real_distribution<double> ex(-12.0, 1.9);
  int checked = 0;
  for (int i = 0; i < 100000; ++i) {
    const int32_t da = d_d(rng), db = d_d(rng);
    const QMultiplier ra = quantize_multiplier(std::exp2(ex(rng)));
    const QMultiplier rb = i % 5 == 0 ? ra : quantize_multiplier(std::exp2(ex(rng)));
    AddQ15 f;
    if (!add_q15_form(ra, rb, &f)) continue;
    const __int128 num = __int128{da} * f.ma + __int128{db} * f.mb + (__int128{1} << (f.shift - 1));
    __int128 fl = num / (__int128{1} << f.shift);
    if (fl * (__int128{1} << f.shift) > num) --fl;  // floor for negative num
    const int32_t want = static_cast<int32_t>(std::clamp<__int128>(fl + 5, -100000, 100000));
    ASSERT_EQ(requantize_sum2_q15(da, db, f, 5, -100000, 100000), want)
        << "da=" << da << " db=" << db << " form " << f.ma << "," << f.mb << ">>" << f.shift << " seed 17 i=" << i;
    const double real = da * multiplier_value(ra) + db * multiplier_value(rb);
    ASSERT_LE(std::abs(static_cast<double>(want - 5) - real), 0.5 + 510.0 / std::exp2(f.shift + 1) + 1e-9)
        << "da=" << da << " db=" << db << " seed 17 i=" << i;
    ++checked;
  }
  EXPECT_GT(checked, 50000);  // most draws have the form (ratios below 4)
  // Ties round up, not away from zero: -0.5 -> 0 and 1.5 -> 2.
  const AddQ15 half{1 << 13, 1 << 13, 14};  // both ratios 0.5
  EXPECT_EQ(requantize_sum2_q15(-1, 0, half, 0, -128, 127), 0);
  EXPECT_EQ(requantize_sum2_q15(1, 2, half, 0, -128, 127), 2);
  EXPECT_EQ(requantize_sum2_q15(255, 255, {32767, 32767, 13}, 0, -128, 127), 127);
}

}  // namespace
}  // namespace qmap
