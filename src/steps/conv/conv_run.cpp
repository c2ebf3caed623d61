// The convolution kinds on the runtime (runtime/step_run.h). Prepare makes the ISA's fast
// kernel (kernels/qconv_kernel.h: packed weights, bias with zx * sum w folded in) when it has
// one for the shape; run calls it, or the reference kernel.
#include <algorithm>

#include "kernels/qconv_kernel.h"
#include "kernels/ref/qconv.h"
#include "runtime/prepack.h"
#include "runtime/step_run.h"

namespace qmap::rt {

namespace {

namespace kr = kernels::ref;

PreparedStep prepare_conv(const IntProgram& p, const Step& s, kernels::Isa isa) {
  PreparedStep out;
  kernels::QConvParams params = conv_kernel_params(p, s);
  // Packed weights the .bin stores for this ISA (PACKED): the kernel adopts them in place
  // when they are its layout, else packs. The state keeps their bytes alive.
  const PackedWeights* stored = find_packed_weights(p, static_cast<size_t>(&s - p.steps.data()), isa);
  if (stored) {
    params.prepacked = stored->bytes;
    params.prepacked_sums = stored->row_sums;
    params.prepacked_layout = stored->layout;
  }
  std::unique_ptr<kernels::QConvKernel> made = kernels::make_qconv(isa, params);
  if (made) {
    out.kernel = made->name();
    out.scratch_per_worker = made->scratch_bytes_per_worker();
    out.adopted_packed = made->adopted();
    auto both = std::make_shared<std::pair<PackedWeights, std::unique_ptr<kernels::QConvKernel>>>(
        stored ? *stored : PackedWeights{}, std::move(made));
    out.state = std::shared_ptr<const void>(both, both->second.get());  // the kernel first, then the bytes
  } else {
    out.kernel = "ref";
  }
  return out;
}

const kernels::QConvKernel* fast_kernel(const StepRun& r) {
  return static_cast<const kernels::QConvKernel*>(r.prepared.state.get());
}

Status run_conv(const StepRun& r) {
  if (const kernels::QConvKernel* k = fast_kernel(r)) {
    k->run(r.in(0).raw(), r.out().raw(), r.scratch, r.runner);
    return ok_status();
  }
  const auto& c = r.params<ConvParams>();
  kr::qconv2d(c.geom, q8_in(r.in(0)), r.qin(0).zero_point, c.weights, c.bias, c.multipliers, r.qout().zero_point, c.lo,
              c.hi, q8_out(r.out()));
  return ok_status();
}

Status run_conv_float_out(const StepRun& r) {
  if (const kernels::QConvKernel* k = fast_kernel(r)) {
    k->run(r.in(0).raw(), r.out().raw(), r.scratch, r.runner);
    return ok_status();
  }
  const auto& c = r.params<ConvFloatOutParams>();
  float* yp = r.out().data<float>().data();
  kr::qconv2d_float_out(c.geom, q8_in(r.in(0)), r.qin(0).zero_point, c.weights, c.bias, c.acc_scales, yp);
  // The fused Relu/Clip, in float (the output is not requantized).
  for (int64_t i = 0; i < r.out().numel(); ++i) yp[i] = std::min(std::max(yp[i], c.float_min), c.float_max);
  return ok_status();
}

}  // namespace

extern const StepRunDef kRun_conv = {.prepare = prepare_conv, .run = run_conv};
extern const StepRunDef kRun_conv_float_out = {.prepare = prepare_conv, .run = run_conv_float_out};

}  // namespace qmap::rt
