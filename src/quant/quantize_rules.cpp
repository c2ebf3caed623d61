// Per-op quantization rules (see quantize_rules.h and docs/quantization.md "Quantization").
#include "quant/quantize_rules.h"

#include <algorithm>

namespace qmap {

namespace {

bool present(const Node& n, size_t i) { return i < n.inputs.size() && n.inputs[i] != kNoValue; }

const Tensor* constant_input(const Graph& g, const Node& n, size_t i) {
  if (!present(n, i)) return nullptr;
  const Value& v = g.value(n.inputs[i]);
  return v.constant ? &*v.constant : nullptr;
}

bool is_float(const Graph& g, ValueId v) { return g.value(v).dtype == DType::kFloat32; }

// Every element >= 0 (NaN counts as negative: nothing is proven about it).
bool all_non_negative(const Tensor& t) {
  const std::vector<double> d = t.to_double();
  return std::all_of(d.begin(), d.end(), [](double x) { return x >= 0; });
}

// Gemm's integer form: Y = A * B + C with constant 2-D B, C broadcast along N only, and no
// scaling or transposed A (the integer kernel computes exactly that product).
QuantKind gemm_kind(const Graph& g, const Node& n, std::string* why) {
  const Tensor* b = constant_input(g, n, 1);
  if (!b || b->rank() != 2) { *why = "Gemm with a non-constant or non-2-D B"; return QuantKind::kFloat; }
  if (attr_int(n, "transA", 0) != 0) { *why = "Gemm with transA=1"; return QuantKind::kFloat; }
  if (attr_float(n, "alpha", 1.f) != 1.f || (present(n, 2) && attr_float(n, "beta", 1.f) != 1.f)) {
    *why = "Gemm with alpha or beta other than 1";
    return QuantKind::kFloat;
  }
  if (present(n, 2)) {
    const Tensor* c = constant_input(g, n, 2);
    const int64_t cols = attr_int(n, "transB", 0) ? b->dims()[0] : b->dims()[1];
    const bool row = c && (c->numel() == 1 || (c->numel() == cols && c->dims().back() == cols));
    if (!row) { *why = "Gemm whose C is not a constant row of N biases"; return QuantKind::kFloat; }
  }
  return QuantKind::kWeighted;
}

QuantKind kind_of(const Graph& g, const Node& n, std::string* why) {
  switch (n.op) {
    case OpId::Conv: {
      const Tensor* w = constant_input(g, n, 1);
      if (!w || (present(n, 2) && !constant_input(g, n, 2))) {
        *why = "Conv with non-constant weights or bias";
        return QuantKind::kFloat;
      }
      return QuantKind::kWeighted;
    }
    case OpId::ConvTranspose:
      // The weights would quantize per output channel, but lowering has no transposed
      // convolution: it would run in float anyway.
      *why = "ConvTranspose (lowering has no integer transposed convolution)";
      return QuantKind::kFloat;
    case OpId::Gemm: return gemm_kind(g, n, why);
    case OpId::MatMul: {
      const Tensor* b = constant_input(g, n, 1);
      if (!b || b->rank() != 2) { *why = "MatMul with a non-constant or non-2-D right-hand side"; return QuantKind::kFloat; }
      return QuantKind::kWeighted;
    }
    case OpId::Add: case OpId::Mul:
      if (!is_float(g, n.inputs[1])) { *why = n.op_type + " with a non-float operand"; return QuantKind::kFloat; }
      return QuantKind::kOwnScale;
    case OpId::Sub:
      // Sub(x, c) became Add(x, -c) in the float passes; what reaches here subtracts a tensor,
      // which the integer add (positive Q31 multipliers) cannot.
      *why = "Sub of a tensor (the integer add has no subtracting form; Sub of a constant becomes an Add)";
      return QuantKind::kFloat;
    case OpId::AveragePool: case OpId::GlobalAveragePool:
      return QuantKind::kOwnScale;
    case OpId::ReduceMean: case OpId::ReduceMax:
      // Over H and W of an NCHW tensor they are global average / max pooling.
      if (!reduces_spatial_axes(g, n)) {
        *why = n.op_type + " over axes other than H and W of a 4-D tensor";
        return QuantKind::kFloat;
      }
      return n.op == OpId::ReduceMean ? QuantKind::kOwnScale : QuantKind::kPassThrough;
    case OpId::Resize: {
      const std::string mode = attr_string(n, "mode", "nearest");
      if (mode == "nearest") return QuantKind::kPassThrough;
      *why = "Resize mode " + mode + " (only nearest moves 8-bit values unchanged)";
      return QuantKind::kFloat;
    }
    case OpId::PRelu: {
      // A table when every channel has the same slope (LeakyRelu in disguise).
      const Tensor* slope = constant_input(g, n, 1);
      if (!slope || !uniform(*slope)) {
        *why = "PRelu with per-channel or non-constant slopes (a table holds one function of the input)";
        return QuantKind::kFloat;
      }
      return QuantKind::kTable;
    }
    case OpId::Clip:
      if ((present(n, 1) && !constant_input(g, n, 1)) || (present(n, 2) && !constant_input(g, n, 2))) {
        *why = "Clip with non-constant bounds";
        return QuantKind::kFloat;
      }
      return QuantKind::kTable;
    case OpId::Relu: case OpId::Sigmoid: case OpId::Tanh: case OpId::HardSigmoid: case OpId::HardSwish:
    case OpId::LeakyRelu: case OpId::Elu:
      return QuantKind::kTable;
    case OpId::MaxPool:
      if (n.outputs.size() > 1 && n.outputs[1] != kNoValue) { *why = "MaxPool with Indices"; return QuantKind::kFloat; }
      return QuantKind::kPassThrough;
    case OpId::Pad:
      if (attr_string(n, "mode", "constant") != "constant" || (present(n, 2) && !constant_input(g, n, 2))) {
        *why = "Pad other than constant mode with a constant value";
        return QuantKind::kFloat;
      }
      return QuantKind::kPassThrough;
    case OpId::GlobalMaxPool: case OpId::Reshape: case OpId::Flatten:
    case OpId::Transpose: case OpId::Squeeze: case OpId::Unsqueeze: case OpId::Slice: case OpId::Split:
      return QuantKind::kPassThrough;
    case OpId::Concat: return QuantKind::kConcat;
    case OpId::Cast: {
      const Value& in = g.value(n.inputs[0]);
      const bool image = in.dtype == DType::kUInt8 && !in.constant &&
                         std::find(g.inputs.begin(), g.inputs.end(), n.inputs[0]) != g.inputs.end();
      if (image) return QuantKind::kImageInput;
      *why = "Cast other than of a uint8 image input";
      return QuantKind::kFloat;
    }
    default:
      *why = n.op_type;
      return QuantKind::kFloat;
  }
}

}  // namespace

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
    if (!present(n, i)) return true;
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
