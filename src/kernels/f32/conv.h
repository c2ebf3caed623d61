// Float32 convolution and transposed convolution (ONNX Conv-11 / ConvTranspose-11), NCHW.
//   conv:            x [N, Cin, in...], w [Cout, Cin/group, kernel...], bias [Cout] or null,
//                    y [N, Cout, out...]; y[o] = sum_k x[o*stride - pad_begin + k*dilation] * w[k].
//   conv_transpose:  x [N, Cin, in...], w [Cin, Cout/group, kernel...], bias [Cout] or null,
//                    y [N, Cout, out...]; every x[i] * w[k] adds into y[i*stride - pad_begin +
//                    k*dilation] (positions outside y are dropped).
// The *_ref functions are the plain loops for any spatial rank (the specification the fast
// kernels are tested against; they accumulate in double). The *_2d functions are the fast
// paths for two spatial axes: 1x1 stride-1 convs as one GEMM on NCHW, depthwise convs with a
// dedicated kernel, everything else as im2col (one group at a time) + sgemm; transposed convs
// as sgemm + col2im. Memory: one columns buffer per call, for Conv about 1 MiB (im2col runs
// in bands of output rows), for ConvTranspose Cout/group*kh*kw x H*W floats.
// `gemm`: the sgemm implementation (kernels/f32/sgemm.h): the op's EvalCtx::sgemm.
#pragma once

#include "kernels/f32/sgemm.h"
#include "kernels/f32/window_geometry.h"

namespace qmap::kernels::f32 {

void conv_ref(const WindowGeometry& g, const float* x, const float* w, const float* bias, float* y);
void conv_2d(const WindowGeometry& g, const float* x, const float* w, const float* bias, float* y, SgemmFn gemm);

void conv_transpose_ref(const WindowGeometry& g, const float* x, const float* w, const float* bias,
                        float* y);
void conv_transpose_2d(const WindowGeometry& g, const float* x, const float* w, const float* bias,
                       float* y, SgemmFn gemm);

}  // namespace qmap::kernels::f32
