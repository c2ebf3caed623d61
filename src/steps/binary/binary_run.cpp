// The binary kinds on the runtime (runtime/step_run.h): the ISA's add, add_q15 and mul, split over
// workers along the first output axis longer than 1.
#include <algorithm>

#include "runtime/step_run.h"

namespace qmap::rt {

namespace {

namespace kr = kernels::ref;

// A binary step's geometry restricted to [b, e) along axis `d`: operand and output offsets in
// elements.
struct BinarySlice {
  kr::BinaryGeometry g;
  int64_t a_off = 0, b_off = 0, y_off = 0;
};
BinarySlice binary_slice(const kr::BinaryGeometry& g, size_t d, int64_t b, int64_t e) {
  BinarySlice s{g, b * g.a_strides[d], b * g.b_strides[d], b};
  s.g.out[d] = e - b;
  for (size_t k = d + 1; k < g.out.size(); ++k) s.y_off *= g.out[k];
  return s;
}

template <StepKind kKind>
Status run_binary(const StepRun& r) {
  const auto& bp = r.params<BinaryParams>();
  const kr::BinaryGeometry& g = bp.geom;
  size_t d = 0;  // the axis the parts split: the first longer than 1
  while (d + 1 < g.out.size() && g.out[d] <= 1) ++d;
  const int64_t parts = g.out.empty() ? 1 : std::min(r.parts(r.out().numel()), g.out[d]);
  const kr::Q8In a = q8_in(r.in(0)), b = q8_in(r.in(1));
  const kr::Q8Out y = q8_out(r.out());
  const TensorQuant &qa = r.qin(0), &qb = r.qin(1), &qy = r.qout();
  const int64_t n = g.out.empty() ? 1 : g.out[d];
  AddQ15 q15;  // the short form (the checks proved it exists)
  if constexpr (kKind == StepKind::kAddQ15) add_q15_form(bp.multipliers[0], bp.multipliers[1], &q15);
  for_slices(r.runner, n, parts, [&](int64_t lo, int64_t hi) {
    const BinarySlice p = parts > 1 ? binary_slice(g, d, lo, hi) : BinarySlice{g};
    if constexpr (kKind == StepKind::kAddQ15)
      r.ew.qadd_q15(p.g, q8_at(a, p.a_off), qa.zero_point, q8_at(b, p.b_off), qb.zero_point, q15, qy.zero_point, bp.lo,
                    bp.hi, q8_at(y, p.y_off));
    else if constexpr (kKind == StepKind::kAdd)
      r.ew.qadd(p.g, q8_at(a, p.a_off), qa.zero_point, bp.multipliers[0], q8_at(b, p.b_off), qb.zero_point,
                bp.multipliers[1], qy.zero_point, bp.lo, bp.hi, q8_at(y, p.y_off));
    else
      r.ew.qmul(p.g, q8_at(a, p.a_off), qa.zero_point, q8_at(b, p.b_off), qb.zero_point, bp.multipliers[0],
                qy.zero_point, bp.lo, bp.hi, q8_at(y, p.y_off));
  });
  return ok_status();
}

}  // namespace

// In place: an operand with the output's dims is read at the output's index only, each
// element before it is written (every level's qadd / qadd_q15 / qmul / qadd_wide; their
// testers check y over a and y over b, tails included), and the parts split both alike.
extern const StepRunDef kRun_add = {.run = run_binary<StepKind::kAdd>, .in_place = true};
extern const StepRunDef kRun_mul = {.run = run_binary<StepKind::kMul>, .in_place = true};
extern const StepRunDef kRun_add_q15 = {.run = run_binary<StepKind::kAddQ15>, .in_place = true};

}  // namespace qmap::rt
