// Fixed-point requantization: the one rounding rule of qmap's integer arithmetic (DESIGN.md
// §4, docs/quantization.md "Integer arithmetic"). Every integer kernel (ref and SIMD) and the
// lowering that bakes multipliers call these functions; nothing else may round a requantized
// value.
//
// A real multiplier r > 0 is stored as a Q31 mantissa m in [2^30, 2^31) and a right shift
// `shift` in [1, 62]: r ≈ m / 2^shift (relative error <= 2^-31). Applying it to an integer
// accumulator computes acc * m exactly in 128 bits and rounds the division by 2^shift half
// away from zero, once.
#pragma once

#include <cstdint>

namespace qmap {

struct QMultiplier {
  int32_t m = 1 << 30;  // mantissa in [2^30, 2^31)
  int32_t shift = 1;    // right shift in [1, 62]
};

inline constexpr int32_t kMinShift = 1;
inline constexpr int32_t kMaxShift = 62;

// The Q31 representation of r (> 0 and finite; anything else is an invariant break: the
// lowering validates scales first). m = round_half_away(f * 2^31) for r = f * 2^e,
// f in [0.5, 1) (a carry to 2^31 renormalizes to 2^30 with one shift less).
// Out of range, saturated: r >= 2^30 (shift would be < 1) gives m = 2^31 - 1, shift 1
// (r ≈ 2^30); r < 2^-32 (shift would be > 62) gives m = 2^30, shift 62 (r = 2^-32), which
// maps every int32 accumulator to 0 just as the true r does.
QMultiplier quantize_multiplier(double r);

// The real value m / 2^shift (exact in double).
double multiplier_value(QMultiplier q);

// x / 2^shift rounded half away from zero (shift in [0, 126]), saturated to int64.
int64_t rounding_shift_right(__int128 x, int32_t shift);

// clamp(round_half_away(acc * m / 2^shift) + zp, lo, hi). Exact for every int64 acc.
int32_t requantize(int64_t acc, QMultiplier q, int32_t zp, int32_t lo, int32_t hi);

// Two-input rescale (quantized Add): out = clamp(round_half_away(da * ra + db * rb) + zp,
// lo, hi) where da = qa - za, db = qb - zb and ra = sa / sy, rb = sb / sy are each given as a
// QMultiplier. Both terms are brought exactly to the common denominator 2^max(shift_a,
// shift_b) (the term with the smaller shift is scaled up by the difference), summed in 128
// bits and rounded once: the only error besides that rounding is each multiplier's own
// Q31 representation. |da|, |db| < 2^32 keeps every intermediate below 2^127.
int32_t requantize_sum2(int64_t da, QMultiplier ra, int64_t db, QMultiplier rb, int32_t zp,
                        int32_t lo, int32_t hi);

}  // namespace qmap
