// optimize_graph: the float passes in their fixed order, to a fixed point (passes.h).
#include "passes/passes.h"

namespace qmap {

Status optimize_graph(Graph& g, const OptimizeOptions& opts, std::vector<std::string>* log_lines) {
  using PassFn = Status (*)(Graph&, PassLog*);
  // Order: clean-ups first so patterns are adjacent; Sub/Div canonical before the scale fold;
  // pads merged before folds that need the Conv's single consumer; BN before Scale (Caffe
  // emits Conv -> BN -> Scale); Gemm->Conv last, on the folded weights.
  const std::pair<bool, PassFn> sequence[] = {
      {opts.remove_identity, remove_identity},
      {opts.fold_constants, fold_constants},
      {opts.canonicalize_sub_div, canonicalize_sub_div},
      {opts.fuse_pad_into_conv, fuse_pad_into_conv},
      {opts.fold_batchnorm, fold_batchnorm},
      {opts.fold_scale_into_conv, fold_scale_into_conv},
      {opts.gemm_to_conv, gemm_to_conv},
      {opts.reduce_transpose_rank, reduce_transpose_rank},
  };
  PassLog log;
  for (int round = 0; round < opts.max_rounds; ++round) {
    const size_t before = log.size();
    for (const auto& [enabled, pass] : sequence)
      if (enabled) QMAP_RETURN_IF_ERROR(pass(g, &log).with_context("optimize: "));
    if (log.size() == before) break;
  }
  if (opts.equalize_cross_layer) QMAP_RETURN_IF_ERROR(equalize_cross_layer(g, &log).with_context("optimize: "));
  if (log_lines != nullptr) log_lines->insert(log_lines->end(), log.begin(), log.end());
  return ok_status();
}

}  // namespace qmap
