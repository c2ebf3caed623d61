// The move kind's checks (program/step_checker.h): a node run by its op's own eval on 8-bit
// values (StepChecker::op_eval).
#include "program/step_checker.h"

namespace qmap {

Status check_move(const StepChecker& c) { return c.op_eval(); }

}  // namespace qmap
