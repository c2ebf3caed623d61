// Shape (ONNX Shape-15): the input's dims as a 1-D int64 tensor, optionally sliced by start/end
// (negative counts from the back; both clamped to [0, rank]). When the input dims are known
// and static, inference sets the output value so Shape -> Gather -> Reshape chains fold.
// Every IR dtype for the input.
#include <algorithm>

#include "ops/common/helpers.h"
#include "ops/common/tensor_args.h"

namespace qmap::ops::shape {

static const AttrSpec kAttrs[] = {
    {"start", AttrType::kInt, "0", "first axis to include; negative counts from the back"},
    {"end", AttrType::kInt, "rank", "one past the last axis to include; negative counts from the back"},
};

// [begin, end) of the dims to report, clamped as Shape-15 specifies.
static std::pair<int64_t, int64_t> range_of(const Node& n, int64_t rank) {
  auto fix = [rank](int64_t v) { return std::clamp<int64_t>(v < 0 ? v + rank : v, 0, rank); };
  const int64_t b = fix(attr_int(n, "start", 0));
  const int64_t e = fix(attr_int(n, "end", rank));
  return {b, std::max(b, e)};
}

static Status infer(InferCtx& ctx) {
  if (!ctx.dims_known(0)) return set_unknown_output(ctx, DType::kInt64);
  const Dims& in = ctx.dims(0);
  auto [b, e] = range_of(ctx.node(), static_cast<int64_t>(in.size()));
  const Dims dims(in.begin() + b, in.begin() + e);
  // A dynamic dim (< 0) is not a value yet: only the output shape is known.
  if (std::any_of(dims.begin(), dims.end(), [](int64_t d) { return d < 0; }))
    ctx.set_output(0, DType::kInt64, Dims{e - b});
  else
    ctx.set_output_value(0, Tensor::from_vector<int64_t>({e - b}, dims));
  return ok_status();
}

static Status eval(EvalCtx& ctx) {
  const Dims& in = ctx.in(0).dims();
  auto [b, e] = range_of(ctx.node, static_cast<int64_t>(in.size()));
  auto y = ctx.out(0).data<int64_t>();
  for (int64_t i = b; i < e; ++i) y[static_cast<size_t>(i - b)] = in[static_cast<size_t>(i)];
  return ok_status();
}

extern const OpDef kDef = {
    .name = "Shape",
    .summary = "Outputs the shape of a tensor as int64 values.",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
};

}  // namespace qmap::ops::shape
