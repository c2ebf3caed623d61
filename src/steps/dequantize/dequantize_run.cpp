// The dequantize kind on the runtime (runtime/step_run.h): 8-bit -> float32 with the ISA's
// element-wise kernel, split over workers by contiguous parts.
#include "runtime/step_run.h"

namespace qmap::rt {

namespace {

Status run_dequantize(const StepRun& r) {
  const kernels::ref::Q8In x = q8_in(r.in(0));
  float* y = r.out().data<float>().data();
  const TensorQuant& qx = r.qin(0);
  const int64_t n = r.in(0).numel();
  for_slices(r.runner, n, r.parts(n), [&](int64_t b, int64_t e) {
    r.ew.dequantize(q8_at(x, b), e - b, qx.scale, qx.zero_point, y + b);
  });
  return ok_status();
}

}  // namespace

extern const StepRunDef kRun_dequantize = {.run = run_dequantize};

}  // namespace qmap::rt
