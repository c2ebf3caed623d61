// Integer elementwise and data-conversion references: quantize / dequantize (ONNX
// QuantizeLinear-13 / DequantizeLinear-13, per tensor), qadd, qmul (numpy broadcasting),
// lut8 (256-entry tables for Sigmoid, Tanh, HardSwish, ...), qconcat and requantize copies.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/fixed_point.h"
#include "kernels/ref/q8.h"

namespace qmap::kernels::ref {

// y = saturate(round_half_even(x / scale) + zp): one float32 division, ties to even, NaN to
// zp; the same as ONNX QuantizeLinear and ONNX Runtime's kernel.
void quantize(std::span<const float> x, float scale, int32_t zp, Q8Out y);
// y = float(q - zp) * scale (float32 multiply, as ONNX Runtime).
void dequantize(Q8In x, int64_t count, float scale, int32_t zp, float* y);

// Per-axis element strides of an operand broadcast to `out` (numpy rules, right-aligned; 0
// where the operand's dim is 1 or missing). The operand's dims must be broadcastable.
std::vector<int64_t> broadcast_strides(std::span<const int64_t> dims, std::span<const int64_t> out);

struct BinaryGeometry {
  std::vector<int64_t> out;                  // output dims
  std::vector<int64_t> a_strides, b_strides;  // per output axis (broadcast_strides)
};

// y = clamp(round_half_away((a - za) * ra + (b - zb) * rb) + zy, lo, hi) (requantize_sum2),
// ra = s_a / s_y, rb = s_b / s_y. A fused Relu is lo = zy.
void qadd(const BinaryGeometry& g, Q8In a, int32_t za, QMultiplier ra, Q8In b, int32_t zb,
          QMultiplier rb, int32_t zy, int32_t lo, int32_t hi, Q8Out y);
// qadd with the short form of its multipliers (step kind add_q15): y = clamp(floor(((a - za)
// * f.ma + (b - zb) * f.mb + 2^(s-1)) / 2^s) + zy, lo, hi) (requantize_sum2_q15).
void qadd_q15(const BinaryGeometry& g, Q8In a, int32_t za, Q8In b, int32_t zb, const AddQ15& f, int32_t zy,
              int32_t lo, int32_t hi, Q8Out y);
// y = clamp(requantize((a - za) * (b - zb), r) + zy, lo, hi), r = s_a * s_b / s_y.
void qmul(const BinaryGeometry& g, Q8In a, int32_t za, Q8In b, int32_t zb, QMultiplier r,
          int32_t zy, int32_t lo, int32_t hi, Q8Out y);

// y[i] = table[x[i] - min(x's type)]: table[k] is the output value for input q8_min + k,
// stored as the output type's byte (two's complement for int8).
void lut8(Q8In x, int64_t count, std::span<const uint8_t> table, Q8Out y);
// lut8 with one table per channel: x and y are outer x channels x inner (row-major), and
// element (o, c, i) is looked up in tables[c * 256 ...] (PRelu with per-channel slopes).
void lut8_per_channel(Q8In x, int64_t outer, int64_t channels, int64_t inner, std::span<const uint8_t> tables,
                      Q8Out y);

// Concat along one axis of 8-bit tensors: the output is `outer` blocks, each the
// concatenation of every input's block of block[i] = axis_len[i] * inner elements. Input i
// is copied when `requant[i]` is false, else y = requantize(x - zx[i], mult[i]) + zy,
// clamped to the output type (its scale or zero point differs from the output's).
struct ConcatInput {
  Q8In x;
  int64_t block = 0;  // elements per outer index
  bool requant = false;
  int32_t zx = 0;
  QMultiplier mult;
};
void qconcat(std::span<const ConcatInput> inputs, int64_t outer, int32_t zy, Q8Out y);

}  // namespace qmap::kernels::ref
