// Per-op quantization rules: which integer form a node of the optimized float graph has on
// the NPU, which of its inputs carry activations, and whether its output is non-negative by
// construction (so it may be uint8). Only structure is used here, never calibration data.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"
#include "ops/op_def.h"

namespace qmap {


const char* quant_kind_name(QuantKind k);


// The integer form of `node`, or kFloat with what lacks one in *why_float, to follow
// "no integer form for ": "Softmax", "MatMul with a non-constant or non-2-D right-hand
// side", "Resize mode linear (...)". Every other kind has an integer step in lowering
// (quant/lower.cpp) for every node it is returned for.
QuantKind quant_kind(const Graph& g, const Node& node, std::string* why_float);

// Indices of the inputs that carry 8-bit activations for that kind (others — shapes, pads,
// Clip bounds, split sizes — stay as they are). For kWeighted only the activation, input 0:
// the weight and bias inputs are quantized by their own rules.
std::vector<int> data_inputs(const Node& node, QuantKind kind);

// True when every output value of `node` is >= 0 whatever the inputs' values, given which
// inputs are (non_negative[v] per value id of g; constants are checked element by element).
bool output_non_negative(const Graph& g, const Node& node, const std::vector<bool>& non_negative);

}  // namespace qmap
