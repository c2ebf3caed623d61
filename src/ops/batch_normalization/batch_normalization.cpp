// BatchNormalization (ONNX BatchNormalization-15), inference form:
//   y = (x - mean[c]) / sqrt(var[c] + epsilon) * scale[c] + B[c]   over x [N, C, D1...].
// training_mode = 1 (batch statistics, running-mean outputs) is rejected: only inference is
// meaningful when converting a trained model. Older opsets (spatial, is_test,
// consumed_inputs) are rewritten by upgrade_onnx. Float32.
#include <cmath>

#include "ops/common/helpers.h"

namespace qmap::ops::batch_normalization {

namespace {

constexpr AttrSpec kAttrs[] = {
    {"epsilon", AttrType::kFloat, "1e-05", "added to the variance to avoid dividing by zero"},
    {"momentum", AttrType::kFloat, "0.9", "running-statistics factor (training only; ignored)"},
    {"training_mode", AttrType::kInt, "0", "1: training (batch statistics); only 0 is supported"},
};

const char* const kInputNames[] = {"X", "scale", "B", "input_mean", "input_var"};

Status infer(InferCtx& ctx) {
  const int64_t training = attr_int(ctx.node(), "training_mode", 0);
  if (training == 1)
    return ctx.error("training_mode 1 is not supported: only inference (training_mode 0) is "
                     "meaningful for conversion; export the model in eval mode");
  if (training != 0) return ctx.error("training_mode {} must be 0 or 1", training);
  int outputs = 0;
  for (ValueId o : ctx.node().outputs) outputs += o != kNoValue ? 1 : 0;
  if (outputs > 1)
    return ctx.error("has {} outputs: running_mean and running_var exist only in training mode, "
                     "which is not supported", outputs);
  for (int i = 0; i < 5; ++i) {
    if (!ctx.has_input(i)) return ctx.error("input {} ({}) is required", i, kInputNames[i]);
    QMAP_RETURN_IF_ERROR(expect_dtype(ctx, i, {DType::kFloat32}));
  }
  if (!ctx.dims_known(0)) {
    for (int i = 0; i < 3; ++i) ctx.set_output(i, DType::kFloat32, std::nullopt);
    return ok_status();
  }
  if (ctx.rank(0) < 2)
    return ctx.error("input X has shape {}: must be N x C x D1 x ... (rank >= 2)", dims_str(ctx.dims(0)));
  const int64_t c = ctx.dims(0)[1];
  for (int i = 1; i < 5; ++i)
    if (ctx.dims_known(i) && ctx.dims(i) != Dims{c})
      return ctx.error("input {} ({}) has shape {}: must be [{}] (one value per channel)", i,
                       kInputNames[i], dims_str(ctx.dims(i)), c);
  ctx.set_output(0, DType::kFloat32, ctx.dims(0));
  // Omitted running_mean / running_var slots still get a (per-channel) shape: the engine
  // allocates every output slot of the node.
  ctx.set_output(1, DType::kFloat32, Dims{c});
  ctx.set_output(2, DType::kFloat32, Dims{c});
  return ok_status();
}

Status eval(EvalCtx& ctx) {
  const Dims& xd = ctx.in(0).dims();
  const int64_t n = xd[0], c = xd[1];
  const int64_t plane = n * c == 0 ? 0 : ctx.in(0).numel() / (n * c);
  const float eps = attr_float(ctx.node, "epsilon", 1e-5f);
  auto scale = ctx.in(1).data<float>(), bias = ctx.in(2).data<float>();
  auto mean = ctx.in(3).data<float>(), var = ctx.in(4).data<float>();
  // Folded per-channel affine y = x * a + b (what BN->Conv folding does too).
  std::vector<float> a(static_cast<size_t>(c)), b(static_cast<size_t>(c));
  for (size_t i = 0; i < a.size(); ++i) {
    a[i] = scale[i] / std::sqrt(var[i] + eps);
    b[i] = bias[i] - mean[i] * a[i];
  }
  const float* x = ctx.in(0).data<float>().data();
  float* y = ctx.out(0).data<float>().data();
  for (int64_t p = 0; p < n * c; ++p) {
    const float ap = a[static_cast<size_t>(p % c)], bp = b[static_cast<size_t>(p % c)];
    const float* xp = x + p * plane;
    float* yp = y + p * plane;
    for (int64_t i = 0; i < plane; ++i) yp[i] = xp[i] * ap + bp;
  }
  return ok_status();
}

// BatchNormalization-1/6/7 -> 15: drops consumed_inputs (1), is_test (6) and spatial (7);
// spatial = 0 (per-activation statistics of shape C x D1 x ...) has no opset-15 form and is
// rejected. Before opset 14 extra outputs meant training mode, except with is_test = 1
// (opset 6), where ONNX leaves them unspecified: they are dropped.
Status upgrade(Graph& graph, int64_t opset, std::vector<Node>& nodes) {
  Node& n = nodes.front();
  auto fail = [&](const std::string& what) {
    return error("{} '{}': {}", n.op_type, n.name, what);
  };
  if (opset >= 14) return ok_status();
  // The legacy attributes are read here, before attribute validation runs on the upgraded
  // node (which no longer has them): check their type first (a fuzzed model with a float
  // is_test broke attr_int's invariant).
  for (const char* key : {"spatial", "is_test"})
    if (n.has_attr(key) && attr_type_of(n.attrs.at(key)) != AttrType::kInt)
      return fail(fmt::format("attribute '{}' has type {}: opset {} defines it as an int", key,
                              attr_type_name(attr_type_of(n.attrs.at(key))), opset));
  if (n.has_attr("spatial") && attr_int(n, "spatial", 1) == 0)
    return fail("spatial 0 (per-activation normalization, opset < 9) is not supported: "
                "re-export the model with opset >= 9");
  const bool is_test = attr_int(n, "is_test", 0) == 1;
  n.attrs.erase("spatial");
  n.attrs.erase("is_test");
  n.attrs.erase("consumed_inputs");
  // Trailing omitted outputs ("" in ONNX) are dropped: opset 15 has at most 3.
  while (n.outputs.size() > 1 && n.outputs.back() == kNoValue) n.outputs.pop_back();
  int extra = 0;
  for (size_t i = 1; i < n.outputs.size(); ++i) extra += n.outputs[i] != kNoValue ? 1 : 0;
  if (extra > 0) {
    if (!is_test)
      return fail("has training-mode outputs (mean, var, saved_mean, saved_var): only "
                  "inference is meaningful for conversion; export the model in eval mode");
    n.outputs.resize(1);
  }
  (void)graph;
  return ok_status();
}

void npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>>, OpParams& params) {
  if (!ctx.dims_known(0) || ctx.rank(0) < 2) return;
  params.push_back({"in_channels", {ctx.dims(0)[1]}, ""});
  params.push_back({"out_channels", {ctx.dims(0)[1]}, ""});
}

}  // namespace

extern const OpDef kDef = {
    .name = "BatchNormalization",
    .summary = "Per-channel normalization with stored statistics (inference form).",
    .min_inputs = 5, .max_inputs = 5, .min_outputs = 1, .max_outputs = 3,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .upgrade_onnx = upgrade,
    .npu_params = npu_params,
    .int8_via = "fold_batchnorm: folded into the Conv or Gemm before it, or a depthwise 1x1 Conv (rank >= 3)",
};

}  // namespace qmap::ops::batch_normalization
