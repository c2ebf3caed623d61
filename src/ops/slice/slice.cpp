// Slice (ONNX Slice-13): data[starts:ends:steps] on the listed axes. starts/ends/axes/steps
// are inputs; out-of-range starts and ends are clamped as the spec says ([0, dim] for positive
// steps, [-1, dim-1] for ends with negative steps). Slice-1 had starts/ends/axes attributes;
// the upgrade hook makes them inputs. Every IR dtype is accepted.
#include <algorithm>

#include "ops/common/helpers.h"
#include "ops/common/tensor_args.h"
#include "ops/common/tensor_copy.h"

namespace qmap::ops::slice {

// Per-axis (start, step, count) after ONNX clamping; computed by infer and eval alike.
struct AxisSlice {
  int64_t start = 0, step = 1, count = 0;
};

static Result<std::vector<AxisSlice>> resolve(const InferCtx* ictx, const EvalCtx* ectx,
                                              const Dims& in, const std::vector<int64_t>& starts,
                                              const std::vector<int64_t>& ends,
                                              const std::optional<std::vector<int64_t>>& axes_in,
                                              const std::optional<std::vector<int64_t>>& steps_in) {
  auto fail = [&](const std::string& msg) -> Status {
    return ictx ? ictx->error("{}", msg) : ectx->error("{}", msg);
  };
  const int rank = static_cast<int>(in.size());
  std::vector<AxisSlice> out(in.size());
  for (int d = 0; d < rank; ++d) out[static_cast<size_t>(d)] = {0, 1, in[static_cast<size_t>(d)]};
  if (starts.size() != ends.size())
    return fail(fmt::format("starts has {} entries and ends {}: they must have the same length",
                            starts.size(), ends.size()));
  std::vector<int64_t> axes;
  if (axes_in) axes = *axes_in;
  else for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  std::vector<int64_t> steps = steps_in ? *steps_in : std::vector<int64_t>(starts.size(), 1);
  if (axes.size() != starts.size() || steps.size() != starts.size())
    return fail(fmt::format("starts has {} entries, axes {}, steps {}: they must have the same length",
                            starts.size(), axes.size(), steps.size()));
  std::vector<bool> seen(in.size(), false);
  for (size_t i = 0; i < starts.size(); ++i) {
    int64_t a = axes[i];
    if (a < -rank || a >= rank)
      return fail(fmt::format("axes entry {} is out of range for rank {}: must be in [{}, {}]", a, rank, -rank, rank - 1));
    if (a < 0) a += rank;
    if (seen[static_cast<size_t>(a)]) return fail(fmt::format("axes repeat axis {}: each axis may appear once", a));
    seen[static_cast<size_t>(a)] = true;
    const int64_t dim = in[static_cast<size_t>(a)];
    const int64_t step = steps[i];
    if (step == 0) return fail(fmt::format("steps entry {} is 0: steps must be non-zero", i));
    int64_t s = starts[i], e = ends[i];
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    int64_t count;
    if (dim == 0) {
      s = 0;
      count = 0;
    } else if (step > 0) {
      s = std::clamp<int64_t>(s, 0, dim);
      e = std::clamp<int64_t>(e, 0, dim);
      count = e > s ? 1 + (e - s - 1) / step : 0;  // ceil((e - s) / step), no overflow near INT64_MAX
    } else {
      s = std::clamp<int64_t>(s, 0, dim - 1);
      e = std::clamp<int64_t>(e, -1, dim - 1);
      // ceil((s - e) / -step); -INT64_MIN does not exist, and any |step| beyond the axis gives 1.
      count = s > e ? 1 + (s - e - 1) / (step < -dim ? dim : -step) : 0;
    }
    out[static_cast<size_t>(a)] = {s, step, count};
  }
  return out;
}

static std::optional<std::vector<int64_t>> opt_ints(const Tensor* t) {
  if (t == nullptr) return std::nullopt;
  return t->to_int64();
}

static Status infer(InferCtx& ctx) {
  const DType dt = ctx.dtype(0);
  QMAP_RETURN_IF_ERROR(expect_int_list(ctx, 1, "starts"));
  QMAP_RETURN_IF_ERROR(expect_int_list(ctx, 2, "ends"));
  QMAP_RETURN_IF_ERROR(expect_int_list(ctx, 3, "axes"));
  QMAP_RETURN_IF_ERROR(expect_int_list(ctx, 4, "steps"));
  if (!ctx.has_input(1) || !ctx.has_input(2)) return ctx.error("starts and ends inputs are required");
  const bool known = ctx.dims_known(0) && ctx.value(1) && ctx.value(2) &&
                     (!ctx.has_input(3) || ctx.value(3)) && (!ctx.has_input(4) || ctx.value(4));
  if (!known) return set_unknown_output(ctx, dt);
  QMAP_ASSIGN_OR_RETURN(auto sl, resolve(&ctx, nullptr, ctx.dims(0), ctx.value(1)->to_int64(),
                                         ctx.value(2)->to_int64(), opt_ints(ctx.value(3)),
                                         opt_ints(ctx.value(4))));
  Dims out;
  for (const AxisSlice& s : sl) out.push_back(s.count);
  ctx.set_output(0, dt, out);
  return ok_status();
}

static Status eval(EvalCtx& ctx) {
  const Tensor& x = ctx.in(0);
  QMAP_ASSIGN_OR_RETURN(auto sl, resolve(nullptr, &ctx, x.dims(), ctx.in(1).to_int64(), ctx.in(2).to_int64(),
                                         ctx.has(3) ? opt_ints(&ctx.in(3)) : std::nullopt,
                                         ctx.has(4) ? opt_ints(&ctx.in(4)) : std::nullopt));
  AxisMaps maps;
  for (const AxisSlice& s : sl) {
    std::vector<int64_t> m(static_cast<size_t>(s.count));
    for (int64_t j = 0; j < s.count; ++j) m[static_cast<size_t>(j)] = s.start + j * s.step;
    maps.push_back(std::move(m));
  }
  gather_by_axis_maps(x, ctx.out(0), maps);
  return ok_status();
}

// Slice-1: starts, ends, axes attributes -> inputs 1, 2, 3.
static Status upgrade(Graph& graph, int64_t opset, std::vector<Node>& nodes) {
  Node& n = nodes[0];
  if (opset >= 10) return ok_status();
  for (auto [name, index] : {std::pair<const char*, size_t>{"starts", 1}, {"ends", 2}, {"axes", 3}}) {
    if (!n.has_attr(name)) {
      if (index < 3) return error("Slice '{}': attribute {} is required in Slice-1", n.name, name);
      continue;
    }
    QMAP_RETURN_IF_ERROR(ints_attr_to_input(graph, n, name, index));
  }
  return ok_status();
}

// A target may limit which axes can be sliced and with which step (e.g. unit steps only).
static void npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>> outputs,
                       OpParams& params) {
  if (!ctx.dims_known(0) || !ctx.value(1) || !ctx.value(2)) return;
  const int rank = ctx.rank(0);
  std::vector<int64_t> axes;
  if (ctx.value(3)) axes = ctx.value(3)->to_int64();
  else for (int64_t i = 0; i < ctx.value(1)->numel(); ++i) axes.push_back(i);
  for (int64_t& a : axes) a = a < 0 ? a + rank : a;
  params.push_back({"axis", axes, ""});
  if (ctx.value(4)) params.push_back({"step", ctx.value(4)->to_int64(), ""});
}

extern const OpDef kDef = {
    .name = "Slice",
    .summary = "Takes a strided slice of a tensor along some axes.",
    .min_inputs = 3, .max_inputs = 5,  // the importer checks counts after the Slice-1 upgrade
    .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer,
    .eval = eval,
    .upgrade_onnx = upgrade,
    .npu_params = npu_params,
    .quant_rule = quant_always<QuantKind::kPassThrough>,
    .lowering = Int8Lowering::kMove,
    .output_non_negative = non_negative_as_input0,
};

}  // namespace qmap::ops::slice
