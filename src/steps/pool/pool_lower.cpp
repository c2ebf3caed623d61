// The pooling family's lowering: DQ -> MaxPool|GlobalMaxPool|spatial ReduceMax -> Q (same
// scale and zero point) becomes kMaxPool; DQ -> AveragePool|GlobalAveragePool|spatial
// ReduceMean -> Q becomes kAvgPool, with one multiplier per tap count.
#include "core/fixed_point.h"
#include "ops/common/conv_pool_window.h"
#include "ops/common/int8_rules.h"
#include "quant/lowerer.h"

namespace qmap::lowering {

Result<bool> lower_pool(Lowerer& L, size_t ni) {
  const Node& n = L.graph().nodes[ni];
  auto x = L.int_source(n.inputs[0]);
  if (!x || n.outputs.size() != 1) return false;  // MaxPool's Indices output stays float
  const Dims& xd = *L.graph().value(n.inputs[0]).dims;
  if (xd.size() != 4) return false;
  const bool is_max = n.op == OpId::MaxPool || n.op == OpId::GlobalMaxPool || n.op == OpId::ReduceMax;
  if ((n.op == OpId::ReduceMean || n.op == OpId::ReduceMax) && !ops::reduces_spatial_axes(L.graph(), n)) return false;
  kernels::ref::PoolGeometry2d geo{xd[0], xd[1], xd[2], xd[3], 1, 1, xd[2], xd[3]};
  if (n.op == OpId::MaxPool || n.op == OpId::AveragePool) {
    auto wg = ops::pool_geometry(n, xd, n.op == OpId::MaxPool);
    if (!wg.ok()) return false;
    geo = {xd[0], xd[1], xd[2], xd[3], wg->out[0], wg->out[1], wg->kernel[0], wg->kernel[1],
           wg->strides[0], wg->strides[1], wg->dilations[0], wg->dilations[1],
           wg->pad_begin(0), wg->pad_begin(1), wg->pad_end(0), wg->pad_end(1)};
    // One window along an axis: its stride moves nothing, and the step check bounds strides
    // by the padded input, so a 1-wide output gets stride 1.
    if (geo.oh == 1) geo.stride_h = 1;
    if (geo.ow == 1) geo.stride_w = 1;
  }
  auto chain = L.out_chain(n.outputs[0], false, false);
  if (!chain) return false;
  // Max commutes with dequantization only when input and output share scale and zero point.
  if (is_max && (!same_quant(x->q, chain->qp.quant()) || (chain->qp.qtype == DType::kInt8) != x->is_signed))
    return false;
  Step s = L.new_step(is_max ? StepKind::kMaxPool : StepKind::kAvgPool, n);
  s.inputs = {x->tensor};
  if (is_max) {
    s.as<MaxPoolParams>().geom = geo;
  } else {
    auto& ap = s.as<AvgPoolParams>();
    ap.geom = geo;
    ap.count_include_pad = n.op == OpId::AveragePool && attr_int(n, "count_include_pad", 0) != 0;
    // One multiplier per possible tap count: s_x / (s_y * count).
    ap.multipliers.push_back({});  // count 0 never divides
    for (int64_t c = 1; c <= geo.kh * geo.kw; ++c)
      ap.multipliers.push_back(quantize_multiplier(static_cast<double>(x->q.scale) /
                                                   (static_cast<double>(chain->qp.scales[0]) * static_cast<double>(c))));
    L.clamp_range(*chain, ap.lo, ap.hi);
  }
  return L.emit_pattern(ni, std::move(s), {*chain});
}

}  // namespace qmap::lowering
