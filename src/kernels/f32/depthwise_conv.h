// Depthwise 2-D convolution (group == in_channels == out_channels, one filter per channel),
// the MobileNet/ShuffleNet layer that im2col+GEMM handles badly (K = kh*kw is tiny).
// x: N x C x H x W, w: C x 1 x kh x kw, bias: C or null, y: N x C x OH x OW (NCHW, float32).
//
// Method (any kernel size, stride, dilation and padding): per channel the padded input is
// split into stride_h x stride_w phase planes ("space to depth"), so every kernel tap reads a
// *contiguous* run of one phase plane at a fixed offset. The output plane, computed with
// the phase width (a few junk columns per row, dropped when copied out), is then one long
// loop of multiply-adds over all taps: no bounds checks, long vectors even for 7x7 planes.
// The inner loop uses GCC vector extensions and is compiled for AVX-512, AVX2 and baseline
// x86-64 (target_clones, chosen once at load time); all versions add in the same order
// without FMA contraction, so results do not depend on the CPU.
#pragma once

#include "kernels/f32/window_geometry.h"

namespace qmap::kernels::f32 {

void depthwise_conv2d(const WindowGeometry& g, const float* x, const float* w, const float* bias,
                      float* y);

}  // namespace qmap::kernels::f32
