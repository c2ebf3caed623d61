// The concat kind on the runtime (runtime/step_run.h): the ISA's concat, copying or
// requantizing each input.
#include <vector>

#include "runtime/step_run.h"

namespace qmap::rt {

namespace {

Status run_concat(const StepRun& r) {
  const auto& cp = r.params<ConcatParams>();
  std::vector<kernels::ref::ConcatInput> parts;
  parts.reserve(r.step.inputs.size());
  for (size_t i = 0; i < r.step.inputs.size(); ++i)
    parts.push_back({q8_in(r.in(i)), cp.blocks[i], cp.requant[i] != 0, r.qin(i).zero_point, cp.multipliers[i]});
  r.ew.qconcat(parts, cp.outer, r.qout().zero_point, q8_out(r.out()));
  return ok_status();
}

}  // namespace

extern const StepRunDef kRun_concat = {.run = run_concat};

}  // namespace qmap::rt
