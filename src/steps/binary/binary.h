// The binary family's parameters (kAdd, kMul; docs/format.md §4): the broadcast geometry,
// the multipliers (add: {s_a/s_y, s_b/s_y}; mul: {s_a*s_b/s_y}) and the output clamp.
#pragma once

#include <cstdint>
#include <vector>

#include "core/fixed_point.h"
#include "kernels/ref/qelementwise.h"
#include "program/step_describe.h"

namespace qmap {

struct BinaryParams {
  kernels::ref::BinaryGeometry geom;
  std::vector<QMultiplier> multipliers;
  int32_t lo = 0, hi = 0;
};

template <class V, ParamsOf<kernels::ref::BinaryGeometry> G>
void describe(V& v, G& g) {
  v.field("out dims", g.out), v.field("a strides", g.a_strides), v.field("b strides", g.b_strides);
}

template <class V, ParamsOf<BinaryParams> P>
void describe(V& v, P& p) {
  describe(v, p.geom);
  v.blob("multipliers", p.multipliers);
  v.field("lo", p.lo), v.field("hi", p.hi);
}

}  // namespace qmap
