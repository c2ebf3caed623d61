// The quantize kind on the runtime (runtime/step_run.h): float32 -> 8-bit with the ISA's
// element-wise kernel, split over workers by contiguous parts.
#include "runtime/step_run.h"

namespace qmap::rt {

namespace {

Status run_quantize(const StepRun& r) {
  const std::span<const float> x = r.in(0).data<float>();
  const kernels::ref::Q8Out y = q8_out(r.out());
  const TensorQuant& qy = r.qout();
  const int64_t n = static_cast<int64_t>(x.size());
  for_slices(r.runner, n, r.parts(n), [&](int64_t b, int64_t e) {
    r.ew.quantize(x.subspan(static_cast<size_t>(b), static_cast<size_t>(e - b)), qy.scale, qy.zero_point, q8_at(y, b));
  });
  return ok_status();
}

}  // namespace

extern const StepRunDef kRun_quantize = {.run = run_quantize};

}  // namespace qmap::rt
