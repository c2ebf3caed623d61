// The pooling family's parameters (kMaxPool, kAvgPool; docs/format.md §4).
#pragma once

#include <cstdint>
#include <vector>

#include "core/fixed_point.h"
#include "kernels/ref/qpool.h"
#include "program/step_describe.h"

namespace qmap {

struct MaxPoolParams {
  kernels::ref::PoolGeometry2d geom;
};

struct AvgPoolParams {
  kernels::ref::PoolGeometry2d geom;
  bool count_include_pad = false;
  std::vector<QMultiplier> multipliers;  // [KH*KW + 1]: one per tap count (index 0 unused)
  int32_t lo = 0, hi = 0;
};

template <class V, ParamsOf<kernels::ref::PoolGeometry2d> G>
void describe(V& v, G& g) {
  v.field("n", g.n), v.field("c", g.c), v.field("h", g.h), v.field("w", g.w);
  v.field("oh", g.oh), v.field("ow", g.ow);
  v.field("kh", g.kh), v.field("kw", g.kw);
  v.field("stride_h", g.stride_h), v.field("stride_w", g.stride_w);
  v.field("dil_h", g.dil_h), v.field("dil_w", g.dil_w);
  v.field("pad_top", g.pad_top), v.field("pad_left", g.pad_left);
  v.field("pad_bottom", g.pad_bottom), v.field("pad_right", g.pad_right);
}

template <class V, ParamsOf<MaxPoolParams> P>
void describe(V& v, P& p) {
  describe(v, p.geom);
}

template <class V, ParamsOf<AvgPoolParams> P>
void describe(V& v, P& p) {
  describe(v, p.geom);
  v.field("count_include_pad", p.count_include_pad);
  v.blob("multipliers", p.multipliers);
  v.field("lo", p.lo), v.field("hi", p.hi);
}

}  // namespace qmap
