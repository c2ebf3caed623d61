// Per-op quantization rules (see quantize_rules.h and docs/quantization.md "Quantization").
#include "quant/quantize_rules.h"

#include <algorithm>

#include "ops/common/int8_rules.h"
#include "ops/registry.h"

namespace qmap {

namespace {

using ops::constant_input;
using ops::input_present;

bool is_float(const Graph& g, ValueId v) { return g.value(v).dtype == DType::kFloat32; }

QuantKind kind_of(const Graph& g, const Node& n, std::string* why) {
  if (const QuantRuleFn rule = op_def(n.op).quant_rule) return rule(g, n, why);
  *why = n.op_type;
  return QuantKind::kFloat;
}

}  // namespace

const char* quant_kind_name(QuantKind k) {
  switch (k) {
    case QuantKind::kFloat: return "float";
    case QuantKind::kWeighted: return "weighted";
    case QuantKind::kOwnScale: return "own-scale";
    case QuantKind::kTable: return "table";
    case QuantKind::kPassThrough: return "pass-through";
    case QuantKind::kConcat: return "concat";
    case QuantKind::kImageInput: return "image-input";
  }
  return "?";
}

QuantKind quant_kind(const Graph& g, const Node& node, std::string* why_float) {
  // Integer forms read and write float32 activations in the float graph (they become
  // 8-bit codes); integer tensors (shape arithmetic) stay on the CPU. The image Cast reads
  // uint8 by definition.
  if (node.op != OpId::Cast) {
    if (node.inputs.empty() || node.inputs[0] == kNoValue || !is_float(g, node.inputs[0])) {
      *why_float = node.op_type + " with a non-float32 input";
      return QuantKind::kFloat;
    }
  }
  for (ValueId o : node.outputs)
    if (o != kNoValue && !is_float(g, o)) {
      *why_float = node.op_type + " with a non-float32 output";
      return QuantKind::kFloat;
    }
  return kind_of(g, node, why_float);
}

std::vector<int> data_inputs(const Node& node, QuantKind kind) {
  switch (kind) {
    case QuantKind::kFloat: return {};
    case QuantKind::kConcat: {
      std::vector<int> all(node.inputs.size());
      for (size_t i = 0; i < all.size(); ++i) all[i] = static_cast<int>(i);
      return all;
    }
    default:
      if (node.op == OpId::Add || node.op == OpId::Sub || node.op == OpId::Mul) return {0, 1};
      return {0};
  }
}

bool output_non_negative(const Graph& g, const Node& n, const std::vector<bool>& non_negative) {
  const NonNegativeFn rule = op_def(n.op).output_non_negative;
  return rule != nullptr && rule(g, n, InputSigns(g, n, non_negative));
}

}  // namespace qmap
