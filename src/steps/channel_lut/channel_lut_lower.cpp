// The channel-table family's lowering: DQ -> f(x, per-channel constants) -> Q becomes
// kChannelLut, one 256-entry table per channel of f's parameters' axis (ops/common/int8_rules.h
// channel_layout), each tabulated like the table family's. When every parameter is uniform,
// the node is the table family's (kLut: one table).
#include <optional>
#include <vector>

#include "ops/common/int8_rules.h"
#include "quant/lowerer.h"

namespace qmap::lowering {

Result<bool> lower_channel_lut(Lowerer& L, size_t ni) {
  const Node& n = L.graph().nodes[ni];
  const std::optional<ops::ChannelLayout> layout = ops::channel_layout(L.graph(), n);
  if (!layout) return false;
  if (layout->axis < 0) return lower_lut(L, ni);
  auto x = L.int_source(n.inputs[0]);
  if (!x) return false;
  auto chain = L.out_chain(n.outputs[0], false, false);
  if (!chain) return false;
  Step s = L.new_step(StepKind::kChannelLut, n);
  s.inputs = {x->tensor};
  auto& p = s.as<ChannelLutParams>();
  p.channels = layout->channels;
  p.inner = layout->inner;
  p.tables.reserve(static_cast<size_t>(p.channels) * 256);
  for (int64_t c = 0; c < p.channels; ++c) {
    QMAP_ASSIGN_OR_RETURN(auto table, tabulate(L, n, *x, *chain, c));
    if (!table) return false;
    p.tables.insert(p.tables.end(), table->begin(), table->end());
  }
  return L.emit_pattern(ni, std::move(s), {*chain});
}

}  // namespace qmap::lowering
