// IntProgram helpers: step names and statistics.
#include "program/int_program.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ops/custom/custom_op.h"

namespace qmap {

const char* step_kind_name(StepKind k) {
  switch (k) {
    case StepKind::kQuantize: return "quantize";
    case StepKind::kDequantize: return "dequantize";
    case StepKind::kConv: return "conv";
    case StepKind::kConvFloatOut: return "conv_float_out";
    case StepKind::kAdd: return "add";
    case StepKind::kMul: return "mul";
    case StepKind::kLut: return "lut";
    case StepKind::kMaxPool: return "maxpool";
    case StepKind::kAvgPool: return "avgpool";
    case StepKind::kConcat: return "concat";
    case StepKind::kMove: return "move";
    case StepKind::kFloat: return "float";
  }
  return "?";
}

kernels::QConvParams conv_kernel_params(const IntProgram& p, const Step& s) {
  const ProgramTensor& x = p.tensors[static_cast<size_t>(s.inputs[0])];
  const ProgramTensor& y = p.tensors[static_cast<size_t>(s.outputs[0])];
  kernels::QConvParams k;
  k.g = s.conv;
  k.x_signed = x.dtype == DType::kInt8;
  k.zx = x.quant->zero_point;
  k.weights = s.weights;
  k.bias = s.bias;
  k.float_out = s.kind == StepKind::kConvFloatOut;
  if (k.float_out) {
    k.acc_scale = s.acc_scales;
    k.float_min = s.float_min;
    k.float_max = s.float_max;
  } else {
    k.y_signed = y.dtype == DType::kInt8;
    k.mult = s.multipliers;
    k.zy = y.quant->zero_point;
    k.lo = s.lo;
    k.hi = s.hi;
  }
  return k;
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
    std::vector<std::string> extra;
    if (s.kind == StepKind::kMove || s.kind == StepKind::kFloat)
      extra.push_back(s.op == OpId::Custom ? fmt::format("custom {}.{} v{}", s.domain, s.op_type, s.custom_version)
                                           : s.op_type);
    if (s.lo != 0 || s.hi != 0) extra.push_back(fmt::format("lo {} hi {}", s.lo, s.hi));
    if (!s.multipliers.empty()) extra.push_back(fmt::format("{} multipliers", s.multipliers.size()));
    if (!s.weights.empty()) extra.push_back(fmt::format("weights {}", s.weights.size()));
    if (!s.bias.empty()) extra.push_back(fmt::format("bias {}", s.bias.size()));
    if (!s.table.empty()) extra.push_back("table 256");
    if (!extra.empty()) out += fmt::format(" [{}]", fmt::join(extra, ", "));
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
  EvalCtx ectx{node, inputs, widened.empty() ? outputs : std::span<Tensor>(widened)};
  ectx.sgemm = sgemm;
  QMAP_RETURN_IF_ERROR(def.eval(ectx));
  for (size_t i = 0; i < outputs.size() && !widened.empty(); ++i) outputs[i] = widened[i];
  // An eval that replaced an output Tensor (instead of writing into it) leaves the values in a
  // new buffer: copy them to the caller's memory.
  for (size_t i = 0; i < outputs.size(); ++i)
    if (outputs[i].raw() != buffers[i] && outputs[i].nbytes() > 0) std::memcpy(buffers[i], outputs[i].raw(), outputs[i].nbytes());
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
    Step& s = p.steps[si];
    if (s.op != OpId::Custom) continue;
    const std::string expected = s.custom_library.empty() ? std::string("the plugin that defines it") : "'" + s.custom_library + "'";
    auto op = ops.find(s.domain, s.op_type);
    if (!op)
      return error("runtime: '{}': step {} '{}' needs custom op {}.{} version {}, which no loaded plugin provides: load "
                   "{} (LoadOptions::custom_op_libs, --custom-op-lib){}",
                   name, si, s.node, s.domain, s.op_type, s.custom_version, expected,
                   ops.libraries().empty() ? "" : fmt::format("; loaded: {}", fmt::join(ops.libraries(), ", ")));
    if (op->version != s.custom_version)
      return error("runtime: '{}': step {} '{}' needs custom op {}.{} version {}, but '{}' provides version {}: load "
                   "the plugin version the model was built with ({})",
                   name, si, s.node, s.domain, s.op_type, s.custom_version, op->library, op->version, expected);
    s.custom = std::move(op);
  }
  return ok_status();
}

}  // namespace qmap
