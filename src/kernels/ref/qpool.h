// Integer pooling references (ONNX MaxPool-12 / AveragePool-11 / GlobalAveragePool-1 on
// 8-bit NCHW tensors). The window of output o along an axis starts at o*stride - pad_begin;
// taps outside [0, in) are skipped.
#pragma once

#include <cstdint>
#include <span>

#include "core/fixed_point.h"
#include "kernels/ref/q8.h"

namespace qmap::kernels::ref {

struct PoolGeometry2d {
  int64_t n = 1, c = 1, h = 1, w = 1;
  int64_t oh = 1, ow = 1;
  int64_t kh = 1, kw = 1;
  int64_t stride_h = 1, stride_w = 1, dil_h = 1, dil_w = 1;
  int64_t pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
};

// Max of the q values in the window (same type, scale and zero point in and out: max
// commutes with the monotone dequantization). A window wholly in the padding yields the
// type's lowest value, as ONNX Runtime's float MaxPool yields its lowest float.
void qmaxpool2d(const PoolGeometry2d& g, Q8In x, Q8Out y);

// y = clamp(requantize(sum (x - zx), mult[count]) + zy, lo, hi), mult[count] =
// s_x / (s_y * count), where count is the number of taps inside the input
// (count_include_pad = 0) or inside the padded input [-pad_begin, in + pad_end) (= 1; a
// ceil_mode window past the padded end is clipped there too, as ONNX Runtime counts it).
// Padding taps hold zx and so add nothing to the sum. mult has kh * kw + 1 entries (index 0
// unused). GlobalAveragePool is the window H x W with no padding.
void qavgpool2d(const PoolGeometry2d& g, bool count_include_pad, Q8In x, int32_t zx,
                std::span<const QMultiplier> mult, int32_t zy, int32_t lo, int32_t hi, Q8Out y);

}  // namespace qmap::kernels::ref
