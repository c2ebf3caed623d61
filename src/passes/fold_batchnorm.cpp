// fold_batchnorm: BatchNormalization into the preceding Conv/ConvTranspose/Gemm, or into a
// depthwise 1x1 Conv of its own (passes.h).
#include <cmath>

#include "passes/channel_affine.h"
#include "passes/passes.h"

namespace qmap {

namespace {

// BN as y = s[c] * x + t[c]: s = scale / sqrt(var + epsilon), t = B - mean * s (ONNX
// BatchNormalization-15 inference form), in double. nullopt when a parameter is not a
// float constant of C values.
std::optional<ChannelAffine> batchnorm_affine(const Graph& g, const Node& n, int64_t channels) {
  std::vector<std::vector<double>> p;
  for (size_t i = 1; i <= 4; ++i) {
    const Tensor* t = i < n.inputs.size() ? float_constant_of(g, n.inputs[i]) : nullptr;
    if (t == nullptr || t->numel() != channels) return std::nullopt;
    p.push_back(t->to_double());
  }
  const double eps = attr_float(n, "epsilon", 1e-5f);
  ChannelAffine a;
  for (size_t c = 0; c < static_cast<size_t>(channels); ++c) {
    a.s.push_back(p[0][c] / std::sqrt(p[3][c] + eps));
    a.t.push_back(p[1][c] - p[2][c] * a.s.back());
  }
  return a;
}

}  // namespace

Status fold_batchnorm(Graph& g, PassLog* log) {
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (g.nodes[i].op != OpId::BatchNormalization) continue;
    const ValueId x = g.nodes[i].inputs[0];
    const std::optional<Dims> xd = g.value(x).dims;  // a copy: adding values reallocates
    if (!xd || xd->size() < 2) continue;
    const int64_t channels = (*xd)[1];
    const std::optional<ChannelAffine> a = batchnorm_affine(g, g.nodes[i], channels);
    if (!a) continue;
    const std::optional<size_t> p = producer_of(g, x);
    if (p && has_single_use(g, x) && affine_channels(g, g.nodes[*p]) == channels) {
      log_rewrite(log, fmt::format("fold_batchnorm: '{}' folded into {}", g.nodes[i].name,
                                   node_label(g.nodes[*p])));
      fold_affine_into(g, *p, *a);
      absorb_consumer(g, *p, i);
      --i;  // node i is gone; the loop's ++i visits its successor
      continue;
    }
    if (xd->size() < 3) continue;  // Conv needs spatial axes: a 2-D BN stays
    Node& n = g.nodes[i];
    Dims wdims(xd->size(), 1);  // [C, 1, 1...]: one tap per channel
    wdims[0] = channels;
    const ValueId w = add_initializer(g, n.name + "_W", float_tensor(wdims, a->s));
    const ValueId b = add_initializer(g, n.name + "_B", float_tensor({channels}, a->t));
    n.op = OpId::Conv;
    n.op_type = "Conv";
    n.inputs = {x, w, b};
    n.outputs.resize(1);
    n.attrs = {{"group", channels}, {"kernel_shape", Dims(xd->size() - 2, 1)}};
    log_rewrite(log, fmt::format("fold_batchnorm: '{}' became a depthwise 1x1 Conv", n.name));
  }
  return finish_pass(g);
}

}  // namespace qmap
