#include "ops/op_def.h"

namespace qmap {

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
