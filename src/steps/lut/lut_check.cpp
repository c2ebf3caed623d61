// The table kind's checks (program/step_checker.h): 8-bit in and out, 256 entries.
#include "program/step_checker.h"

namespace qmap {

Status check_lut(const StepChecker& c) {
  QMAP_RETURN_IF_ERROR(c.arity(1));
  QMAP_RETURN_IF_ERROR(c.q8(c.in(0), "input"));
  QMAP_RETURN_IF_ERROR(c.q8(c.out(), "output"));
  QMAP_RETURN_IF_ERROR(c.size(c.params<LutParams>().table.size(), 256, "table", "one entry per 8-bit input value"));
  return c.elementwise();
}

}  // namespace qmap
