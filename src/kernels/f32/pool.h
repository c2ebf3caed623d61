// Pooling kernels (ONNX MaxPool-12, AveragePool-11, GlobalAveragePool-1, GlobalMaxPool-1), NCHW.
// x: [N, C, in...], y: [N, C, out...]; geometry fields used: batch, in_channels (= C), in,
// out, kernel, strides, dilations, pads.
//
// Window rule (matches ONNX Runtime): the window of output o along an axis starts at
// o*stride - pad_begin and has taps every `dilation`; taps outside the input are skipped
// (max) or not counted (average, count_include_pad = 0). With count_include_pad = 1 the
// divisor counts the taps inside the *padded* input [-pad_begin, in + pad_end), so a
// ceil_mode window that runs past the padded end is clipped for the divisor too.
//
// The *_ref functions take any spatial rank (the specification); the *_2d functions are the
// fast paths for two spatial axes (1-D problems go through as_2d()).
#pragma once

#include <cstdint>

#include "kernels/f32/window_geometry.h"

namespace qmap::kernels::f32 {

// `indices` (nullable) receives, per output, the flat index into x of the maximum (ONNX
// MaxPool Indices: over the whole N x C x spatial tensor, padding not counted); with
// `column_major` the spatial part is computed with the first spatial axis fastest
// (storage_order = 1). Ties keep the first tap in row-major window order. A window lying
// wholly in the padding yields the lowest value of T and index -1 (as ONNX Runtime).
template <typename T>
void max_pool_ref(const WindowGeometry& g, const T* x, T* y, int64_t* indices, bool column_major);
template <typename T>
void max_pool_2d(const WindowGeometry& g, const T* x, T* y);

void avg_pool_ref(const WindowGeometry& g, const float* x, float* y, bool count_include_pad);
void avg_pool_2d(const WindowGeometry& g, const float* x, float* y, bool count_include_pad);

// Reduce each of `planes` contiguous planes of `plane_size` elements to one value.
void global_avg_pool(const float* x, float* y, int64_t planes, int64_t plane_size);
void global_max_pool(const float* x, float* y, int64_t planes, int64_t plane_size);

}  // namespace qmap::kernels::f32
