// The concat kind's checks (program/step_checker.h): one block, flag and multiplier per input,
// blocks that add up to the output.
#include <string>

#include "kernels/ref/q8.h"
#include "program/step_checker.h"

namespace qmap {

namespace kr = kernels::ref;
Status check_concat(const StepChecker& c) {
  const Step& s = c.step();
  QMAP_RETURN_IF_ERROR(c.arity(0));
  QMAP_RETURN_IF_ERROR(c.q8(c.out(), "output"));
  const auto& cp = s.as<ConcatParams>();
  const size_t n = s.inputs.size();
  const auto k = static_cast<int64_t>(n);
  QMAP_RETURN_IF_ERROR(c.size(cp.blocks.size(), k, "concat blocks", "one per input"));
  QMAP_RETURN_IF_ERROR(c.size(cp.requant.size(), k, "concat requant flags", "one per input"));
  QMAP_RETURN_IF_ERROR(c.size(cp.multipliers.size(), k, "multipliers blob", "one per input"));
  if (cp.outer < 0) return c.fail("concat outer {}: outer counts are >= 0", cp.outer);
  int64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string role = fmt::format("input {}", i);
    QMAP_RETURN_IF_ERROR(c.q8(c.in(i), role));
    int64_t part = 0;
    if (cp.blocks[i] < 0 || !StepChecker::mul_ok(cp.outer, cp.blocks[i], &part) || !StepChecker::add_ok(total, part, &total))
      return c.fail("concat block {} of input {}: blocks are >= 0 and outer * blocks fit int64", cp.blocks[i], i);
    if (c.numel(c.in(i)) != part)
      return c.fail("input {} '{}' has {} elements ({}): concat outer {} * block {} = {}", i, c.in(i).name, c.numel(c.in(i)),
                  dims_str(c.in(i).dims), cp.outer, cp.blocks[i], part);
    if (cp.requant[i]) {
      QMAP_RETURN_IF_ERROR(c.multiplier(cp.multipliers, i));
    } else if (c.in(i).dtype != c.out().dtype) {
      return c.fail("input {} '{}' is copied but is {}, the output {}: a copied input has the output's type", i,
                  c.in(i).name, dtype_name(c.in(i).dtype), dtype_name(c.out().dtype));
    }
  }
  return c.count(c.out(), "output", total, "concat outer * the sum of the blocks");
}


}  // namespace qmap
