// The float kind on the runtime (runtime/step_run.h): the op's own float eval, with the
// portable sgemm unless a toolchain caller set another (runtime/op_eval_step.h).
#include "runtime/op_eval_step.h"

namespace qmap::rt {

extern const StepRunDef kRun_float = {.run = run_op_eval_step, .kernel = "op eval"};

}  // namespace qmap::rt
