// Fixed-point requantization (see fixed_point.h for the rounding rule and ranges).
#include "core/fixed_point.h"

#include <algorithm>
#include <cmath>

#include "core/status.h"

namespace qmap {

QMultiplier quantize_multiplier(double r) {
  QMAP_CHECK(r > 0 && std::isfinite(r), "multiplier {} must be positive and finite", r);
  int e = 0;
  const double f = std::frexp(r, &e);  // r = f * 2^e, f in [0.5, 1)
  // f * 2^31 is exact in double (f has 53 significant bits); round half away from zero.
  int64_t m = std::llround(std::ldexp(f, 31));
  if (m == (int64_t{1} << 31)) {  // f rounded up to 1.0
    m = int64_t{1} << 30;
    ++e;
  }
  int64_t shift = 31 - static_cast<int64_t>(e);  // r ≈ m * 2^(e - 31)
  if (shift < kMinShift) return {0x7fffffff, kMinShift};
  if (shift > kMaxShift) return {1 << 30, kMaxShift};
  return {static_cast<int32_t>(m), static_cast<int32_t>(shift)};
}

double multiplier_value(QMultiplier q) { return std::ldexp(static_cast<double>(q.m), -q.shift); }

int64_t rounding_shift_right(__int128 x, int32_t shift) {
  QMAP_CHECK(shift >= 0 && shift <= 126, "shift {}", shift);
  __int128 r = x;
  if (shift > 0) {
    // Half away from zero: add half of the divisor to the magnitude, then truncate it.
    const __int128 half = static_cast<__int128>(1) << (shift - 1);
    r = x >= 0 ? (x + half) >> shift : -((-x + half) >> shift);
  }
  constexpr __int128 kMax = INT64_MAX, kMin = INT64_MIN;
  return static_cast<int64_t>(std::clamp(r, kMin, kMax));
}

static int32_t add_zp_and_clamp(int64_t v, int32_t zp, int32_t lo, int32_t hi) {
  // v is saturated to int64; adding an int32 zero point cannot leave __int128.
  const __int128 s = static_cast<__int128>(v) + zp;
  return static_cast<int32_t>(std::clamp<__int128>(s, lo, hi));
}

int32_t requantize(int64_t acc, QMultiplier q, int32_t zp, int32_t lo, int32_t hi) {
  const __int128 p = static_cast<__int128>(acc) * q.m;  // |p| < 2^94
  return add_zp_and_clamp(rounding_shift_right(p, q.shift), zp, lo, hi);
}

int32_t requantize_sum2(int64_t da, QMultiplier ra, int64_t db, QMultiplier rb, int32_t zp,
                        int32_t lo, int32_t hi) {
  const int32_t s = std::max(ra.shift, rb.shift);
  // |d| * m < 2^63; times 2^(s - shift) <= 2^61 stays below 2^124; the sum below 2^125.
  const __int128 ta = (static_cast<__int128>(da) * ra.m) << (s - ra.shift);
  const __int128 tb = (static_cast<__int128>(db) * rb.m) << (s - rb.shift);
  return add_zp_and_clamp(rounding_shift_right(ta + tb, s), zp, lo, hi);
}

bool add_q15_form(QMultiplier ra, QMultiplier rb, AddQ15* f) {
  if (ra.m < (int32_t{1} << 30) || rb.m < (int32_t{1} << 30)) return false;
  auto mantissa = [](QMultiplier q, int32_t s) -> int64_t {  // round_half_up(q.m / 2^(q.shift - s))
    const int32_t k = q.shift - s;
    return k >= 32 ? 0 : (int64_t{q.m} + (int64_t{1} << (k - 1))) >> k;
  };
  int32_t s = std::min(ra.shift, rb.shift) - 16;
  if (std::max(mantissa(ra, s), mantissa(rb, s)) >= (int64_t{1} << 15)) --s;
  s = std::min(s, kAddQ15MaxShift);  // tiny ratios: smaller mantissas, the error bound only shrinks
  if (s < kAddQ15MinShift) return false;
  *f = AddQ15{static_cast<int32_t>(mantissa(ra, s)), static_cast<int32_t>(mantissa(rb, s)), s};
  return true;
}

int32_t requantize_sum2_q15(int32_t da, int32_t db, const AddQ15& f, int32_t zp, int32_t lo, int32_t hi) {
  const int32_t t = (da * f.ma + db * f.mb + (int32_t{1} << (f.shift - 1))) >> f.shift;  // floor: arithmetic shift
  return std::clamp(t + zp, lo, hi);
}

}  // namespace qmap
