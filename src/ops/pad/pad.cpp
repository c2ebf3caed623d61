// Pad (ONNX Pad-13): pads (or, with negative pads, crops) every axis. pads input layout is
// [x1_begin, x2_begin, ..., x1_end, x2_end, ...] (elements). Modes: constant (optional scalar
// constant_value input of the data's type, default 0), reflect (mirror without repeating the
// edge, as numpy.pad 'reflect'; pads wider than the axis reflect again), edge (repeat the edge).
// Pad-2 carried pads/value as attributes; the upgrade hook makes them inputs. Every IR dtype.
#include "ops/common/helpers.h"
#include "ops/common/tensor_args.h"
#include "ops/common/tensor_copy.h"
#include "ops/common/int8_rules.h"

namespace qmap::ops::pad {

static const AttrSpec kAttrs[] = {
    {"mode", AttrType::kString, "constant", "constant, reflect or edge"},
};

static Status infer(InferCtx& ctx) {
  const DType dt = ctx.dtype(0);
  const std::string mode = attr_string(ctx.node(), "mode", "constant");
  if (mode != "constant" && mode != "reflect" && mode != "edge")
    return ctx.error("mode '{}' is not valid: supported modes are constant, reflect, edge", mode);
  QMAP_RETURN_IF_ERROR(expect_int_list(ctx, 1, "pads"));
  if (!ctx.has_input(1)) return ctx.error("pads input is required");
  if (ctx.has_input(2)) {
    if (ctx.dtype(2) != dt)
      return ctx.error("constant_value has type {} but data has type {}: they must match",
                       dtype_name(ctx.dtype(2)), dtype_name(dt));
    if (ctx.dims_known(2) && num_elements(ctx.dims(2)) != 1)
      return ctx.error("constant_value has shape {}: must be a scalar", dims_str(ctx.dims(2)));
  }
  auto pads = known_ints(ctx, 1);
  if (!ctx.dims_known(0) || !pads) return set_unknown_output(ctx, dt);
  const Dims& in = ctx.dims(0);
  const size_t r = in.size();
  if (pads->size() != 2 * r)
    return ctx.error("pads has {} entries for a rank-{} input: must have 2 * rank = {}", pads->size(), r, 2 * r);
  Dims out(r);
  for (size_t d = 0; d < r; ++d) {
    if (__builtin_add_overflow(in[d], (*pads)[d], &out[d]) || __builtin_add_overflow(out[d], (*pads)[d + r], &out[d]))
      return ctx.error("pads [{}] on axis {} of length {}: the padded length overflows int64", fmt::join(*pads, ","), d,
                       in[d]);
    if (out[d] < 0)
      return ctx.error("pads [{}] make axis {} of length {} negative: cropping cannot exceed the axis",
                       fmt::join(*pads, ","), d, in[d]);
    const bool grows = (*pads)[d] > 0 || (*pads)[d + r] > 0;
    if (mode != "constant" && grows && in[d] == 0)
      return ctx.error("mode '{}' cannot pad axis {} of length 0: there is no edge to copy", mode, d);
  }
  ctx.set_output(0, dt, out);
  return ok_status();
}

// Source index for output position `src` (already shifted by the begin pad) on an axis of
// length n; -1 means the constant fill.
static int64_t source_index(int64_t src, int64_t n, const std::string& mode) {
  if (src >= 0 && src < n) return src;
  if (mode == "constant") return -1;
  if (mode == "edge") return src < 0 ? 0 : n - 1;
  if (n == 1) return 0;
  const int64_t period = 2 * (n - 1);  // reflect: ... 2 1 [0 1 2 3] 2 1 0 1 ...
  int64_t m = src % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

static Status eval(EvalCtx& ctx) {
  const Tensor& x = ctx.in(0);
  Tensor& y = ctx.out(0);
  const std::string mode = attr_string(ctx.node, "mode", "constant");
  const auto pads = ctx.in(1).to_int64();
  const size_t r = x.dims().size();
  AxisMaps maps(r);
  for (size_t d = 0; d < r; ++d) {
    maps[d].resize(static_cast<size_t>(y.dims()[d]));
    for (int64_t j = 0; j < y.dims()[d]; ++j)
      maps[d][static_cast<size_t>(j)] = source_index(j - pads[d], x.dims()[d], mode);
  }
  const std::byte* fill = ctx.has(2) && mode == "constant" ? ctx.in(2).raw() : nullptr;
  gather_by_axis_maps(x, y, maps, fill);
  return ok_status();
}

// Pad-2: pads (ints) and value (float) attributes -> inputs 1 and 2.
static Status upgrade(Graph& graph, int64_t opset, std::vector<Node>& nodes) {
  Node& n = nodes[0];
  if (opset >= 11) return ok_status();
  if (!n.has_attr("pads")) return error("Pad '{}': attribute pads is required in Pad-2", n.name);
  QMAP_RETURN_IF_ERROR(ints_attr_to_input(graph, n, "pads", 1));
  if (n.has_attr("value")) {
    const auto* v = std::get_if<float>(&n.attrs.at("value"));
    if (v == nullptr) return error("Pad '{}': attribute value must be a float", n.name);
    Tensor value = Tensor::scalar<float>(*v);
    // constant_value must have the data's type; Pad-2 data is floating point.
    const ValueId x = n.inputs.empty() ? kNoValue : n.inputs[0];
    if (x != kNoValue && graph.value(x).dtype != DType::kUndefined && graph.value(x).dtype != DType::kFloat32)
      value = cast_tensor(value, graph.value(x).dtype);
    attr_to_input(graph, n, "value", 2, value);
  }
  return ok_status();
}

// Targets limit the pad mode and the pad amounts (pads list as in ONNX, begin then end).
static void npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>> outputs,
                       OpParams& params) {
  params.push_back({"mode", {}, attr_string(ctx.node(), "mode", "constant")});
  if (auto pads = known_ints(ctx, 1)) params.push_back({"pad", *pads, ""});
}

static QuantKind quant_rule(const Graph& g, const Node& n, std::string* why) {
  if (attr_string(n, "mode", "constant") != "constant" || (input_present(n, 2) && !constant_input(g, n, 2))) {
    *why = "Pad other than constant mode with a constant value";
    return QuantKind::kFloat;
  }
  return QuantKind::kPassThrough;
}

// The padding value is an element of the output too.
static bool non_negative(const Graph&, const Node&, const InputSigns& in) {
  return in.non_negative(0) && in.non_negative(2);
}

extern const OpDef kDef = {
    .name = "Pad",
    .summary = "Pads a tensor with a constant, its reflection or its edge values.",
    .min_inputs = 2, .max_inputs = 3,  // the importer checks counts after the Pad-2 upgrade
    .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .upgrade_onnx = upgrade,
    .npu_params = npu_params,
    .quant_rule = quant_rule,
    .lowering = Int8Lowering::kMove,
    .output_non_negative = non_negative,
};

}  // namespace qmap::ops::pad
