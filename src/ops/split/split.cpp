// Split (ONNX Split-13): cuts the input along `axis` into len(outputs) parts, of the lengths
// given by the optional `split` input or, without it, of equal length (the axis length must
// then divide evenly, as opset 13-17 require). Split-2/11 carried `split` as an attribute;
// the upgrade hook turns it into the input. Every IR dtype is accepted.
#include "ops/common/helpers.h"
#include "ops/common/tensor_args.h"
#include "ops/common/tensor_copy.h"

namespace qmap::ops::split {

static const AttrSpec kAttrs[] = {
    {"axis", AttrType::kInt, "0", "axis to split on; negative counts from the back"},
};

static Status infer(InferCtx& ctx) {
  const DType dt = ctx.dtype(0);
  const int n_out = static_cast<int>(ctx.node().outputs.size());
  QMAP_RETURN_IF_ERROR(expect_int_list(ctx, 1, "split"));
  auto set_unknown = [&] {
    for (int i = 0; i < std::max(n_out, 1); ++i) ctx.set_output(i, dt, std::nullopt);
    return ok_status();
  };
  if (!ctx.dims_known(0)) return set_unknown();
  const Dims& in = ctx.dims(0);
  if (in.empty()) return ctx.error("input is a scalar: Split needs rank >= 1");
  QMAP_ASSIGN_OR_RETURN(const int axis, normalize_axis(ctx, "axis", attr_int(ctx.node(), "axis", 0),
                                                       static_cast<int>(in.size())));
  const int64_t len = in[static_cast<size_t>(axis)];
  std::vector<int64_t> parts;
  if (ctx.has_input(1)) {
    auto known = known_ints(ctx, 1);
    if (!known) return set_unknown();
    parts = *known;
    if (n_out > 0 && static_cast<int>(parts.size()) != n_out)
      return ctx.error("split has {} entries but the node has {} outputs: they must match",
                       parts.size(), n_out);
    for (int64_t p : parts)
      if (p < 0) return ctx.error("split [{}] has a negative length: lengths must be >= 0", fmt::join(parts, ","));
    int64_t sum = 0;
    for (int64_t p : parts) {
      // Each part at most the axis, so the sum cannot overflow (the onnx fuzzer summed two
      // lengths near 2^62: fuzz/regressions/onnx/split_lengths_overflow_int64.onnx).
      if (p > len)
        return ctx.error("split [{}] has a length {} longer than axis {} ({}): they must sum to it", fmt::join(parts, ","),
                         p, axis, len);
      sum += p;
    }
    if (sum != len)
      return ctx.error("split [{}] sums to {} but axis {} has length {}: they must be equal",
                       fmt::join(parts, ","), sum, axis, len);
  } else {
    const int n = std::max(n_out, 1);
    if (len % n != 0)
      return ctx.error("axis {} of length {} cannot be split into {} equal parts: give the split input", axis,
                       len, n);
    parts.assign(static_cast<size_t>(n), len / n);
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    Dims d = in;
    d[static_cast<size_t>(axis)] = parts[i];
    ctx.set_output(static_cast<int>(i), dt, d);
  }
  return ok_status();
}

static Status eval(EvalCtx& ctx) {
  const Tensor& x = ctx.in(0);
  int64_t axis = attr_int(ctx.node, "axis", 0);
  if (axis < 0) axis += x.rank();
  AxisMaps maps;
  for (int d = 0; d < x.rank(); ++d) maps.push_back(identity_map(x.dims()[static_cast<size_t>(d)]));
  int64_t offset = 0;
  for (Tensor& y : ctx.outputs) {
    const int64_t n = y.dims()[static_cast<size_t>(axis)];
    auto& m = maps[static_cast<size_t>(axis)];
    m.resize(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) m[static_cast<size_t>(j)] = offset + j;
    gather_by_axis_maps(x, y, maps);
    offset += n;
  }
  return ok_status();
}

// Split-2/11: `split` attribute -> input 1.
static Status upgrade(Graph& graph, int64_t opset, std::vector<Node>& nodes) {
  Node& n = nodes[0];
  if (opset >= 13) return ok_status();
  return ints_attr_to_input(graph, n, "split", 1);
}


extern const OpDef kDef = {
    .name = "Split",
    .summary = "Splits a tensor into parts along one axis.",
    .min_inputs = 1, .max_inputs = 2, .min_outputs = 1, .max_outputs = -1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .upgrade_onnx = upgrade,
    .npu_params = axis_npu_params,
    .quant_rule = quant_always<QuantKind::kPassThrough>,
    .lowering = Int8Lowering::kMove,
    .output_non_negative = non_negative_as_input0,
};

}  // namespace qmap::ops::split
