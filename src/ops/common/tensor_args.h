// Shared pieces of the tensor-family ops (Concat, Slice, Pad, Reshape, Squeeze, Resize...):
// reading integer-list inputs (shapes, axes, pads) during shape inference, normalizing axis
// lists, and the ONNX upgrade step that turns a legacy attribute into a constant input.
#pragma once

#include <optional>
#include <vector>

#include "ops/op_def.h"

namespace qmap::ops {

// Checks that input `i` (if present) is a 0-D or 1-D int32/int64 tensor, as ONNX requires
// for shape-like inputs (Reshape shape, Slice starts, Pad pads, Squeeze axes...).
Status expect_int_list(const InferCtx& ctx, int i, const char* what);

// The contents of an int-list input when known during inference; nullopt otherwise
// (absent input or value computed at run time).
std::optional<std::vector<int64_t>> known_ints(const InferCtx& ctx, int i);

// Normalizes every axis of `axes` into [0, rank) and rejects duplicates (ONNX: "repeated
// axes are not allowed" for Squeeze, Unsqueeze, Slice, reductions).
Result<std::vector<int>> normalize_axes(const InferCtx& ctx, const char* what,
                                        const std::vector<int64_t>& axes, int rank);

// Upgrade helper: moves attribute `attr` (if the node has it) into a new constant input at
// position `index` (earlier missing optional inputs become kNoValue) and erases the attribute.
// `value` is the constant (built by the caller from the attribute). Returns false if the node had no such
// attribute.
bool attr_to_input(Graph& graph, Node& node, const std::string& attr, size_t index,
                   const Tensor& value);

// An int64 1-D tensor holding v.
Tensor ints_tensor(const std::vector<int64_t>& v);

// attr_to_input for an ints attribute (Squeeze/Unsqueeze axes, Split split, Slice starts...):
// the constant is an int64 1-D tensor. Errors if the attribute is not ints; no-op if absent.
Status ints_attr_to_input(Graph& graph, Node& node, const std::string& attr, size_t index);

// Sets output 0 to dtype `dt` with unknown dims (an input's dims or a shape-carrying value are
// not known during inference) and returns ok.
Status set_unknown_output(InferCtx& ctx, DType dt);

// npu_params of the ops with one `axis` attribute (Concat, Split, Gather; default 0):
// `axis` normalized against input 0's rank. A target may, e.g., allow channel-only concat.
void axis_npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>> outputs, OpParams& params);

// The upgrade hook of Squeeze and Unsqueeze: their axes attribute (opsets 1-12) becomes
// input 1 (opset 13).
Status upgrade_axes_attr_to_input(Graph& graph, int64_t opset, std::vector<Node>& nodes);

}  // namespace qmap::ops
