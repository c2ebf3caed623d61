// The float kind's checks (program/step_checker.h): a node run literally by its op's own eval
// (StepChecker::op_eval; custom ops are bound to their plugin after reading).
#include "program/step_checker.h"

namespace qmap {

Status check_float(const StepChecker& c) { return c.op_eval(); }

}  // namespace qmap
