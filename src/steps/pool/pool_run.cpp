// The pooling kinds on the runtime (runtime/step_run.h): the ISA's max and average pooling,
// split over workers by whole channel planes (N * C of them, each independent).
#include <algorithm>

#include "runtime/step_run.h"

namespace qmap::rt {

namespace {

namespace kr = kernels::ref;

template <bool kMax>
Status run_pool(const StepRun& r) {
  const kr::PoolGeometry2d& g = kMax ? r.params<MaxPoolParams>().geom : r.params<AvgPoolParams>().geom;
  const int64_t planes = g.n * g.c;
  const int64_t parts = std::min(r.parts(r.out().numel() + r.in(0).numel() / 4), planes);
  const kr::Q8In x = q8_in(r.in(0));
  const kr::Q8Out y = q8_out(r.out());
  for_slices(r.runner, planes, parts, [&](int64_t lo, int64_t hi) {
    kr::PoolGeometry2d pg = g;
    if (parts > 1) pg.n = 1, pg.c = hi - lo;
    const int64_t xo = parts > 1 ? lo * g.h * g.w : 0, yo = parts > 1 ? lo * g.oh * g.ow : 0;
    if constexpr (kMax) {
      r.ew.qmaxpool2d(pg, q8_at(x, xo), q8_at(y, yo));
    } else {
      const auto& ap = r.params<AvgPoolParams>();
      r.ew.qavgpool2d(pg, ap.count_include_pad, q8_at(x, xo), r.qin(0).zero_point, ap.multipliers, r.qout().zero_point,
                      ap.lo, ap.hi, q8_at(y, yo));
    }
  });
  return ok_status();
}

}  // namespace

extern const StepRunDef kRun_maxpool = {.run = run_pool<true>};
extern const StepRunDef kRun_avgpool = {.run = run_pool<false>};

}  // namespace qmap::rt
