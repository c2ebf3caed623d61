// The `load` calibration method: a QAT model exported as QDQ ONNX already carries its
// activation ranges in QuantizeLinear/DequantizeLinear pairs. take_thresholds_from_qdq reads
// them as thresholds and strips the pairs, leaving the plain float graph the rest of the
// toolchain (passes, quantizer) expects.
#pragma once

#include "calib/methods.h"
#include "core/status.h"
#include "ir/graph.h"

namespace qmap {

// Rewrites g in place and returns the thresholds found, keyed by the name (in the rewritten
// graph) of the float value each pair quantized:
//  - activations: V -> QuantizeLinear -> DequantizeLinear(s) -> consumers becomes
//    V -> consumers, with T = scale * max(qmax - zp, zp - qmin). The integer range is the
//    symmetric one quantizers use: int8 [-127, 127], uint8 [0, 255], so int8 zp 0 gives
//    scale * 127 and uint8 zp 0 gives scale * 255 (the contract's T / 127, T / 255);
//  - weights and biases: DequantizeLinear of a constant (int8/uint8/int32), or
//    QuantizeLinear -> DequantizeLinear of a float constant (fake-quantized weights),
//    becomes the dequantized float constant, with no threshold (the quantizer computes
//    weight scales itself).
// Graph input and output names are kept: when a DequantizeLinear output was a graph output,
// the float value takes over its name. Constants left unused are dropped.
// Errors name the node: a non-constant or per-axis activation scale or zero point, a
// QuantizeLinear whose output is read by something else than DequantizeLinear or is a
// graph output, a DequantizeLinear of a non-constant value that no QuantizeLinear produced,
// one value quantized twice with different thresholds.
Result<Thresholds> take_thresholds_from_qdq(Graph& g);

}  // namespace qmap
