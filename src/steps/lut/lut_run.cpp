// The table kind on the runtime (runtime/step_run.h): the ISA's 256-entry lookup, split over
// workers by contiguous parts.
#include "runtime/step_run.h"

namespace qmap::rt {

namespace {

Status run_lut(const StepRun& r) {
  const kernels::ref::Q8In x = q8_in(r.in(0));
  const kernels::ref::Q8Out y = q8_out(r.out());
  const std::vector<uint8_t>& table = r.params<LutParams>().table;
  const int64_t n = r.in(0).numel();
  for_slices(r.runner, n, r.parts(n), [&](int64_t b, int64_t e) { r.ew.lut8(q8_at(x, b), e - b, table, q8_at(y, b)); });
  return ok_status();
}

}  // namespace

extern const StepRunDef kRun_lut = {.run = run_lut};

}  // namespace qmap::rt
