// IntProgram helpers: step names, parameters, listing and statistics.
#include "program/int_program.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ops/custom/custom_op.h"

namespace qmap {

const char* step_kind_name(StepKind k) {
  switch (k) {
#define QMAP_STEP_FAMILY(Lowering, folder, label)
#define QMAP_STEP(Kind, name, id, Params) \
  case StepKind::k##Kind: return #name;
#include "steps/step_list.def"
#undef QMAP_STEP
#undef QMAP_STEP_FAMILY
  }
  return "?";
}

StepParams default_step_params(StepKind k) {
  switch (k) {
#define QMAP_STEP_FAMILY(Lowering, folder, label)
#define QMAP_STEP(Kind, name, id, Params) \
  case StepKind::k##Kind: return Params{};
#include "steps/step_list.def"
#undef QMAP_STEP
#undef QMAP_STEP_FAMILY
  }
  QMAP_CHECK(false, "default_step_params: kind {} is not a step kind", static_cast<int>(k));
  return NoParams{};
}

Node step_node(const Step& s) {
  Node n;
  n.name = s.node;
  n.op = s.op;
  n.op_type = s.op_type;
  if (const auto* op = std::get_if<GenericParams>(&s.params)) {
    n.attrs = op->attrs;
    n.domain = op->domain;
    n.custom = op->custom;
  }
  return n;
}

const ConvWeights* Step::conv_weights() const {
  if (const auto* c = std::get_if<ConvParams>(&params)) return c;
  if (const auto* c = std::get_if<ConvFloatOutParams>(&params)) return c;
  return nullptr;
}

kernels::QConvParams conv_kernel_params(const IntProgram& p, const Step& s) {
  const ProgramTensor& x = p.tensors[static_cast<size_t>(s.inputs[0])];
  const ProgramTensor& y = p.tensors[static_cast<size_t>(s.outputs[0])];
  const ConvWeights* cw = s.conv_weights();
  QMAP_CHECK(cw != nullptr, "conv_kernel_params: step '{}' is {}, not a convolution", s.node, step_kind_name(s.kind));
  kernels::QConvParams k;
  k.g = cw->geom;
  k.x_signed = x.dtype == DType::kInt8;
  k.x_wide = x.dtype == DType::kInt16;
  k.zx = x.quant->zero_point;
  k.weights = cw->weights;
  k.bias = cw->bias;
  k.float_out = s.kind == StepKind::kConvFloatOut;
  if (k.float_out) {
    const auto& c = s.as<ConvFloatOutParams>();
    k.acc_scale = c.acc_scales;
    k.float_min = c.float_min;
    k.float_max = c.float_max;
  } else {
    const auto& c = s.as<ConvParams>();
    k.y_signed = y.dtype == DType::kInt8;
    k.y_wide = y.dtype == DType::kInt16;
    k.mult = c.multipliers;
    k.zy = y.quant->zero_point;
    k.lo = c.lo;
    k.hi = c.hi;
  }
  return k;
}

namespace {

// Lists a step's parameters through their description: "name value" for every scalar, the
// values of short inline lists, the element count of blobs and the keys of attributes;
// empty strings, lists and blobs are left out.
class ParamLister {
 public:
  template <class T>
  void field(const char* name, const T& x) {
    if constexpr (std::is_same_v<T, std::string>) {
      if (!x.empty()) parts_.push_back(fmt::format("{} {}", name, x));
    } else if constexpr (std::is_same_v<T, std::map<std::string, AttrValue>>) {
      std::vector<std::string> keys;
      for (const auto& [k, v] : x) keys.push_back(k);
      if (!keys.empty()) parts_.push_back(fmt::format("{} {}", name, fmt::join(keys, " ")));
    } else if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<uint8_t>>) {
      if (!x.empty()) parts_.push_back(fmt::format("{} [{}]", name, fmt::join(x, " ")));
    } else {
      parts_.push_back(fmt::format("{} {}", name, x));
    }
  }
  template <class T>
  void blob(const char* name, const T& x) {
    if (!x.empty()) parts_.push_back(fmt::format("{} {}", name, x.size()));
  }
  std::string text() const { return fmt::format("{}", fmt::join(parts_, ", ")); }

