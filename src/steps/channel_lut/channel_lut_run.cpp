// The channel-table kind on the runtime (runtime/step_run.h): each (outer, channel) plane of
// `inner` elements is looked up in its channel's table, by the ISA's 256-entry lookup where
// the planes are long enough to pay for a call, else by the reference loop (the same tables,
// so the same bytes). Split over workers by whole planes.
#include <algorithm>

#include "kernels/ref/qelementwise.h"
#include "runtime/step_run.h"

namespace qmap::rt {

namespace {

namespace kr = kernels::ref;

// Planes shorter than this go through the reference loop: a call per few elements costs more
// than the lookups (a Gemm's [N, C] output has planes of one element).
constexpr int64_t kMinPlaneForIsaLookup = 64;

Status run_channel_lut(const StepRun& r) {
  const auto& p = r.params<ChannelLutParams>();
  const kr::Q8In x = q8_in(r.in(0));
  const kr::Q8Out y = q8_out(r.out());
  const int64_t n = r.in(0).numel();
  const int64_t planes = n / p.inner;  // outer * channels
  const std::span<const uint8_t> tables(p.tables);
  for_slices(r.runner, planes, std::min(r.parts(n), planes), [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      const std::span<const uint8_t> table = tables.subspan(static_cast<size_t>(k % p.channels) * 256, 256);
      const int64_t at = k * p.inner;
      if (p.inner >= kMinPlaneForIsaLookup) {
        r.ew.lut8(q8_at(x, at), p.inner, table, q8_at(y, at));
      } else {
        kr::lut8(q8_at(x, at), p.inner, table, q8_at(y, at));
      }
    }
  });
  return ok_status();
}

}  // namespace

extern const StepRunDef kRun_channel_lut = {.run = run_channel_lut};

}  // namespace qmap::rt
