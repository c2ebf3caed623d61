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
