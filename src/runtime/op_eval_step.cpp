// run_op_eval_step (op_eval_step.h).
#include "runtime/op_eval_step.h"

#include <vector>

namespace qmap::rt {

Status run_op_eval_step(const StepRun& r) {
  std::vector<const Tensor*> ins;
  ins.reserve(r.step.inputs.size());
  for (int32_t t : r.step.inputs) ins.push_back(t < 0 ? nullptr : &r.views[static_cast<size_t>(t)]);
  std::vector<Tensor> outs;
  outs.reserve(r.step.outputs.size());
  for (int32_t t : r.step.outputs) outs.push_back(t < 0 ? Tensor() : r.views[static_cast<size_t>(t)]);
  return (r.outputs_checked ? eval_node_checked(r.node, ins, outs, r.float_sgemm)
                            : eval_node_into(r.node, ins, outs, r.float_sgemm))
      .with_context("runtime: ");
}

}  // namespace qmap::rt
