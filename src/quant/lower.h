// Lowering of a QDQ ONNX graph (the quantizer's output, DESIGN.md §4 and the quantization
// contract in docs/quantization.md) to an IntProgram.
//
// Recognized patterns run in integer arithmetic; every other node becomes a float step that
// executes it literally (including QuantizeLinear / DequantizeLinear themselves), so ANY
// valid QDQ graph lowers, and the known patterns are integer:
//   DQ(x) + DQ(W int8) [+ DQ(B int32)] -> Conv|Gemm|MatMul [-> Relu|Clip] -> Q   => kConv
//   the same ending in a graph output instead of Q ("high precision")           => kConvFloatOut
//   DQ(a), DQ(b) -> Add [-> Relu|Clip] -> Q                                       => kAdd
//   DQ(a), DQ(b) -> Mul -> Q                                                      => kMul
//   DQ -> Sigmoid|Tanh|HardSigmoid|HardSwish|LeakyRelu|Elu|Relu|Clip -> Q         => kLut
//   DQ -> MaxPool|GlobalMaxPool -> Q (same scale and zero point)                  => kMaxPool
//   DQ -> AveragePool|GlobalAveragePool -> Q                                      => kAvgPool
//   DQ... -> Concat -> Q                                                          => kConcat
//   DQ -> Reshape|Flatten|Transpose|Squeeze|Unsqueeze|Slice|Split|Pad(constant)|Identity|
//         Resize(nearest) -> Q (same scale and zero point)                        => kMove
//   float -> Q (per tensor) => kQuantize;  DQ (per tensor) read by a float step   => kDequantize
// Convolutions and pools match in 2-D (NCHW); other ranks, per-axis activation scales and
// Q/DQ pairs whose parameters disagree run as float steps.
// A Q -> DQ pair whose DQ output feeds integer patterns is the one 8-bit tensor: nothing is
// dequantized and requantized in between. Multipliers are computed in double from the
// float32 scales stored in the graph, so the same ONNX file always gives the same integers.
#pragma once

#include "core/status.h"
#include "ir/graph.h"
#include "program/int_program.h"

namespace qmap {

// Errors ("lower: <op> '<node>': ...") for graphs that fail verification or shape inference
// (every shape must be static) and for quantization parameters an integer step cannot use
// (a scale that is not positive and finite).
Result<IntProgram> lower_qdq_graph(const Graph& qdq);

}  // namespace qmap
