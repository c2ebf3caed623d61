// Helpers for the ops' integer hooks (see int8_rules.h).
#include "ops/common/int8_rules.h"

#include <algorithm>

namespace qmap::ops {

bool input_present(const Node& n, size_t i) { return i < n.inputs.size() && n.inputs[i] != kNoValue; }

const Tensor* constant_input(const Graph& g, const Node& n, size_t i) {
  if (!input_present(n, i)) return nullptr;
  const Value& v = g.value(n.inputs[i]);
  return v.constant ? &*v.constant : nullptr;
}

bool all_non_negative(const Tensor& t) {
  const std::vector<double> d = t.to_double();
  return std::all_of(d.begin(), d.end(), [](double x) { return x >= 0; });
}

bool uniform(const Tensor& t) {
  const std::vector<double> d = t.to_double();
  return !d.empty() && std::all_of(d.begin(), d.end(), [&](double x) { return x == d[0]; });
}

std::optional<ChannelLayout> channel_layout(const Graph& g, const Node& n) {
  if (n.inputs.empty() || n.inputs[0] == kNoValue || !g.value(n.inputs[0]).dims) return std::nullopt;
  const Dims& x = *g.value(n.inputs[0]).dims;
  const int64_t rank = static_cast<int64_t>(x.size());
  ChannelLayout l;
  for (size_t i = 1; i < n.inputs.size(); ++i) {
    if (!input_present(n, i)) continue;
    const Tensor* p = constant_input(g, n, i);
    if (p == nullptr) return std::nullopt;  // computed at run time: no table holds it
    if (uniform(*p)) continue;
    // Right-aligned against input 0 (numpy and ONNX unidirectional broadcasting): exactly one
    // dim longer than 1, and it equals input 0's.
    const Dims& pd = p->dims();
    const int64_t shift = rank - static_cast<int64_t>(pd.size());
    if (shift < 0) return std::nullopt;
    int64_t axis = -1;
    for (size_t d = 0; d < pd.size(); ++d) {
      if (pd[d] == 1) continue;
      if (axis >= 0) return std::nullopt;
      axis = static_cast<int64_t>(d) + shift;
    }
    if (axis < 0 || pd[static_cast<size_t>(axis - shift)] != x[static_cast<size_t>(axis)]) return std::nullopt;
    if (l.axis >= 0 && l.axis != axis) return std::nullopt;
    l.axis = axis;
  }
  if (l.axis < 0) return l;
  for (int64_t d = 0; d < rank; ++d) {
    if (x[static_cast<size_t>(d)] < 0) return std::nullopt;
    (d < l.axis ? l.outer : d == l.axis ? l.channels : l.inner) *= x[static_cast<size_t>(d)];
  }
  return l;
}

bool reduces_spatial_axes(const Graph& g, const Node& n) {
  if (n.op != OpId::ReduceMean && n.op != OpId::ReduceMax) return false;
  const auto& dims = g.value(n.inputs[0]).dims;
  if (!dims || dims->size() != 4) return false;
  std::vector<int64_t> axes = attr_ints(n, "axes", {0, 1, 2, 3});
  for (int64_t& a : axes) a = a < 0 ? a + 4 : a;
  std::sort(axes.begin(), axes.end());
  return axes == std::vector<int64_t>{2, 3};
}

QuantKind quant_rule_binary(const Graph& g, const Node& n, std::string* why) {
  if (g.value(n.inputs[1]).dtype != DType::kFloat32) {
    *why = n.op_type + " with a non-float operand";
    return QuantKind::kFloat;
  }
  return QuantKind::kOwnScale;
}

QuantKind quant_rule_weighted(const Graph& g, const Node& n, std::string* why) {
  const Tensor* w = constant_input(g, n, 1);
  if (n.op == OpId::MatMul) {
    if (!w || w->rank() != 2) {
      *why = "MatMul with a non-constant or non-2-D right-hand side";
      return QuantKind::kFloat;
    }
    return QuantKind::kWeighted;
  }
  if (!w || (input_present(n, 2) && !constant_input(g, n, 2))) {
    *why = n.op_type + " with non-constant weights or bias";
    return QuantKind::kFloat;
  }
  return QuantKind::kWeighted;
}

}  // namespace qmap::ops

namespace qmap {

bool InputSigns::non_negative(size_t i) const {
  if (!ops::input_present(n_, i)) return true;
  const Value& v = g_.value(n_.inputs[i]);
  return v.constant ? ops::all_non_negative(*v.constant) : static_cast<bool>(values_[static_cast<size_t>(n_.inputs[i])]);
}

bool InputSigns::all_non_negative() const {
  for (size_t i = 0; i < n_.inputs.size(); ++i)
    if (!non_negative(i)) return false;
  return true;
}

}  // namespace qmap
