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
  friend bool operator==(const QMultiplier&, const QMultiplier&) = default;
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

// The Add's short form (step kind add_q15, docs/quantization.md "Requantization"): both
// ratios as 15-bit mantissas over one shift, so that one 16-bit multiply-add of the pair
// (qa, qb) gives the whole sum in an int32 lane. From the Q31 multipliers ra, rb: s =
// min(shift_a, shift_b) - 16 and m = round_half_up(m31 / 2^(shift - s)) for each; when the
// larger mantissa rounds up to 2^15, s is one less; s is at most 30 (tiny ratios get smaller
// mantissas over 2^30). The form exists when s >= kAddQ15MinShift
// (the larger ratio is below 2^(15 - 13) = 4): replacing each ratio by m / 2^s then moves
// a sum by at most (|da| + |db|) / 2^(s+1) <= 510 / 2^14 = 0.031 of an output step.
struct AddQ15 {
  int32_t ma = 0, mb = 0;  // in [0, 2^15)
  int32_t shift = 0;       // in [kAddQ15MinShift, kAddQ15MaxShift]
};
inline constexpr int32_t kAddQ15MinShift = 13;
inline constexpr int32_t kAddQ15MaxShift = 30;

// The short form of (ra, rb), or false (then the Add keeps requantize_sum2).
bool add_q15_form(QMultiplier ra, QMultiplier rb, AddQ15* f);

// clamp(floor((da * ma + db * mb + 2^(s-1)) / 2^s) + zp, lo, hi): rounding half up (toward
// +infinity), not half away from zero, so that no tie needs a correction in a vector lane.
// |da|, |db| <= 255 (8-bit values less 8-bit zero points) keeps |sum| below 2^24 + 2^29.
int32_t requantize_sum2_q15(int32_t da, int32_t db, const AddQ15& f, int32_t zp, int32_t lo, int32_t hi);

}  // namespace qmap
