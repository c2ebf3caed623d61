// The move kind on the runtime (runtime/step_run.h): the op's own eval on the 8-bit values
// (runtime/op_eval_step.h).
#include "runtime/op_eval_step.h"

namespace qmap::rt {

extern const StepRunDef kRun_move = {.run = run_op_eval_step, .kernel = "op eval"};

}  // namespace qmap::rt
