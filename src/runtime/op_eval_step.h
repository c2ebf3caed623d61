// The run of the kinds an op's own eval executes (kMove on 8-bit values, kFloat): shared by
// src/steps/move/ and src/steps/float/.
#pragma once

#include "runtime/step_run.h"

namespace qmap::rt {

// Outputs are written straight into their arena/output views; an omitted output gets a
// scratch buffer (allocated by eval_node_into) that is dropped afterwards. A step whose
// outputs check_step proved runs without shape inference (eval_node_checked).
Status run_op_eval_step(const StepRun& r);

}  // namespace qmap::rt