 private:
  std::vector<std::string> parts_;
};

// Names each field's encoding (docs/format.md §3) in description order.
class LayoutLister {
 public:
  template <class T>
  void field(const char* name, const T&) {
    const char* type = std::is_same_v<T, bool>                                  ? "u8"
                       : std::is_same_v<T, int32_t>                             ? "i32"
                       : std::is_same_v<T, int64_t>                             ? "i64"
                       : std::is_same_v<T, float>                               ? "f32"
                       : std::is_same_v<T, std::string>                         ? "str"
                       : std::is_same_v<T, std::vector<int64_t>>                ? "vec<i64>"
                       : std::is_same_v<T, std::vector<uint8_t>>                ? "vec<u8>"
                       : std::is_same_v<T, std::map<std::string, AttrValue>>    ? "attributes"
                                                                                : "?";
    parts_.push_back(fmt::format("{} {}", type, name));
  }
  template <class T>
  void blob(const char* name, const T&) {
    using E = typename T::value_type;  // a std::vector or a SharedArray (a .bin's view) of E
    const char* type = std::is_same_v<E, int8_t>        ? "blob<i8>"
                       : std::is_same_v<E, int32_t>     ? "blob<i32>"
                       : std::is_same_v<E, QMultiplier> ? "blob<(i32 m, i32 shift)>"
                       : std::is_same_v<E, double>      ? "blob<f64>"
                       : std::is_same_v<E, uint8_t>     ? "blob<u8>"
                                                        : "?";
    parts_.push_back(fmt::format("{} {}", type, name));
  }
  std::string text() const { return parts_.empty() ? std::string("(none)") : fmt::format("{}", fmt::join(parts_, ", ")); }

 private:
  std::vector<std::string> parts_;
};

}  // namespace

std::string step_params_layout() {
  std::string out;
  for (int k = 1; k <= kMaxStepKind; ++k) {  // in id order
    if (!is_step_kind(k)) continue;
    const auto kind = static_cast<StepKind>(k);
    LayoutLister lister;
    const StepParams params = default_step_params(kind);
    describe_params(lister, params);
    out += fmt::format("{:>2} {}: {}\n", k, step_kind_name(kind), lister.text());
  }
  return out;
}

std::string program_text(const IntProgram& p) {
  std::string out;
  for (size_t i = 0; i < p.tensors.size(); ++i) {
    const ProgramTensor& t = p.tensors[i];
    out += fmt::format("t{} {} {} {}", i, t.name, dtype_name(t.dtype), dims_str(t.dims));
    if (t.quant) out += fmt::format(" q({}, {})", t.quant->scale, t.quant->zero_point);
    if (t.constant) out += " const";
    out += "\n";
  }
  auto ids = [](const std::vector<int32_t>& v) {
    std::vector<std::string> s;
    for (int32_t t : v) s.push_back(t < 0 ? "-" : fmt::format("t{}", t));
    return fmt::format("{}", fmt::join(s, " "));
  };
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const Step& s = p.steps[i];
    out += fmt::format("s{} {}({}) {} -> {}", i, step_kind_name(s.kind), s.node, ids(s.inputs), ids(s.outputs));
    ParamLister lister;
    if (std::holds_alternative<GenericParams>(s.params)) lister.field("op", s.op_type);
    describe_params(lister, s.params);
    const std::string extra = lister.text();
    if (!extra.empty()) out += fmt::format(" [{}]", extra);
    out += "\n";
  }
  return out;
}

ProgramStats IntProgram::stats() const {
  ProgramStats s;
  for (const Step& st : steps) {
    ++s.by_kind[step_kind_name(st.kind)];
    if (st.kind == StepKind::kFloat) ++s.float_steps;
    else if (st.kind == StepKind::kQuantize || st.kind == StepKind::kDequantize) ++s.border_steps;
    else ++s.integer_steps;
  }
  return s;
}

}  // namespace qmap

#include <cstring>

#include "ops/registry.h"

