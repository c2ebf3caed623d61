// Depthwise 2-D convolution (group == in_channels == out_channels, one filter per channel),
// the MobileNet/ShuffleNet layer that im2col+GEMM handles badly (K = kh*kw is tiny).
// x: N x C x H x W, w: C x 1 x kh x kw, bias: C or null, y: N x C x OH x OW (NCHW, float32).
// Any kernel size, stride, dilation and padding: for each (ky, kx) the valid output columns
// are computed once per row, so the inner loop has no bounds checks; with stride 1 it is a
// contiguous multiply-add that g++ -O2 auto-vectorizes (3x3/5x5 stride 1/2 are the hot cases).
#pragma once

#include "kernels/f32/window_geometry.h"

namespace qmap::kernels::f32 {

void depthwise_conv2d(const WindowGeometry& g, const float* x, const float* w, const float* bias,
                      float* y);

}  // namespace qmap::kernels::f32
