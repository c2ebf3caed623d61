#include "ops/op_def.h"

namespace qmap {

TensorInfo tensor_info_of(const Tensor* t) {
  TensorInfo ti;
  if (t != nullptr) {
    ti.present = true;
    ti.dtype = t->dtype();
    ti.dims = t->dims();
    ti.value = t;
  }
  return ti;
}

std::vector<TensorInfo> input_infos(const Graph& g, const Node& n) {
  std::vector<TensorInfo> infos;
  infos.reserve(n.inputs.size());
  for (ValueId id : n.inputs) {
    TensorInfo ti;
    if (id != kNoValue) {
      const Value& v = g.value(id);
      ti.present = true;
      ti.dtype = v.dtype;
      ti.dims = v.dims;
      ti.value = v.constant ? &*v.constant : nullptr;
    }
    infos.push_back(ti);
  }
  return infos;
}

void InferCtx::set_output(int i, DType dtype, std::optional<Dims> dims) {
  if (static_cast<int>(outputs_.size()) <= i) outputs_.resize(static_cast<size_t>(i) + 1);
  outputs_[static_cast<size_t>(i)].dtype = dtype;
  outputs_[static_cast<size_t>(i)].dims = std::move(dims);
}

void InferCtx::set_output_value(int i, Tensor value) {
  set_output(i, value.dtype(), value.dims());
  outputs_[static_cast<size_t>(i)].value = std::move(value);
}

}  // namespace qmap
