// ConvTranspose (ONNX ConvTranspose-11): the adjoint of Conv, y = conv_transpose(x, W) + B,
// over 1..N spatial axes with groups, strides, dilations, pads / auto_pad, output_padding and
// output_shape. Float32, NCHW; W is [Cin, Cout/group, kernel...].
// Fast path (sgemm + col2im) for 1-D and 2-D; other ranks use the reference loop.
#include "kernels/f32/conv.h"
#include "ops/common/conv_pool_window.h"

namespace qmap::ops::conv_transpose {

namespace {

constexpr AttrSpec kAttrs[] = {
    kAutoPadAttr, kDilationsAttr, kGroupAttr, kKernelShapeAttr,
    {"output_padding", AttrType::kInts, "0 per spatial axis",
     "extra elements added at the end of each spatial axis of the output"},
    {"output_shape", AttrType::kInts, "computed",
     "explicit output spatial shape; pads are then derived from it"},
    kPadsAttr, kStridesAttr};

Status infer(InferCtx& ctx) { return infer_conv_family(ctx, conv_transpose_geometry); }

Status eval(EvalCtx& ctx) {
  return eval_conv_family(ctx, conv_transpose_geometry, kernels::f32::conv_transpose_2d, kernels::f32::conv_transpose_ref);
}

void npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>>, OpParams& params) {
  conv_family_npu_params(ctx, conv_transpose_geometry, params);
}

}  // namespace

// Lowering has no transposed convolution: the node stays float (a BatchNormalization or Mul
// after it still folds into its float weights).
static QuantKind quant_rule(const Graph&, const Node&, std::string* why) {
  *why = "ConvTranspose (lowering has no integer transposed convolution)";
  return QuantKind::kFloat;
}

extern const OpDef kDef = {
    .name = "ConvTranspose",
    .summary = "N-D transposed convolution (deconvolution) with groups, strides, dilations, "
               "padding and output_padding / output_shape, plus optional bias.",
    .min_inputs = 2, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .npu_params = npu_params,
    .quant_rule = quant_rule,
};

}  // namespace qmap::ops::conv_transpose
