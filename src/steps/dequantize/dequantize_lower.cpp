// The dequantize family's lowering. A DequantizeLinear is lowered on demand: an integer
// pattern reads its 8-bit input in its place (Lowerer::int_source), and a float step that
// needs its float output gets a kDequantize step then (Lowerer::materialize). Another op of
// the family (a Cast of a uint8 image input the quantizer left) runs as a float step.
#include "quant/lowerer.h"

namespace qmap::lowering {

Result<bool> lower_dequantize(Lowerer& L, size_t ni) { return L.graph().nodes[ni].op == OpId::DequantizeLinear; }

}  // namespace qmap::lowering