namespace qmap {

namespace {

// The op's eval into `outputs` (inferred already); an eval that replaced an output Tensor
// (instead of writing into it) leaves the values in a new buffer: they are copied to
// `buffers[i]`, the caller's memory.
Status eval_into_buffers(const OpDef& def, const Node& node, const std::vector<const Tensor*>& inputs,
                         std::span<Tensor> outputs, kernels::f32::SgemmFn sgemm, std::span<std::byte* const> buffers) {
  EvalCtx ectx{node, inputs, outputs};
  ectx.sgemm = sgemm;
  QMAP_RETURN_IF_ERROR(def.eval(ectx));
  for (size_t i = 0; i < buffers.size(); ++i)
    if (outputs[i].raw() != buffers[i] && outputs[i].nbytes() > 0) std::memcpy(buffers[i], outputs[i].raw(), outputs[i].nbytes());
  return ok_status();
}

}  // namespace

Status eval_node_checked(const Node& node, const std::vector<const Tensor*>& inputs, std::span<Tensor> outputs,
                         kernels::f32::SgemmFn sgemm) {
  std::byte* fixed[8];  // no allocation for the usual output counts
  std::vector<std::byte*> more;
  std::byte** b = fixed;
  if (outputs.size() > std::size(fixed)) more.resize(outputs.size()), b = more.data();
  for (size_t i = 0; i < outputs.size(); ++i) b[i] = outputs[i].raw();
  return eval_into_buffers(op_def(node.op), node, inputs, outputs, sgemm, std::span<std::byte* const>(b, outputs.size()));
}

Status eval_node_into(const Node& node, const std::vector<const Tensor*>& inputs, std::span<Tensor> outputs,
                      kernels::f32::SgemmFn sgemm) {
  const OpDef& def = op_def(node.op);
  std::vector<TensorInfo> infos;
  for (const Tensor* t : inputs) infos.push_back(tensor_info_of(t));
  InferCtx ictx(node, infos);
  QMAP_RETURN_IF_ERROR(def.infer(ictx));
  if (ictx.outputs().size() < outputs.size())
    return error("{} '{}': {} outputs inferred, {} expected", node.op_type, node.name, ictx.outputs().size(),
                 outputs.size());
  std::vector<std::byte*> buffers(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i) {
    const auto& o = ictx.outputs()[i];
    if (!outputs[i].defined()) outputs[i] = Tensor::uninitialized(o.dtype, *o.dims);
    else if (outputs[i].dtype() != o.dtype || outputs[i].dims() != *o.dims)
      return error("{} '{}': output {} is {} {}, the program says {} {}", node.op_type, node.name, i,
                   dtype_name(o.dtype), dims_str(*o.dims), dtype_name(outputs[i].dtype()),
                   dims_str(outputs[i].dims()));
    buffers[i] = outputs[i].raw();
  }
  // Trailing optional outputs the node does not use (Dropout's mask) are computed into
  // scratch tensors and dropped.
  std::vector<Tensor> widened;
  if (ictx.outputs().size() > outputs.size()) {
    widened.assign(outputs.begin(), outputs.end());
    for (size_t i = outputs.size(); i < ictx.outputs().size(); ++i)
      widened.push_back(Tensor::uninitialized(ictx.outputs()[i].dtype, *ictx.outputs()[i].dims));
  }
  if (widened.empty()) return eval_into_buffers(def, node, inputs, outputs, sgemm, buffers);
  QMAP_RETURN_IF_ERROR(eval_into_buffers(def, node, inputs, widened, sgemm, buffers));
  for (size_t i = 0; i < outputs.size(); ++i) outputs[i] = widened[i];
  return ok_status();
}

// Infers once to learn the output count, then eval_node_into infers again on the same inputs:
// shape inference is cheap next to eval, and this path only builds lookup tables (lowering).
Result<std::vector<Tensor>> eval_node(const Node& node, const std::vector<const Tensor*>& inputs) {
  const OpDef& def = op_def(node.op);
  std::vector<TensorInfo> infos;
  for (const Tensor* t : inputs) infos.push_back(tensor_info_of(t));
  InferCtx ictx(node, infos);
  QMAP_RETURN_IF_ERROR(def.infer(ictx));
  std::vector<Tensor> outs(ictx.outputs().size());
  QMAP_RETURN_IF_ERROR(eval_node_into(node, inputs, outs));
  return outs;
}

Status resolve_custom_ops(IntProgram& p, const CustomOpSet& ops, const std::string& name) {
  for (size_t si = 0; si < p.steps.size(); ++si) {
    const Step& step = p.steps[si];
    if (step.op != OpId::Custom) continue;
    GenericParams& s = p.steps[si].as<GenericParams>();
    const std::string expected = s.custom_library.empty() ? std::string("the plugin that defines it") : "'" + s.custom_library + "'";
    auto op = ops.find(s.domain, step.op_type);
    if (!op)
      return error("runtime: '{}': step {} '{}' needs custom op {}.{} version {}, which no loaded plugin provides: load "
                   "{} (LoadOptions::custom_op_libs, --custom-op-lib){}",
                   name, si, step.node, s.domain, step.op_type, s.custom_version, expected,
                   ops.libraries().empty() ? "" : fmt::format("; loaded: {}", fmt::join(ops.libraries(), ", ")));
    if (op->version != s.custom_version)
      return error("runtime: '{}': step {} '{}' needs custom op {}.{} version {}, but '{}' provides version {}: load "
                   "the plugin version the model was built with ({})",
                   name, si, step.node, s.domain, step.op_type, s.custom_version, op->library, op->version, expected);
    s.custom = std::move(op);
  }
  return ok_status();
}

}  // namespace qmap
