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

// Every element >= 0 (NaN counts as negative: nothing is proven about it).
bool all_non_negative(const Tensor& t) {
  const std::vector<double> d = t.to_double();
  return std::all_of(d.begin(), d.end(), [](double x) { return x >= 0; });
}

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
  auto input_nn = [&](size_t i) {
    if (!input_present(n, i)) return true;
    const Value& v = g.value(n.inputs[i]);
    return v.constant ? all_non_negative(*v.constant) : static_cast<bool>(non_negative[static_cast<size_t>(n.inputs[i])]);
  };
  switch (n.op) {
    case OpId::Relu: case OpId::Sigmoid: case OpId::HardSigmoid: case OpId::Softmax:
      return true;
    case OpId::Clip: {
      // min >= 0 proves it; so does a non-negative input (Clip only narrows it further).
      // (With max < min every output equals max, so max must be >= 0 too.)
      const Tensor* lo = constant_input(g, n, 1);
      const Tensor* hi = constant_input(g, n, 2);
      return (!hi || all_non_negative(*hi)) && ((lo && all_non_negative(*lo)) || input_nn(0));
    }
    case OpId::Cast:
      return g.value(n.inputs[0]).dtype == DType::kUInt8;
    case OpId::Pad:  // the padding value is an element of the output too
      return input_nn(0) && input_nn(2);
    // Selections, copies and averages of non-negative values; sums and products of them.
    case OpId::MaxPool: case OpId::GlobalMaxPool: case OpId::ReduceMax: case OpId::Reshape:
    case OpId::Flatten: case OpId::Transpose: case OpId::Squeeze: case OpId::Unsqueeze: case OpId::Slice:
    case OpId::Split: case OpId::AveragePool: case OpId::GlobalAveragePool:
    case OpId::ReduceMean:
      return input_nn(0);
    case OpId::Concat: case OpId::Add: case OpId::Mul: {
      for (size_t i = 0; i < n.inputs.size(); ++i)
        if (!input_nn(i)) return false;
      return true;
    }
    case OpId::Resize:  // cubic interpolation overshoots below the smallest input
      return attr_string(n, "mode", "nearest") != "cubic" && input_nn(0);
    default:
      return false;
  }
}

}  // namespace qmap
