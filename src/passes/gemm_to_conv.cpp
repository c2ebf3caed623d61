// gemm_to_conv: a fully connected layer on a flattened [N, C, 1, 1] map as a 1x1 Conv, the
// form the NPU's conv engine runs, followed by the Flatten (passes.h).
#include "passes/channel_affine.h"
#include "passes/graph_edit.h"
#include "passes/passes.h"

namespace qmap {

namespace {

// The [N, C, 1, 1] input of a Flatten(axis 1) / Reshape node producing [N, C], or kNoValue.
ValueId flattened_map(const Graph& g, const Node& f) {
  if (f.op != OpId::Flatten && f.op != OpId::Reshape) return kNoValue;
  if (f.op == OpId::Flatten && attr_int(f, "axis", 1) != 1) return kNoValue;
  const std::optional<Dims>& x = g.value(f.inputs[0]).dims;
  const std::optional<Dims>& y = g.value(f.outputs[0]).dims;
  if (!x || !y || x->size() != 4 || (*x)[2] != 1 || (*x)[3] != 1) return kNoValue;
  if (*y != Dims{(*x)[0], (*x)[1]}) return kNoValue;
  return f.inputs[0];
}

// W [M, C, 1, 1] = alpha * op(B)^T from the Gemm/MatMul weights, or nullopt when the node
// does not fit (transposed A, non-constant or non-2-D B).
std::optional<Tensor> conv_weights(const Graph& g, const Node& n, int64_t channels) {
  const Tensor* b = float_constant_of(g, n.inputs[1]);
  if (b == nullptr || b->rank() != 2) return std::nullopt;
  const bool gemm = n.op == OpId::Gemm;
  if (gemm && attr_int(n, "transA", 0) != 0) return std::nullopt;
  const bool trans_b = gemm && attr_int(n, "transB", 0) != 0;  // B [M, C]; else [C, M]
  const double alpha = gemm ? attr_float(n, "alpha", 1.f) : 1.0;
  const int64_t m = trans_b ? b->dims()[0] : b->dims()[1];
  if ((trans_b ? b->dims()[1] : b->dims()[0]) != channels) return std::nullopt;
  const std::vector<double> bv = b->to_double();
  std::vector<double> w(bv.size());
  for (int64_t o = 0; o < m; ++o)
    for (int64_t c = 0; c < channels; ++c)
      w[static_cast<size_t>(o * channels + c)] =
          alpha * bv[static_cast<size_t>(trans_b ? o * channels + c : c * m + o)];
  return float_tensor({m, channels, 1, 1}, w);
}

}  // namespace

Status gemm_to_conv(Graph& g, PassLog* log) {
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if ((n.op != OpId::Gemm && n.op != OpId::MatMul) || n.inputs.size() < 2) continue;
    const std::optional<size_t> f = producer_of(g, n.inputs[0]);
    const ValueId x = f ? flattened_map(g, g.nodes[*f]) : kNoValue;
    if (x == kNoValue) continue;
    const Dims xd = *g.value(x).dims;
    const Dims yd = *g.value(n.outputs[0]).dims;  // [N, M]
    std::optional<Tensor> w = conv_weights(g, n, xd[1]);
    if (!w) continue;
    // Bias: Gemm's beta * C when C is per output column; a C varying along N stays a Gemm.
    std::optional<Tensor> bias;
    if (n.op == OpId::Gemm && n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
      const Tensor* c = float_constant_of(g, n.inputs[2]);
      const auto cv = c ? per_channel_values(*c, yd) : std::nullopt;
      if (!cv) continue;
      std::vector<double> bv = *cv;
      for (double& v : bv) v *= attr_float(n, "beta", 1.f);
      bias = float_tensor({yd[1]}, bv);
    }
    // MatMul + Add(per-column constant) is how exporters write a Gemm: the Add becomes the
    // Conv's bias and the Flatten writes its output.
    std::optional<size_t> bias_add;
    if (n.op == OpId::MatMul) {
      const std::optional<size_t> k = single_consumer(g, n.outputs[0]);
      const Node* add = k ? &g.nodes[*k] : nullptr;
      const Tensor* c = add && add->op == OpId::Add && add->inputs.size() == 2
                            ? float_constant_of(g, add->inputs[add->inputs[0] == n.outputs[0] ? 1 : 0])
                            : nullptr;
      if (const auto cv = c ? per_channel_values(*c, yd) : std::nullopt) {
        bias = float_tensor({yd[1]}, *cv);
        bias_add = k;
      }
    }
    const std::string name = n.name;
    std::string label = node_label(n);
    if (bias_add) label += fmt::format(" with {}", node_label(g.nodes[*bias_add]));
    const ValueId y = bias_add ? g.nodes[*bias_add].outputs[0] : n.outputs[0];
    // A layer that gives a graph output stays (or becomes) a Gemm on the flattened rows: the
    // quantizer hands its output out in float straight from the int32 accumulator
    // (high-precision output), where a Conv followed by Flatten, or a MatMul followed by its
    // bias Add, would requantize the logits to 8 bits first.
    if (is_graph_output(g, y)) {
      if (!bias_add) continue;
      Tensor w2 = w->reshaped({w->dims()[0], w->dims()[1]});
      const ValueId rows = n.inputs[0];
      erase_node(g, *bias_add);  // after node i: index i is unchanged
      const ValueId wid = add_initializer(g, name + "_W", std::move(w2));
      const ValueId bid = add_initializer(g, name + "_B", std::move(*bias));
      g.nodes[i] = make_node("Gemm", name, {rows, wid, bid}, {y}, {{"transB", int64_t{1}}});
      log_rewrite(log, fmt::format("gemm_to_conv: {} became a Gemm with its bias: it gives the graph output '{}'",
                                   label, g.value(y).name));
      continue;
    }
    if (bias_add) erase_node(g, *bias_add);  // after node i: index i is unchanged
    const ValueId wid = add_initializer(g, name + "_W", std::move(*w));
    std::vector<ValueId> ins = {x, wid};
    if (bias) ins.push_back(add_initializer(g, name + "_B", std::move(*bias)));
    const ValueId map = g.add_value(g.unique_value_name(g.value(y).name + "_nchw"), DType::kFloat32);
    g.nodes[i] = make_node("Conv", name, ins, {map}, {{"kernel_shape", Dims{1, 1}}});
    insert_node(g, i + 1, make_node("Flatten", name + "_flatten", {map}, {y}, {{"axis", int64_t{1}}}));
    log_rewrite(log, fmt::format("gemm_to_conv: {} became a 1x1 Conv on '{}' followed by Flatten '{}_flatten'",
                                 label, g.value(x).name, name));
  }
  return finish_pass(g);
}

}  // namespace qmap
