#include "ops/common/tensor_args.h"

#include "ops/common/helpers.h"

namespace qmap::ops {

Status expect_int_list(const InferCtx& ctx, int i, const char* what) {
  if (!ctx.has_input(i)) return ok_status();
  if (ctx.dtype(i) != DType::kInt64 && ctx.dtype(i) != DType::kInt32)
    return ctx.error("{} (input {}) has type {}: supported types are int64, int32", what, i,
                     dtype_name(ctx.dtype(i)));
  if (ctx.dims_known(i) && ctx.rank(i) > 1)
    return ctx.error("{} (input {}) has shape {}: must be a 1-D tensor", what, i,
                     dims_str(ctx.dims(i)));
  return ok_status();
}

std::optional<std::vector<int64_t>> known_ints(const InferCtx& ctx, int i) {
  const Tensor* t = ctx.value(i);
  if (t == nullptr) return std::nullopt;
  return t->to_int64();
}

Result<std::vector<int>> normalize_axes(const InferCtx& ctx, const char* what,
                                        const std::vector<int64_t>& axes, int rank) {
  std::vector<int> out;
  std::vector<bool> seen(static_cast<size_t>(std::max(rank, 0)), false);
  for (int64_t a : axes) {
    if (a < -rank || a >= rank)
      return ctx.error("{} {} is out of range for rank {}: must be in [{}, {}]", what, a, rank,
                       -rank, rank - 1);
    const int n = static_cast<int>(a < 0 ? a + rank : a);
    if (seen[static_cast<size_t>(n)])
      return ctx.error("{} [{}] repeats axis {}: each axis may appear once", what,
                       fmt::join(axes, ","), n);
    seen[static_cast<size_t>(n)] = true;
    out.push_back(n);
  }
  return out;
}

bool attr_to_input(Graph& graph, Node& node, const std::string& attr, size_t index,
                   const Tensor& value) {
  if (!node.has_attr(attr)) return false;
  const std::string base = (node.name.empty() ? node.op_type : node.name) + "_" + attr;
  const ValueId id = graph.add_constant(graph.unique_value_name(base), value);
  if (node.inputs.size() <= index) node.inputs.resize(index + 1, kNoValue);
  node.inputs[index] = id;
  node.attrs.erase(attr);
  return true;
}

Tensor ints_tensor(const std::vector<int64_t>& v) {
  return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v);
}

Status ints_attr_to_input(Graph& graph, Node& node, const std::string& attr, size_t index) {
  if (!node.has_attr(attr)) return ok_status();
  const auto* v = std::get_if<std::vector<int64_t>>(&node.attrs.at(attr));
  if (v == nullptr)
    return error("{} '{}': attribute {} has type {}: must be ints", node.op_type, node.name, attr,
                 attr_type_name(attr_type_of(node.attrs.at(attr))));
  attr_to_input(graph, node, attr, index, ints_tensor(*v));
  return ok_status();
}

Status set_unknown_output(InferCtx& ctx, DType dt) {
  ctx.set_output(0, dt, std::nullopt);
  return ok_status();
}

void axis_npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>> outputs, OpParams& params) {
  if (!ctx.dims_known(0)) return;
  int64_t axis = attr_int(ctx.node(), "axis", 0);
  if (axis < 0) axis += ctx.rank(0);
  params.push_back({"axis", {axis}, ""});
}

Status upgrade_axes_attr_to_input(Graph& graph, int64_t opset, std::vector<Node>& nodes) {
  if (opset >= 13) return ok_status();
  return ints_attr_to_input(graph, nodes[0], "axes", 1);
}

}  // namespace qmap::ops
