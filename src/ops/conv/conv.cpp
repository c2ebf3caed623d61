// Conv (ONNX Conv-11): y = conv(x, W) + B over 1..N spatial axes, grouped and depthwise,
// with strides, dilations, explicit or automatic padding. Float32, NCHW.
// Fast paths (kernels/f32/conv.h) serve 1-D and 2-D; other ranks use the reference loop.
#include "kernels/f32/conv.h"
#include "ops/common/conv_pool_window.h"
#include "ops/common/int8_rules.h"

namespace qmap::ops::conv {

namespace {

constexpr AttrSpec kAttrs[] = {kAutoPadAttr, kDilationsAttr, kGroupAttr, kKernelShapeAttr,
                               kPadsAttr, kStridesAttr};

Status infer(InferCtx& ctx) { return infer_conv_family(ctx, conv_geometry); }

Status eval(EvalCtx& ctx) {
  return eval_conv_family(ctx, conv_geometry, kernels::f32::conv_2d, kernels::f32::conv_ref);
}

void npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>>, OpParams& params) {
  conv_family_npu_params(ctx, conv_geometry, params);
}

}  // namespace

extern const OpDef kDef = {
    .name = "Conv",
    .summary = "N-D convolution with groups, strides, dilations and padding, plus optional bias.",
    .min_inputs = 2, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .npu_params = npu_params,
    .quant_rule = quant_rule_weighted,
    .lowering = Int8Lowering::kMatMulLike,
    // Sums of products of non-negative numbers (a preprocess node's scaling of uint8 pixels).
    .output_non_negative = non_negative_as_all_inputs,
};

}  // namespace qmap::ops::conv
