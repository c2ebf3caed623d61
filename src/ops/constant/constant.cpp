// Constant (ONNX Constant-13): a tensor given by exactly one attribute. value_float(s) give
// float32, value_int(s) int64 (scalar or 1-D). value_string(s) are rejected: the IR carries no
// strings. (sparse_value has no IR attribute type; the importer rejects it by type.)
// Inference always sets the output value, so consumers see a compile-time constant.
#include <cstring>

#include "ops/common/helpers.h"

namespace qmap::ops::constant {

static const AttrSpec kAttrs[] = {
    {"value", AttrType::kTensor, "", "the output tensor"},
    {"value_float", AttrType::kFloat, "", "a float32 scalar output"},
    {"value_floats", AttrType::kFloats, "", "a 1-D float32 output"},
    {"value_int", AttrType::kInt, "", "an int64 scalar output"},
    {"value_ints", AttrType::kInts, "", "a 1-D int64 output"},
    {"value_string", AttrType::kString, "", "a string scalar (not supported: the IR has no strings)"},
    {"value_strings", AttrType::kStrings, "", "1-D strings (not supported: the IR has no strings)"},
};

// The tensor the node's attribute describes.
static Result<Tensor> value_of(const InferCtx& ctx) {
  const Node& n = ctx.node();
  int count = 0;
  for (const AttrSpec& a : kAttrs) count += n.has_attr(a.name) ? 1 : 0;
  if (count != 1)
    return ctx.error("has {} value attributes: exactly one of value, value_float(s), value_int(s) must be set", count);
  if (n.has_attr("value_string") || n.has_attr("value_strings"))
    return ctx.error("string constants are not supported: the IR carries no string tensors");
  if (n.has_attr("value")) {
    const Tensor& t = std::get<Tensor>(n.attrs.at("value"));
    if (!t.defined()) return ctx.error("attribute value holds no tensor");
    return t;
  }
  if (n.has_attr("value_float")) return Tensor::scalar<float>(attr_float(n, "value_float", 0.f));
  if (n.has_attr("value_int")) return Tensor::scalar<int64_t>(attr_int(n, "value_int", 0));
  if (n.has_attr("value_floats")) {
    auto v = attr_floats(n, "value_floats");
    return Tensor::from_vector<float>({static_cast<int64_t>(v.size())}, v);
  }
  auto v = attr_ints(n, "value_ints");
  return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v);
}

static Status infer(InferCtx& ctx) {
  QMAP_ASSIGN_OR_RETURN(Tensor t, value_of(ctx));
  ctx.set_output_value(0, std::move(t));
  return ok_status();
}

static Status eval(EvalCtx& ctx) {
  std::vector<TensorInfo> none;
  InferCtx ictx(ctx.node, none);
  QMAP_ASSIGN_OR_RETURN(Tensor t, value_of(ictx));
  Tensor& y = ctx.out(0);
  if (t.dtype() != y.dtype() || t.dims() != y.dims())
    return ctx.error("output was allocated as {} {} but the value is {} {}", dtype_name(y.dtype()), dims_str(y.dims()),
                     dtype_name(t.dtype()), dims_str(t.dims()));
  if (t.nbytes() > 0) std::memcpy(y.raw(), t.raw(), t.nbytes());
  return ok_status();
}

extern const OpDef kDef = {
    .name = "Constant",
    .summary = "Outputs a constant tensor given as an attribute.",
    .min_inputs = 0, .max_inputs = 0, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
};

}  // namespace qmap::ops::constant
