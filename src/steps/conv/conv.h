// The convolution family's parameters (kConv, kConvFloatOut; docs/format.md §4): weights,
// bias and geometry, then the 8-bit output's multipliers and clamp or the float output's
// accumulator scales and bounds.
#pragma once

#include <cstdint>
#include <limits>
#include <vector>

#include "core/fixed_point.h"
#include "core/shared_array.h"
#include "kernels/ref/qconv.h"
#include "program/step_describe.h"

namespace qmap {

// What both convolution kinds hold.
struct ConvWeights {
  kernels::ref::ConvGeometry2d geom;
  SharedArray<int8_t> weights;  // [M][C/group][KH][KW] int8 (a .bin's are views into its bytes)
  SharedArray<int32_t> bias;    // [M] at scale s_x * s_w[m]; empty: none (a .bin's are views too)
};

struct ConvParams : ConvWeights {
  SharedArray<QMultiplier> multipliers;  // [M]: s_x * s_w[m] / s_y (a .bin's are views)
  int32_t lo = 0, hi = 0;                // clamp of the 8-bit output (fused Relu/Clip)
};

struct ConvFloatOutParams : ConvWeights {
  SharedArray<double> acc_scales;  // [M]: (double)s_x * s_w[m] (a .bin's are views)
  float float_min = -std::numeric_limits<float>::infinity();  // fused Relu/Clip
  float float_max = std::numeric_limits<float>::infinity();
};

template <class V, ParamsOf<kernels::ref::ConvGeometry2d> G>
void describe(V& v, G& g) {
  v.field("n", g.n), v.field("c", g.c), v.field("h", g.h), v.field("w", g.w);
  v.field("m", g.m), v.field("oh", g.oh), v.field("ow", g.ow);
  v.field("kh", g.kh), v.field("kw", g.kw);
  v.field("stride_h", g.stride_h), v.field("stride_w", g.stride_w);
  v.field("dil_h", g.dil_h), v.field("dil_w", g.dil_w);
  v.field("pad_top", g.pad_top), v.field("pad_left", g.pad_left);
  v.field("group", g.group);
}

template <class V, ParamsOf<ConvWeights> P>
void describe(V& v, P& p) {
  describe(v, p.geom);
  v.blob("weights", p.weights), v.blob("bias", p.bias);
}

template <class V, ParamsOf<ConvParams> P>
void describe(V& v, P& p) {
  describe(v, as_base<ConvWeights>(p));
  v.blob("multipliers", p.multipliers);
  v.field("lo", p.lo), v.field("hi", p.hi);
}

template <class V, ParamsOf<ConvFloatOutParams> P>
void describe(V& v, P& p) {
  describe(v, as_base<ConvWeights>(p));
  v.blob("acc scales", p.acc_scales);
  v.field("float min", p.float_min), v.field("float max", p.float_max);
}

}  // namespace qmap
