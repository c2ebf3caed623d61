// The dequantize kind's checks (program/step_checker.h): 8-bit (or int16) in, float32 out, same count.
#include "program/step_checker.h"

namespace qmap {

Status check_dequantize(const StepChecker& c) {
  QMAP_RETURN_IF_ERROR(c.arity(1));
  QMAP_RETURN_IF_ERROR(c.q8(c.in(0), "input", true));
  QMAP_RETURN_IF_ERROR(c.f32(c.out(), "output"));
  return c.elementwise();
}

}  // namespace qmap
