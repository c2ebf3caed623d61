// IntSimulator: lower_qdq_graph + the runtime's Executor (see int_simulator.h).
#include "quant/int_simulator.h"

#include <cstring>

#include "kernels/ref/qelementwise.h"
#include "quant/lower.h"

namespace qmap {

namespace kr = kernels::ref;

Tensor program_value_as_float(const ProgramTensor& pt, const Tensor& t) {
  const DType d = t.defined() ? t.dtype() : DType::kUndefined;
  if (!pt.quant || (d != DType::kInt8 && d != DType::kUInt8 && d != DType::kInt16)) return t;
  Tensor f = Tensor::uninitialized(DType::kFloat32, t.dims());
  kr::dequantize({t.raw(), d != DType::kUInt8, d == DType::kInt16}, t.numel(), pt.quant->scale, pt.quant->zero_point,
                 f.data<float>().data());
  return f;
}

Status load_program_inputs(const IntProgram& p, rt::ExecState& st, const std::vector<Tensor>& inputs) {
  if (inputs.size() != p.inputs.size())
    return error("int simulator: got {} inputs, the model has {}", inputs.size(), p.inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const ProgramTensor& pt = p.tensors[static_cast<size_t>(p.inputs[i])];
    if (inputs[i].dtype() != pt.dtype || inputs[i].dims() != pt.dims)
      return error("int simulator: input '{}' is {} {}: the model expects {} {}", pt.name,
                   dtype_name(inputs[i].dtype()), dims_str(inputs[i].dims()), dtype_name(pt.dtype), dims_str(pt.dims));
    if (inputs[i].nbytes() > 0) std::memcpy(st.input(i).raw(), inputs[i].raw(), inputs[i].nbytes());
  }
  return ok_status();
}

Result<IntSimulator> IntSimulator::create(const Graph& qdq_graph, bool keep_all_values, kernels::Isa isa) {
  QMAP_ASSIGN_OR_RETURN(IntProgram prog, lower_qdq_graph(qdq_graph));
  auto ex = rt::Executor::prepare(std::move(prog), nullptr, isa);
  if (!ex.ok()) return ex.status().with_context("int simulator: ");
  IntSimulator sim;
  sim.executor_ = std::move(*ex);
  sim.state_ = sim.executor_->make_state(keep_all_values);
  return sim;
}

IntSimulator::IntSimulator(const IntSimulator& other)
    : executor_(other.executor_), all_values_(other.all_values_), raw_values_(other.raw_values_) {
  if (executor_) state_ = executor_->make_state(other.state_->keeps_all());
}

IntSimulator& IntSimulator::operator=(const IntSimulator& other) {
  if (this != &other) *this = IntSimulator(other);
  return *this;
}

Result<std::vector<Tensor>> IntSimulator::run(const std::vector<Tensor>& inputs) {
  const IntProgram& p = program();
  rt::ExecState& st = *state_;
  QMAP_RETURN_IF_ERROR(load_program_inputs(p, st, inputs));
  QMAP_RETURN_IF_ERROR(executor_->run(st).with_context("int simulator: "));
  all_values_.clear();
  raw_values_.clear();
  if (st.keeps_all()) {
    // Deep copies: the state's buffers are overwritten by the next run.
    for (size_t i = 0; i < p.tensors.size(); ++i) {
      const Tensor& t = st.tensor(i);
      raw_values_.push_back(!t.defined() ? Tensor() : p.tensors[i].constant ? t : t.clone());
    }
    for (size_t i = 0; i < p.tensors.size(); ++i)
      if (!p.tensors[i].constant && raw_values_[i].defined()) all_values_[p.tensors[i].name] = program_value_as_float(p.tensors[i], raw_values_[i]);
    for (const auto& [name, t] : p.aliases)
      all_values_[name] = program_value_as_float(p.tensors[static_cast<size_t>(t)], raw_values_[static_cast<size_t>(t)]);
  }
  std::vector<Tensor> out;
  for (int32_t t : p.outputs) out.push_back(st.tensor(static_cast<size_t>(t)).clone());
  return out;
}

}  // namespace qmap
