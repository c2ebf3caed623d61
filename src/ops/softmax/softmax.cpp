// Softmax (ONNX Softmax-13): y = exp(x - max) / sum(exp(x - max)) along one axis (default -1).
// Softmax-1/11 (opsets < 13) flattened the input to 2-D at `axis` (default 1) and normalized
// over all trailing dims at once; the upgrade hook rewrites such nodes to keep that meaning.
#include <algorithm>

#include "ops/common/helpers.h"
#include "ops/registry.h"

namespace qmap::ops::softmax {

static constexpr AttrSpec kAttrs[] = {
    {"axis", AttrType::kInt, "-1", "dimension to normalize over; negative counts from the back"},
};

static Status infer(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, {DType::kFloat32}));
  if (ctx.dims_known(0)) {
    if (ctx.rank(0) == 0) return ctx.error("input is a scalar: Softmax needs rank >= 1");
    QMAP_RETURN_IF_ERROR(normalize_axis(ctx, "axis", attr_int(ctx.node(), "axis", -1), ctx.rank(0)).status());
  }
  ctx.set_output(0, DType::kFloat32, ctx.input(0).dims);
  return ok_status();
}

static Status eval(EvalCtx& ctx) {
  const Tensor& x = ctx.in(0);
  const Dims& d = x.dims();
  int64_t axis = attr_int(ctx.node, "axis", -1);
  if (axis < 0) axis += static_cast<int64_t>(d.size());
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= d[static_cast<size_t>(i)];
  for (size_t i = static_cast<size_t>(axis) + 1; i < d.size(); ++i) inner *= d[i];
  const int64_t n = d[static_cast<size_t>(axis)];
  const float* src = x.data<float>().data();
  float* dst = ctx.out(0).data<float>().data();
  // Columns of one outer block are processed together (inner elements apart), so the
  // passes stream through memory contiguously. Sums accumulate in double so large axes
  // (1000 classes) stay accurate to float32 rounding.
  std::vector<float> mx(static_cast<size_t>(inner));
  std::vector<double> sum(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o) {
    const float* xs = src + o * n * inner;
    float* ys = dst + o * n * inner;
    std::fill(mx.begin(), mx.end(), -std::numeric_limits<float>::infinity());
    std::fill(sum.begin(), sum.end(), 0.0);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t k = 0; k < inner; ++k) mx[k] = std::max(mx[k], xs[j * inner + k]);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t k = 0; k < inner; ++k) {
        const float e = std::exp(xs[j * inner + k] - mx[k]);
        ys[j * inner + k] = e;
        sum[k] += e;
      }
    for (int64_t j = 0; j < n; ++j)
      for (int64_t k = 0; k < inner; ++k)
        ys[j * inner + k] = static_cast<float>(ys[j * inner + k] / sum[k]);
  }
  return ok_status();
}

// Builds a node of a tensor-family op looked up by name at run time (so this branch builds
// without those ops); errors if the op is not part of this build.
static Result<Node> make_node(const Node& like, const char* op, const std::string& suffix) {
  auto id = op_by_name(op);
  if (!id)
    return error("Softmax '{}': upgrading a Softmax of opset < 13 needs op {}, which this build "
                 "does not define", like.name, op);
  Node n;
  n.name = like.name + suffix;
  n.op = *id;
  n.op_type = op;
  return n;
}

