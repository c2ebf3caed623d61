// The binary kinds' checks (program/step_checker.h): operands, multipliers, clamp and the
// broadcast strides, which must stay inside their operands.
#include <string>

#include "kernels/ref/q8.h"
#include "program/step_checker.h"

namespace qmap {

namespace kr = kernels::ref;
namespace {

Status check_binary(const StepChecker& c) {
  const Step& s = c.step();
  QMAP_RETURN_IF_ERROR(c.arity(2));
  // int16 operands (the higher-precision form) for the exact add only: the short form's
  // bound assumes 8-bit operands, and mul has no int16 lowering.
  const bool int16 = s.kind == StepKind::kAdd;
  QMAP_RETURN_IF_ERROR(c.q8(c.in(0), "input a", int16));
  QMAP_RETURN_IF_ERROR(c.q8(c.in(1), "input b", int16));
  const auto& bp = s.as<BinaryParams>();
  QMAP_RETURN_IF_ERROR(c.q8(c.out(), "output", int16));
  QMAP_RETURN_IF_ERROR(c.clamp(c.out(), bp.lo, bp.hi));
  const bool add = s.kind != StepKind::kMul;
  QMAP_RETURN_IF_ERROR(c.multipliers(bp.multipliers, add ? 2 : 1, "2 for add, 1 for mul"));
  if (AddQ15 f; s.kind == StepKind::kAddQ15 && !add_q15_form(bp.multipliers[0], bp.multipliers[1], &f))
    return c.fail("add_q15 multipliers (m {}, shift {}) and (m {}, shift {}) have no short form: it needs "
                  "min(shift) - 16 >= {} (ratios below 4)",
                  bp.multipliers[0].m, bp.multipliers[0].shift, bp.multipliers[1].m, bp.multipliers[1].shift,
                  kAddQ15MinShift);
  const auto& g = bp.geom;
  if (g.a_strides.size() != g.out.size() || g.b_strides.size() != g.out.size())
    return c.fail("binary geometry has {} output dims but {} and {} strides: one stride per output dim", g.out.size(),
                g.a_strides.size(), g.b_strides.size());
  int64_t on = 1;
  for (int64_t d : g.out)
    if (d < 0 || !StepChecker::mul_ok(on, d, &on))
      return c.fail("binary output dims {}: dims are >= 0 and their product fits int64", dims_str(g.out));
  QMAP_RETURN_IF_ERROR(c.count(c.out(), "output", on, "the binary output dims' product"));
  if (on == 0) return ok_status();
  // The furthest element each operand's strides reach must lie inside that operand.
  for (size_t k = 0; k < 2; ++k) {
    const auto& st = k == 0 ? g.a_strides : g.b_strides;
    int64_t last = 0;
    for (size_t d = 0; d < st.size(); ++d) {
      int64_t term = 0;
      if (st[d] < 0 || !StepChecker::mul_ok(g.out[d] - 1, st[d], &term) || !StepChecker::add_ok(last, term, &last))
        return c.fail("binary strides {} of input {}: strides are >= 0 and the furthest offset fits int64",
                    dims_str(st), k == 0 ? "a" : "b");
    }
    if (last >= c.numel(c.in(k)))
      return c.fail("binary strides {} of input {} '{}' reach element {} of {}: reads stay inside the operand",
                  dims_str(st), k == 0 ? "a" : "b", c.in(k).name, last, c.numel(c.in(k)));
  }
  return ok_status();
}

}  // namespace

Status check_add(const StepChecker& c) { return check_binary(c); }
Status check_mul(const StepChecker& c) { return check_binary(c); }
Status check_add_q15(const StepChecker& c) { return check_binary(c); }

}  // namespace qmap
