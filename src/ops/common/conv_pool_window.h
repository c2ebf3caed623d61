// Sliding-window attributes shared by Conv, ConvTranspose, MaxPool and AveragePool: the
// attribute specs, their validation and the output-size rules of ONNX Conv-11,
// ConvTranspose-11, MaxPool-12 and AveragePool-11 (auto_pad, ceil_mode), producing the
// kernels' WindowGeometry. Errors name the node and the rule.
#pragma once

#include "kernels/f32/window_geometry.h"
#include "ops/op_def.h"

namespace qmap::ops {

using kernels::f32::WindowGeometry;

inline constexpr AttrSpec kAutoPadAttr{
    "auto_pad", AttrType::kString, "NOTSET",
    "NOTSET (explicit pads), SAME_UPPER / SAME_LOWER (output = ceil(input / stride), the odd "
    "pad at the end / at the beginning), or VALID (no padding)"};
inline constexpr AttrSpec kDilationsAttr{"dilations", AttrType::kInts, "1 per spatial axis",
                                         "spacing between kernel taps along each spatial axis"};
inline constexpr AttrSpec kKernelShapeAttr{"kernel_shape", AttrType::kInts, "from W",
                                           "kernel size along each spatial axis"};
inline constexpr AttrSpec kPoolKernelShapeAttr{"kernel_shape", AttrType::kInts, nullptr,
                                               "window size along each spatial axis"};
inline constexpr AttrSpec kPadsAttr{
    "pads", AttrType::kInts, "0 per spatial axis",
    "padding [x1_begin, x2_begin, ..., x1_end, x2_end, ...] in elements; ignored when auto_pad "
    "is not NOTSET"};
inline constexpr AttrSpec kStridesAttr{"strides", AttrType::kInts, "1 per spatial axis",
                                       "step of the window along each spatial axis"};
inline constexpr AttrSpec kGroupAttr{"group", AttrType::kInt, "1",
                                     "number of groups input and output channels are divided into"};

// Conv and pools. x: [N, C, spatial...] (known); kernel: the window size per spatial axis
// (Conv: W's trailing dims, checked against kernel_shape; pools: kernel_shape). Reads
// strides, dilations (when `has_dilations`), pads and auto_pad; `ceil_mode` rounds the output
// size up, dropping a last window that would start in the end padding (ONNX Runtime's rule).
// Fills in, out, kernel, strides, dilations, pads, batch and in_channels (= out_channels).
Result<WindowGeometry> window_geometry(const Node& node, const Dims& x, const Dims& kernel,
                                       bool ceil_mode, bool has_dilations);

// Conv. x: [N, Cin, spatial...], w: [Cout, Cin/group, kernel...] (both known). Checks the
// channel/group rule and kernel_shape against W; reads group and the window attributes.
Result<WindowGeometry> conv_geometry(const Node& node, const Dims& x, const Dims& w);

// MaxPool / AveragePool: kernel_shape (required), ceil_mode (0 or 1) and the window
// attributes (dilations only when `has_dilations`: AveragePool-11 has none).
Result<WindowGeometry> pool_geometry(const Node& node, const Dims& x, bool has_dilations);

inline constexpr AttrSpec kCeilModeAttr{"ceil_mode", AttrType::kInt, "0",
                                        "1: round the output size up instead of down"};

// [N, out_channels, out...]: the output shape of a window op.
Dims window_output_dims(const WindowGeometry& g);

// ConvTranspose. x: [N, Cin, spatial...], w: [Cin, Cout/group, kernel...] (both known).
// Reads group, kernel_shape, strides, dilations, pads, auto_pad, output_padding and
// output_shape; pads in the result are the effective ones (ONNX ConvTranspose-11 rules).
Result<WindowGeometry> conv_transpose_geometry(const Node& node, const Dims& x, const Dims& w);

// Reports kernel, stride, dilation, pad, (group,) in_channels and out_channels.
void window_npu_params(const WindowGeometry& g, bool with_group, OpParams& params);

// Conv and ConvTranspose share everything but the geometry rule and the kernels.
// Inputs X, W, optional B (float32); Y = [N, out_channels, out...].
using ConvGeometryFn = Result<WindowGeometry> (*)(const Node& node, const Dims& x, const Dims& w);
using ConvKernelFn = void (*)(const WindowGeometry& g, const float* x, const float* w,
                              const float* bias, float* y);
using ConvFast2dFn = void (*)(const WindowGeometry& g, const float* x, const float* w,
                              const float* bias, float* y, kernels::f32::SgemmFn gemm);
Status infer_conv_family(InferCtx& ctx, ConvGeometryFn geometry);
// Runs `fast_2d` (with the context's sgemm) for 1-D (as 2-D) and 2-D problems, `reference` for
// other spatial ranks.
Status eval_conv_family(EvalCtx& ctx, ConvGeometryFn geometry, ConvFast2dFn fast_2d,
                        ConvKernelFn reference);
void conv_family_npu_params(const InferCtx& ctx, ConvGeometryFn geometry, OpParams& params);

// MaxPool / AveragePool: the window parameters plus ceil_mode (it changes the output-size
// rule, which fixed-function pooling units often lack).
void pool_npu_params(const InferCtx& ctx, bool has_dilations, OpParams& params);

// GlobalAveragePool / GlobalMaxPool (ONNX -1): x [N, C, spatial...] (float32, rank >= 2) to
// [N, C, 1, ...].
Status infer_global_pool(InferCtx& ctx);
// kernel (= the spatial dims, the window a pooling unit must cover), in_channels, out_channels.
void global_pool_npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>> outputs,
                            OpParams& params);

}  // namespace qmap::ops
