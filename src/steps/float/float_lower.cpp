// The float family's lowering: an op without an integer form (Int8Lowering::kNone) runs
// literally as a kFloat step, which the lowering core emits for every node no family lowered
// (Lowerer::emit_float).
#include "quant/lowerer.h"

namespace qmap::lowering {

Result<bool> lower_float(Lowerer&, size_t) { return false; }

}  // namespace qmap::lowering
