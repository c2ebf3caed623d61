// The convolution kinds' checks (program/step_checker.h): geometry, window bounds, blob sizes
// and the output form.
#include <string>

#include "kernels/ref/q8.h"
#include "program/step_check.h"
#include "program/step_checker.h"

namespace qmap {

namespace kr = kernels::ref;
namespace {

Status check_conv_family(const StepChecker& c, bool float_out) {
  const Step& s = c.step();
  QMAP_RETURN_IF_ERROR(c.arity(1));  // weights and bias are blobs
  QMAP_RETURN_IF_ERROR(c.q8(c.in(0), "input", true));
  const ConvWeights& cw = *s.conv_weights();
  const auto& g = cw.geom;
  for (int64_t v : {g.n, g.c, g.h, g.w, g.m, g.oh, g.ow, g.kh, g.kw, g.stride_h, g.stride_w, g.dil_h, g.dil_w, g.group})
    if (v < 1)
      return c.fail("conv geometry n {} c {} h {} w {} m {} oh {} ow {} kernel {}x{} stride {}x{} dilation {}x{} group {} "
                  "has {}: sizes, strides, dilations and group are >= 1",
                  g.n, g.c, g.h, g.w, g.m, g.oh, g.ow, g.kh, g.kw, g.stride_h, g.stride_w, g.dil_h, g.dil_w, g.group, v);
  if (g.pad_top < 0 || g.pad_left < 0) return c.fail("conv pads {} {}: pads are >= 0", g.pad_top, g.pad_left);
  // An upper bound too: the window checks below scale with the pad, so a pad near 2^63 passed
  // them and overflowed the kernels' int64 row offsets (fuzz/regressions/bin/
  // conv_pad_near_int64_max.bin). Real networks stay far below (ASPP's dilation 36 is the
  // largest in common use).
  for (int64_t v : {g.pad_top, g.pad_left, g.stride_h, g.stride_w, g.dil_h, g.dil_w})
    if (v > kMaxConvWindowParam)
      return c.fail("conv pads {} {}, stride {}x{}, dilation {}x{} has {}: each is at most {}", g.pad_top, g.pad_left,
                  g.stride_h, g.stride_w, g.dil_h, g.dil_w, v, kMaxConvWindowParam);
  if (g.c % g.group != 0 || g.m % g.group != 0)
    return c.fail("conv C {} and M {}: both are multiples of group {}", g.c, g.m, g.group);
  // The windows stay near the padded input. A conv step stores its leading pads only, so the
  // bounds allow a trailing pad up to the leading pad plus the kernel extent (ONNX's and
  // Caffe's SAME and explicit pads stay far inside them): the kernel extent at most twice
  // the input plus its leading pad, plus one, and every window starting before the padded
  // input ends. Kernels size their packed row planes by the extent and the output width
  // (kernels/x86_avx512vnni/qconv_gemm.cpp), so a corrupt dilation or output size must stop
  // here. 128-bit so no product of file values overflows.
  const auto axis = [&](const char* name, int64_t in, int64_t pad, int64_t k, int64_t dil, int64_t stride,
                        int64_t out) -> Status {
    const __int128 extent = static_cast<__int128>(k - 1) * dil + 1;
    const __int128 last_start = static_cast<__int128>(out - 1) * stride;
    if (extent > 2 * (static_cast<__int128>(in) + pad) + 1 || last_start >= static_cast<__int128>(in) + 2 * static_cast<__int128>(pad) + extent)
      return c.fail("conv {}: input {} + leading pad {}, kernel {} dilation {} stride {}, output {}: the windows must lie "
                  "near the padded input (kernel extent <= 2 * (input + pad) + 1, (output - 1) * stride < input + "
                  "2 * pad + extent)",
                  name, in, pad, k, dil, stride, out);
    return ok_status();
  };
  QMAP_RETURN_IF_ERROR(axis("height", g.h, g.pad_top, g.kh, g.dil_h, g.stride_h, g.oh));
  QMAP_RETURN_IF_ERROR(axis("width", g.w, g.pad_left, g.kw, g.dil_w, g.stride_w, g.ow));
  int64_t xin = 0, xout = 0, wn = 0;
  QMAP_RETURN_IF_ERROR(c.product({g.n, g.c, g.h, g.w}, "conv geometry N*C*H*W", &xin));
  QMAP_RETURN_IF_ERROR(c.product({g.n, g.m, g.oh, g.ow}, "conv geometry N*M*OH*OW", &xout));
  QMAP_RETURN_IF_ERROR(c.product({g.m, g.c / g.group, g.kh, g.kw}, "conv geometry M*C/group*KH*KW", &wn));
  QMAP_RETURN_IF_ERROR(c.count(c.in(0), "input", xin, "conv geometry N*C*H*W"));
  QMAP_RETURN_IF_ERROR(c.count(c.out(), "output", xout, "conv geometry N*M*OH*OW"));
  QMAP_RETURN_IF_ERROR(c.size(cw.weights.size(), wn, "weights blob", "M*C/group*KH*KW int8"));
  if (!cw.bias.empty()) QMAP_RETURN_IF_ERROR(c.size(cw.bias.size(), g.m, "bias blob", "M int32 (or none)"));
  if (float_out) {
    QMAP_RETURN_IF_ERROR(c.f32(c.out(), "output"));
    return c.size(s.as<ConvFloatOutParams>().acc_scales.size(), g.m, "acc scales blob", "M float64");
  }
  const auto& cp = s.as<ConvParams>();
  QMAP_RETURN_IF_ERROR(c.q8(c.out(), "output", true));
  QMAP_RETURN_IF_ERROR(c.clamp(c.out(), cp.lo, cp.hi));
  return c.multipliers(cp.multipliers, g.m, "M");
}

}  // namespace

Status check_conv(const StepChecker& c) { return check_conv_family(c, false); }
Status check_conv_float_out(const StepChecker& c) { return check_conv_family(c, true); }

}  // namespace qmap