// Softmax-1/11: y = reshape(softmax_lastaxis(flatten(x, axis)), shape(x)). When the input
// shape is known and the flattened block has one non-unit axis, this is exactly Softmax-13
// along that axis; otherwise the node
// becomes Shape(x), Flatten(x, axis), Softmax(axis = -1), Reshape(., shape). Reshape keeps
// allowzero = 0: Shape never yields 0 for a non-empty input, so both readings agree.
static Status upgrade(Graph& graph, int64_t opset, std::vector<Node>& nodes) {
  if (opset >= 13) return ok_status();
  Node node = nodes.front();
  // Read before attribute validation (which runs on the upgraded node): check the type.
  if (node.has_attr("axis") && attr_type_of(node.attrs.at("axis")) != AttrType::kInt)
    return error("Softmax '{}': attribute 'axis' has type {}: opset {} defines it as an int", node.name,
                 attr_type_name(attr_type_of(node.attrs.at("axis"))), opset);
  const int64_t axis = attr_int(node, "axis", 1);
  node.attrs.erase("axis");
  const ValueId x = node.inputs.empty() ? kNoValue : node.inputs[0];
  const std::optional<Dims> dims = x == kNoValue ? std::nullopt : graph.value(x).dims;
  if (dims) {
    const int64_t rank = static_cast<int64_t>(dims->size());
    if (axis < -rank || axis >= std::max<int64_t>(rank, 1))
      return error("Softmax '{}': axis {} is out of range for a rank-{} input: must be in [{}, {}]",
                   node.name, axis, rank, -rank, std::max<int64_t>(rank, 1) - 1);
    // Flattening at `axis` then normalizing the trailing block equals normalizing along one
    // axis when at most one of dims[axis:] differs from 1 (e.g. NxCx1x1 logits, or the last
    // axis): use that axis (the last one if all are 1). Dynamic dims (< 0) count as != 1.
    int64_t single = rank - 1;
    int non_unit = 0;
    for (int64_t i = axis < 0 ? axis + rank : axis; i < rank; ++i)
      if ((*dims)[static_cast<size_t>(i)] != 1) {
        ++non_unit;
        single = i;
      }
    if (non_unit <= 1) {
      node.attrs["axis"] = single - rank;  // negative: the same axis for any batch handling
      nodes = {node};
      return ok_status();
    }
  }
  if (node.inputs.size() != 1 || node.outputs.size() != 1)
    return error("Softmax '{}': has {} inputs and {} outputs: must have 1 and 1", node.name,
                 node.inputs.size(), node.outputs.size());
  QMAP_ASSIGN_OR_RETURN(Node shape, make_node(node, "Shape", "/shape"));
  QMAP_ASSIGN_OR_RETURN(Node flatten, make_node(node, "Flatten", "/flatten"));
  QMAP_ASSIGN_OR_RETURN(Node reshape, make_node(node, "Reshape", "/reshape"));
  const std::string out_name = graph.value(node.outputs[0]).name;  // a copy: add_value reallocates the values
  const ValueId shape_v = graph.add_value(graph.unique_value_name(out_name + "/shape"), DType::kInt64);
  const ValueId flat_v = graph.add_value(graph.unique_value_name(out_name + "/flat"), DType::kFloat32);
  const ValueId soft_v = graph.add_value(graph.unique_value_name(out_name + "/softmax2d"), DType::kFloat32);
  shape.inputs = {x};
  shape.outputs = {shape_v};
  flatten.inputs = {x};
  flatten.outputs = {flat_v};
  flatten.attrs["axis"] = axis;
  Node soft = node;
  soft.inputs = {flat_v};
  soft.outputs = {soft_v};
  soft.attrs["axis"] = int64_t{-1};
  reshape.inputs = {soft_v, shape_v};
  reshape.outputs = node.outputs;
  nodes = {std::move(shape), std::move(flatten), std::move(soft), std::move(reshape)};
  return ok_status();
}

static void npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>>, OpParams& params) {
  if (!ctx.dims_known(0) || ctx.rank(0) == 0) return;
  int64_t axis = attr_int(ctx.node(), "axis", -1);
  if (axis < 0) axis += ctx.rank(0);
  params.push_back({.name = "axis", .ints = {axis}, .text = {}});
}

extern const OpDef kDef = {
    .name = "Softmax",
    .summary = "Normalized exponential along one axis, y = exp(x - max) / sum(exp(x - max)).",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .upgrade_onnx = upgrade,
    .npu_params = npu_params,
    .output_non_negative = non_negative_always,
};

}  // namespace qmap::ops::softmax
