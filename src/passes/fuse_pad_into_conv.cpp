// fuse_pad_into_conv: a zero Pad before a Conv / AveragePool(count_include_pad) becomes the
// consumer's own pads (passes.h).
#include "passes/passes.h"

namespace qmap {

namespace {

// The spatial pads [x1_begin, ..., xn_begin, x1_end, ..., xn_end] of a Pad node that pads
// only spatial axes (2..rank-1) with zeros, or nullopt.
std::optional<Dims> spatial_zero_pads(const Graph& g, const Node& pad) {
  if (attr_string(pad, "mode", "constant") != "constant" || pad.inputs.size() < 2) return std::nullopt;
  const std::optional<Dims>& xd = g.value(pad.inputs[0]).dims;
  const Tensor* pads = constant_of(g, pad.inputs[1]);
  if (!xd || xd->size() < 3 || pads == nullptr) return std::nullopt;
  if (pad.inputs.size() > 2 && pad.inputs[2] != kNoValue) {
    const Tensor* value = constant_of(g, pad.inputs[2]);
    if (value == nullptr || value->to_double().at(0) != 0.0) return std::nullopt;
  }
  const size_t rank = xd->size();
  const std::vector<int64_t> p = pads->to_int64();
  if (p.size() != 2 * rank) return std::nullopt;
  for (int64_t v : p)
    if (v < 0) return std::nullopt;  // negative pads crop
  if (p[0] != 0 || p[1] != 0 || p[rank] != 0 || p[rank + 1] != 0) return std::nullopt;
  Dims spatial;
  for (size_t side = 0; side < 2; ++side)
    for (size_t a = 2; a < rank; ++a) spatial.push_back(p[side * rank + a]);
  return spatial;
}

// Whether the consumer computes the same on zero-padded input as with its own pads: Conv
// always; AveragePool when padded zeros count in the divisor and no ceil_mode window rule
// depends on where the input ends.
bool accepts_pads(const Node& n) {
  if (attr_string(n, "auto_pad", "NOTSET") != "NOTSET") return false;
  if (n.op == OpId::Conv) return true;
  return n.op == OpId::AveragePool && attr_int(n, "count_include_pad", 0) == 1 &&
         attr_int(n, "ceil_mode", 0) == 0;
}

}  // namespace

Status fuse_pad_into_conv(Graph& g, PassLog* log) {
  for (size_t i = 0; i < g.nodes.size();) {
    const Node& pad = g.nodes[i];
    const std::optional<size_t> k = pad.op == OpId::Pad ? single_consumer(g, pad.outputs[0]) : std::nullopt;
    const std::optional<Dims> extra = k ? spatial_zero_pads(g, pad) : std::nullopt;
    if (!extra || g.nodes[*k].inputs[0] != pad.outputs[0] || !accepts_pads(g.nodes[*k])) {
      ++i;
      continue;
    }
    Node& consumer = g.nodes[*k];
    Dims pads = attr_ints(consumer, "pads", Dims(extra->size(), 0));
    for (size_t a = 0; a < pads.size(); ++a) pads[a] += (*extra)[a];
    consumer.attrs["pads"] = pads;
    consumer.inputs[0] = pad.inputs[0];
    log_rewrite(log, fmt::format("fuse_pad_into_conv: {} merged into the pads of {}", node_label(pad),
                                 node_label(consumer)));
    erase_node(g, i);
  }
  return finish_pass(g);
}

}  // namespace qmap
