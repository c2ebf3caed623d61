// Integer 2-D convolution (ONNX Conv semantics, NCHW), the reference for every quantized
// Conv, Gemm and MatMul (a matrix product is a 1x1 convolution over H = W = 1 with the rows
// as the batch).
//
// x: [N, C, H, W] 8-bit (or int16) with zero point zx; padding taps read zx, i.e. contribute
// nothing.
// w: int8 [M, C/group, KH, KW] (zero point 0), canonical row-major layout.
// bias: int32 [M] at scale s_x * s_w[m] (may be empty: no bias).
// acc[n, m, oy, ox] = bias[m] + sum (x - zx) * w over the window, exact: the kernel sums in
// int32 when |bias| + taps * 255 * 128 < 2^31 (any realistic 8-bit layer; 32768 in place of
// 255 for an int16 input) and in int64 otherwise.
#pragma once

#include <cstdint>
#include <span>

#include "core/fixed_point.h"
#include "kernels/ref/q8.h"

namespace qmap::kernels::ref {

struct ConvGeometry2d {
  int64_t n = 1, c = 1, h = 1, w = 1;  // input
  int64_t m = 1, oh = 1, ow = 1;       // output
  int64_t kh = 1, kw = 1;
  int64_t stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  int64_t pad_top = 0, pad_left = 0;   // begin pads; the end pads only bound the output size
  int64_t group = 1;
};

// y = clamp(requantize(acc, mult[m]) + zy, lo, hi): 8-bit or int16 output (fused Relu/Clip via
// lo/hi).
void qconv2d(const ConvGeometry2d& g, Q8In x, int32_t zx, std::span<const int8_t> w,
             std::span<const int32_t> bias, std::span<const QMultiplier> mult, int32_t zy,
             int32_t lo, int32_t hi, Q8Out y);

// "High-precision" float output straight from the accumulator:
// y = float((double)acc * acc_scale[m]), acc_scale[m] = (double)s_x * s_w[m].
void qconv2d_float_out(const ConvGeometry2d& g, Q8In x, int32_t zx, std::span<const int8_t> w,
                       std::span<const int32_t> bias, std::span<const double> acc_scale,
                       float* y);

}  // namespace qmap::kernels::ref
