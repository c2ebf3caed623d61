// The pooling kinds' checks (program/step_checker.h): geometry, windows inside the padded
// input, bounded pads, and the average's multipliers per tap count.
#include <string>

#include "kernels/ref/q8.h"
#include "program/step_checker.h"

namespace qmap {

namespace kr = kernels::ref;
namespace {

Status check_pool(const StepChecker& c, bool avg) {
  const Step& s = c.step();
  QMAP_RETURN_IF_ERROR(c.arity(1));
  QMAP_RETURN_IF_ERROR(c.q8(c.in(0), "input"));
  QMAP_RETURN_IF_ERROR(c.q8(c.out(), "output"));
  const auto& g = avg ? s.as<AvgPoolParams>().geom : s.as<MaxPoolParams>().geom;
  for (int64_t v : {g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.stride_h, g.stride_w, g.dil_h, g.dil_w})
    if (v < 1)
      return c.fail("pool geometry n {} c {} h {} w {} oh {} ow {} kernel {}x{} stride {}x{} dilation {}x{} has {}: sizes, "
                  "strides and dilations are >= 1",
                  g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.stride_h, g.stride_w, g.dil_h, g.dil_w, v);
  for (int64_t v : {g.pad_top, g.pad_left, g.pad_bottom, g.pad_right})
    if (v < 0) return c.fail("pool pads {} {} {} {}: pads are >= 0", g.pad_top, g.pad_left, g.pad_bottom, g.pad_right);
  // Every window starts inside the padded input and the window fits in it (ONNX's shape rule,
  // ceil_mode included), and no stride exceeds the padded input (lowering gives a 1-wide
  // output stride 1): kernels size row buffers by these, so a corrupt stride or dilation
  // must stop here. 128-bit so no product of file values overflows.
  const auto axis = [&](const char* name, int64_t in, int64_t pad_b, int64_t pad_e, int64_t k, int64_t dil,
                        int64_t stride, int64_t out) -> Status {
    const __int128 padded = static_cast<__int128>(in) + pad_b + pad_e;
    const __int128 extent = static_cast<__int128>(k - 1) * dil + 1;
    const __int128 last_start = static_cast<__int128>(out - 1) * stride;
    if (extent > padded || last_start >= padded || stride > padded)
      return c.fail("pool {}: input {} + pads {}+{}, kernel {} dilation {} stride {}, output {}: the windows must lie in the "
                  "padded input (kernel extent <= padded size, (output - 1) * stride < padded size, stride <= padded size)",
                  name, in, pad_b, pad_e, k, dil, stride, out);
    // Pads at most the input plus 8: kernels size their row buffers by the padded row, which
    // must stay proportional to the tensor (a crafted pad of 2^40 threw bad_alloc inside a
    // kernel). Real pads are below the kernel (ONNX Runtime requires it) plus ceil_mode's
    // stride - 1, and kernels fit the padded input.
    if (pad_b > static_cast<__int128>(in) + 8 || pad_e > static_cast<__int128>(in) + 8)
      return c.fail("pool {}: pads {}+{} on an input of {}: each pad is at most the input size + 8", name, pad_b, pad_e, in);
    return ok_status();
  };
  QMAP_RETURN_IF_ERROR(axis("height", g.h, g.pad_top, g.pad_bottom, g.kh, g.dil_h, g.stride_h, g.oh));
  QMAP_RETURN_IF_ERROR(axis("width", g.w, g.pad_left, g.pad_right, g.kw, g.dil_w, g.stride_w, g.ow));
  int64_t xin = 0, xout = 0, taps = 0;
  QMAP_RETURN_IF_ERROR(c.product({g.n, g.c, g.h, g.w}, "pool geometry N*C*H*W", &xin));
  QMAP_RETURN_IF_ERROR(c.product({g.n, g.c, g.oh, g.ow}, "pool geometry N*C*OH*OW", &xout));
  QMAP_RETURN_IF_ERROR(c.product({g.kh, g.kw, 1}, "pool geometry KH*KW", &taps));
  QMAP_RETURN_IF_ERROR(c.count(c.in(0), "input", xin, "pool geometry N*C*H*W"));
  QMAP_RETURN_IF_ERROR(c.count(c.out(), "output", xout, "pool geometry N*C*OH*OW"));
  if (!avg) {
    if (c.in(0).dtype != c.out().dtype)
      return c.fail("max pool from {} to {}: input and output have the same type", dtype_name(c.in(0).dtype),
                  dtype_name(c.out().dtype));
    return ok_status();
  }
  const auto& ap = s.as<AvgPoolParams>();
  QMAP_RETURN_IF_ERROR(c.clamp(c.out(), ap.lo, ap.hi));
  if (taps == INT64_MAX) return c.fail("pool geometry KH*KW {}: too large", taps);
  // mult[count] for every tap count 1..KH*KW; index 0 is present but unused (a window with no
  // tap writes the clamped zero point).
  QMAP_RETURN_IF_ERROR(c.size(ap.multipliers.size(), taps + 1, "multipliers blob", "KH*KW + 1 (one per tap count)"));
  for (size_t i = 1; i < ap.multipliers.size(); ++i) QMAP_RETURN_IF_ERROR(c.multiplier(ap.multipliers, i));
  return ok_status();
}

}  // namespace

Status check_maxpool(const StepChecker& c) { return check_pool(c, false); }
Status check_avgpool(const StepChecker& c) { return check_pool(c, true); }

}  // namespace qmap
