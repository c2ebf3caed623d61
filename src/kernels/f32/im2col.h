// im2col / col2im for 2-D sliding windows (the GEMM lowering of Conv and ConvTranspose).
// Image: channels x in[0] x in[1] (CHW, one image, one group). Columns: a row-major matrix
// [channels * kh * kw, out[0] * out[1]] whose row (c*kh + ky)*kw + kx holds, for every output
// position (oy, ox), the image element at (oy*sh - pad_top + ky*dh, ox*sw - pad_left + kx*dw),
// or 0 when that lands in the padding. Geometry fields used: in, out, kernel, strides,
// dilations, pads (2-D only).
#pragma once

#include <cstdint>

#include "kernels/f32/window_geometry.h"

namespace qmap::kernels::f32 {

void im2col_2d(const WindowGeometry& g, int64_t channels, const float* image, float* columns);

// The adjoint: adds every column entry into the image element it was read from (entries in
// the padding are dropped). `image` is accumulated into, not cleared. Used by ConvTranspose
// with `in` = the transposed conv's output (the image) and `out` = its input positions.
void col2im_2d_add(const WindowGeometry& g, int64_t channels, const float* columns, float* image);

}  // namespace qmap::kernels::f32
