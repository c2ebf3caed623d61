// The weighted layers (weighted_layers.h).
#include "quant/weighted_layers.h"

#include <algorithm>

#include "ops/common/conv_pool_window.h"

namespace qmap {

float weight_at(const WeightedLayer& l, const Tensor& w, int64_t c, int64_t k) {
  const float* d = w.data<float>().data();
  if (l.gemm) return l.trans_b ? d[c * l.taps + k] : d[k * l.channels + c];
  const int64_t per_tap = l.geo.kernel[0] * l.geo.kernel[1];
  const int64_t cin_g = l.geo.in_channels / l.geo.group, cout_g = l.channels / l.geo.group;
  const int64_t ci = k / per_tap, t = k % per_tap;
  const int64_t g = c / cout_g;
  if (ci / cin_g != g) return 0.f;
  return d[(c * cin_g + ci % cin_g) * per_tap + t];
}

Tensor dequantized(const QuantizedWeights& q, int axis) {
  Tensor out(DType::kFloat32, q.q.dims());
  const auto qd = q.q.data<int8_t>();
  const auto sd = q.scale.data<float>();
  auto od = out.data<float>();
  const Dims& d = q.q.dims();
  int64_t inner = 1;
  for (size_t i = static_cast<size_t>(std::max(axis, 0)) + 1; i < d.size(); ++i) inner *= d[i];
  for (size_t i = 0; i < od.size(); ++i) {
    const size_t ch = axis < 0 ? 0 : static_cast<size_t>((static_cast<int64_t>(i) / inner) % d[static_cast<size_t>(axis)]);
    od[i] = static_cast<float>(qd[i]) * sd[ch];
  }
  return out;
}

std::set<std::string> npu_node_names(const QuantizedModel& q) {
  std::set<std::string> names;
  for (const QuantNodeInfo& n : q.nodes)
    if (n.where == Placement::kNpu) names.insert(n.name);
  return names;
}

Result<std::vector<WeightedLayer>> find_weighted_layers(const Graph& g, const std::set<std::string>& npu_nodes,
                                                        bool per_channel) {
  std::vector<WeightedLayer> out;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (n.op != OpId::Conv && n.op != OpId::Gemm) continue;
    if (!npu_nodes.count(n.name)) continue;
    if (n.inputs.size() < 2 || !g.value(n.inputs[1]).constant) continue;
    const Tensor& w = *g.value(n.inputs[1]).constant;
    if (w.dtype() != DType::kFloat32) continue;
    const Value& xv = g.value(n.inputs[0]);
    if (!xv.dims) continue;
    if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
      const Value& b = g.value(n.inputs[2]);
      if (!b.constant || b.constant->dtype() != DType::kFloat32 || b.constant->dims().size() != 1) continue;
    }
    WeightedLayer l;
    l.node = i;
    l.x = xv.name;
    l.y = g.value(n.outputs[0]).name;
    l.w = w;
    int axis = 0;
    if (n.op == OpId::Gemm) {
      if (attr_int(n, "transA", 0) != 0 || attr_float(n, "alpha", 1.f) != 1.f || attr_float(n, "beta", 1.f) != 1.f ||
          w.dims().size() != 2 || xv.dims->size() != 2)
        continue;
      l.gemm = true;
      l.trans_b = attr_int(n, "transB", 0) != 0;
      axis = l.trans_b ? 0 : 1;
      l.channels = w.dims()[static_cast<size_t>(axis)];
      l.taps = w.dims()[static_cast<size_t>(1 - axis)];
    } else {
      if (w.dims().size() != 4) continue;  // 2-D convolutions (1-D and 3-D stay as they are)
      QMAP_ASSIGN_OR_RETURN(l.geo, ops::conv_geometry(n, *xv.dims, w.dims()));
      l.channels = w.dims()[0];
      l.taps = l.geo.in_channels * l.geo.kernel[0] * l.geo.kernel[1];
    }
    l.weight_axis = per_channel ? axis : -1;
    l.wq = dequantized(quantize_weights(w, l.weight_axis), l.weight_axis);
    out.push_back(std::move(l));
  }
  return out;
}

}  // namespace qmap
