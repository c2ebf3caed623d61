// LRN (ONNX LRN-13): local response normalization across channels of an N x C x ... tensor,
//   y[c] = x[c] / (bias + alpha / size * sum_{j in window(c)} x[j]^2) ^ beta,
// window(c) = [c - floor((size-1)/2), c + ceil((size-1)/2)] clipped to [0, C). For odd size
// (the only form Caffe accepts) this is Caffe's ACROSS_CHANNELS LRN with bias = k.
#include <cmath>

#include "ops/common/helpers.h"

namespace qmap::ops::lrn {

static const AttrSpec kAttrs[] = {
    {"alpha", AttrType::kFloat, "0.0001", "scale of the sum of squares"},
    {"beta", AttrType::kFloat, "0.75", "exponent"},
    {"bias", AttrType::kFloat, "1.0", "added to the scaled sum (Caffe's k)"},
    {"size", AttrType::kInt, nullptr, "number of channels in the window"},
};

static Status infer(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, {DType::kFloat32}));
  const int64_t size = attr_int(ctx.node(), "size", 0);
  if (size < 1) return ctx.error("attribute size {}: must be >= 1", size);
  if (ctx.dims_known(0) && ctx.rank(0) < 3)
    return ctx.error("input has shape {}: LRN needs rank >= 3 (N x C x D1 ...)", dims_str(ctx.dims(0)));
  ctx.set_output(0, DType::kFloat32, ctx.input(0).dims);
  return ok_status();
}

static Status eval(EvalCtx& ctx) {
  const Node& n = ctx.node;
  const float alpha = attr_float(n, "alpha", 1e-4f);
  const float beta = attr_float(n, "beta", 0.75f);
  const float bias = attr_float(n, "bias", 1.f);
  const int64_t size = attr_int(n, "size", 1);
  const Dims& d = ctx.in(0).dims();
  const int64_t batch = d[0], channels = d[1];
  const int64_t inner = num_elements(Dims(d.begin() + 2, d.end()));
  const int64_t lo = (size - 1) / 2;      // floor((size-1)/2) channels before c
  const int64_t hi = size - 1 - lo;       // ceil((size-1)/2) channels after c
  auto x = ctx.in(0).data<float>();
  auto y = ctx.out(0).data<float>();
  const float scale = alpha / static_cast<float>(size);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t c = 0; c < channels; ++c)
      for (int64_t i = 0; i < inner; ++i) {
        float sum = 0.f;
        for (int64_t j = std::max<int64_t>(0, c - lo); j <= std::min(channels - 1, c + hi); ++j) {
          const float v = x[static_cast<size_t>((b * channels + j) * inner + i)];
          sum += v * v;
        }
        const size_t at = static_cast<size_t>((b * channels + c) * inner + i);
        y[at] = x[at] / std::pow(bias + scale * sum, beta);
      }
  return ok_status();
}

extern const OpDef kDef = {
    .name = "LRN",
    .summary = "Local response normalization across channels (Caffe LRN ACROSS_CHANNELS).",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
};

}  // namespace qmap::ops::lrn
