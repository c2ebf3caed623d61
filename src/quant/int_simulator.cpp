// IntSimulator: executes an IntProgram with the reference kernels (see int_simulator.h).
#include "quant/int_simulator.h"

#include <algorithm>

#include "quant/lower.h"

namespace qmap {

namespace kr = kernels::ref;

namespace {

kr::Q8In q8_in(const Tensor& t) {
  QMAP_CHECK(t.dtype() == DType::kInt8 || t.dtype() == DType::kUInt8, "8-bit tensor expected, got {}",
             dtype_name(t.dtype()));
  return {t.raw(), t.dtype() == DType::kInt8};
}
kr::Q8Out q8_out(Tensor& t) { return {t.raw(), t.dtype() == DType::kInt8}; }

// The float value of a computed tensor (for all_values): 8-bit tensors with a quantization
// are dequantized; everything else is returned as is.
Tensor as_float(const ProgramTensor& pt, const Tensor& t) {
  if (!pt.quant || !t.defined() || (t.dtype() != DType::kInt8 && t.dtype() != DType::kUInt8)) return t;
  Tensor f = Tensor::uninitialized(DType::kFloat32, t.dims());
  kr::dequantize(q8_in(t), t.numel(), pt.quant->scale, pt.quant->zero_point, f.data<float>().data());
  return f;
}

}  // namespace

Result<IntSimulator> IntSimulator::create(const Graph& qdq_graph, bool keep_all_values) {
  QMAP_ASSIGN_OR_RETURN(IntProgram prog, lower_qdq_graph(qdq_graph));
  IntSimulator sim;
  sim.program_ = std::move(prog);
  sim.keep_all_ = keep_all_values;
  const IntProgram& p = sim.program_;
  sim.last_use_.assign(p.tensors.size(), -1);
  for (size_t si = 0; si < p.steps.size(); ++si) {
    const Step& s = p.steps[si];
    for (int32_t t : s.inputs)
      if (t >= 0) sim.last_use_[static_cast<size_t>(t)] = static_cast<int32_t>(si);
    Node n;
    n.name = s.node;
    n.op = s.op;
    n.op_type = s.op_type;
    n.attrs = s.attrs;
    sim.step_nodes_.push_back(std::move(n));
  }
  for (int32_t t : p.outputs) sim.last_use_[static_cast<size_t>(t)] = static_cast<int32_t>(p.steps.size());
  return sim;
}

Status IntSimulator::run_step(size_t si, std::vector<Tensor>& vals) const {
  const Step& s = program_.steps[si];
  const auto& T = program_.tensors;
  auto in = [&](size_t i) -> const Tensor& { return vals[static_cast<size_t>(s.inputs[i])]; };
  auto qin = [&](size_t i) -> const TensorQuant& { return *T[static_cast<size_t>(s.inputs[i])].quant; };
  const ProgramTensor& out_t = T[static_cast<size_t>(s.outputs[0])];
  auto alloc_out = [&]() -> Tensor& {
    Tensor& y = vals[static_cast<size_t>(s.outputs[0])];
    y = Tensor::uninitialized(out_t.dtype, out_t.dims);
    return y;
  };
  const TensorQuant qy = out_t.quant.value_or(TensorQuant{});
  switch (s.kind) {
    case StepKind::kQuantize: {
      Tensor& y = alloc_out();
      kr::quantize(in(0).data<float>(), qy.scale, qy.zero_point, q8_out(y));
      break;
    }
    case StepKind::kDequantize: {
      Tensor& y = alloc_out();
      kr::dequantize(q8_in(in(0)), in(0).numel(), qin(0).scale, qin(0).zero_point, y.data<float>().data());
      break;
    }
    case StepKind::kConv: {
      Tensor& y = alloc_out();
      kr::qconv2d(s.conv, q8_in(in(0)), qin(0).zero_point, s.weights, s.bias, s.multipliers, qy.zero_point, s.lo,
                  s.hi, q8_out(y));
      break;
    }
    case StepKind::kConvFloatOut: {
      Tensor& y = alloc_out();
      float* yp = y.data<float>().data();
      kr::qconv2d_float_out(s.conv, q8_in(in(0)), qin(0).zero_point, s.weights, s.bias, s.acc_scales, yp);
      // The fused Relu/Clip, in float (the output is not requantized).
      for (int64_t i = 0; i < y.numel(); ++i) yp[i] = std::min(std::max(yp[i], s.float_min), s.float_max);
      break;
    }
    case StepKind::kAdd: {
      Tensor& y = alloc_out();
      kr::qadd(s.binary, q8_in(in(0)), qin(0).zero_point, s.multipliers[0], q8_in(in(1)), qin(1).zero_point,
               s.multipliers[1], qy.zero_point, s.lo, s.hi, q8_out(y));
      break;
    }
    case StepKind::kMul: {
      Tensor& y = alloc_out();
      kr::qmul(s.binary, q8_in(in(0)), qin(0).zero_point, q8_in(in(1)), qin(1).zero_point, s.multipliers[0],
               qy.zero_point, s.lo, s.hi, q8_out(y));
      break;
    }
    case StepKind::kLut: {
      Tensor& y = alloc_out();
      kr::lut8(q8_in(in(0)), in(0).numel(), s.table, q8_out(y));
      break;
    }
    case StepKind::kMaxPool: {
      Tensor& y = alloc_out();
      kr::qmaxpool2d(s.pool, q8_in(in(0)), q8_out(y));
      break;
    }
    case StepKind::kAvgPool: {
      Tensor& y = alloc_out();
      kr::qavgpool2d(s.pool, s.count_include_pad, q8_in(in(0)), qin(0).zero_point, s.multipliers, qy.zero_point,
                     s.lo, s.hi, q8_out(y));
      break;
    }
    case StepKind::kConcat: {
      std::vector<kr::ConcatInput> parts;
      for (size_t i = 0; i < s.inputs.size(); ++i)
        parts.push_back({q8_in(in(i)), s.concat_blocks[i], s.concat_requant[i] != 0, qin(i).zero_point,
                         s.multipliers[i]});
      Tensor& y = alloc_out();
      kr::qconcat(parts, s.concat_outer, qy.zero_point, q8_out(y));
      break;
    }
    case StepKind::kMove:
    case StepKind::kFloat: {
      std::vector<const Tensor*> ins;
      for (int32_t t : s.inputs) ins.push_back(t < 0 ? nullptr : &vals[static_cast<size_t>(t)]);
      QMAP_ASSIGN_OR_RETURN(auto outs, eval_node(step_nodes_[si], ins));
      for (size_t i = 0; i < s.outputs.size(); ++i)
        if (s.outputs[i] >= 0) vals[static_cast<size_t>(s.outputs[i])] = std::move(outs[i]);
      break;
    }
  }
  return ok_status();
}

Result<std::vector<Tensor>> IntSimulator::run(const std::vector<Tensor>& inputs) {
  const IntProgram& p = program_;
  if (inputs.size() != p.inputs.size())
    return error("int simulator: got {} inputs, the model has {}", inputs.size(), p.inputs.size());
  std::vector<Tensor> vals(p.tensors.size());
  for (size_t i = 0; i < p.tensors.size(); ++i)
    if (p.tensors[i].constant) vals[i] = *p.tensors[i].constant;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ProgramTensor& pt = p.tensors[static_cast<size_t>(p.inputs[i])];
    if (inputs[i].dtype() != pt.dtype || inputs[i].dims() != pt.dims)
      return error("int simulator: input '{}' is {} {}: the model expects {} {}", pt.name,
                   dtype_name(inputs[i].dtype()), dims_str(inputs[i].dims()), dtype_name(pt.dtype), dims_str(pt.dims));
    vals[static_cast<size_t>(p.inputs[i])] = inputs[i];
  }
  for (size_t si = 0; si < p.steps.size(); ++si) {
    QMAP_RETURN_IF_ERROR(run_step(si, vals).with_context("int simulator: "));
    if (keep_all_) continue;
    for (int32_t t : p.steps[si].inputs)
      if (t >= 0 && last_use_[static_cast<size_t>(t)] == static_cast<int32_t>(si) && !p.tensors[static_cast<size_t>(t)].constant)
        vals[static_cast<size_t>(t)] = Tensor();
  }
  all_values_.clear();
  raw_values_.clear();
  if (keep_all_) {
    for (size_t i = 0; i < p.tensors.size(); ++i)
      if (!p.tensors[i].constant && vals[i].defined()) all_values_[p.tensors[i].name] = as_float(p.tensors[i], vals[i]);
    for (const auto& [name, t] : p.aliases)
      all_values_[name] = as_float(p.tensors[static_cast<size_t>(t)], vals[static_cast<size_t>(t)]);
    raw_values_ = vals;
  }
  std::vector<Tensor> out;
  for (int32_t t : p.outputs) out.push_back(vals[static_cast<size_t>(t)]);
  return out;
}

}  // namespace qmap
