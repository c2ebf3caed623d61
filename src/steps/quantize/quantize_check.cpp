// The quantize kind's checks (program/step_checker.h): float32 in, 8-bit (or int16) out, same count.
#include "program/step_checker.h"

namespace qmap {

Status check_quantize(const StepChecker& c) {
  QMAP_RETURN_IF_ERROR(c.arity(1));
  QMAP_RETURN_IF_ERROR(c.f32(c.in(0), "input"));
  QMAP_RETURN_IF_ERROR(c.q8(c.out(), "output", true));
  return c.elementwise();
}

}  // namespace qmap
