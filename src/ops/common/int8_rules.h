// Helpers for the ops' integer hooks (OpDef::quant_rule): constant inputs, uniform
// parameters, spatial reductions. Only graph structure is read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "ops/op_def.h"

namespace qmap::ops {

// True if input i exists and is not an omitted optional input.
bool input_present(const Node& n, size_t i);
// Input i's constant value, or nullptr (absent or computed at run time).
const Tensor* constant_input(const Graph& g, const Node& n, size_t i);
// Every element >= 0 (NaN counts as negative: nothing is proven about it).
bool all_non_negative(const Tensor& t);
// Every element equal (and at least one).
bool uniform(const Tensor& t);
// The layout of a node's per-channel parameters: every constant parameter input (1 ..) is
// either uniform or varies along one axis of input 0 only, the same axis for all, and input
// 0's dims are known. Then input 0 is `outer` x `channels` x `inner` (row-major) and channel c
// of parameter i is its element c (or its one value). For a per-channel table
// (src/steps/channel_lut/).
struct ChannelLayout {
  int64_t axis = -1;  // in input 0; -1: every parameter is uniform
  int64_t outer = 1, channels = 1, inner = 1;
};
std::optional<ChannelLayout> channel_layout(const Graph& g, const Node& n);
// ReduceMean / ReduceMax over exactly H and W of a 4-D input: global average / max pooling.
bool reduces_spatial_axes(const Graph& g, const Node& n);

// Add and Mul: integer when the second operand is float32 (an activation or a constant).
QuantKind quant_rule_binary(const Graph& g, const Node& n, std::string* why);
// Conv, MatMul: integer with constant weights (and bias).
QuantKind quant_rule_weighted(const Graph& g, const Node& n, std::string* why);

}  // namespace qmap::ops
