// Shared by Gemm and MatMul: the target-limitable parameters of a matrix product.
#pragma once

#include "ops/op_def.h"

namespace qmap::ops {

// in_channels = K (the reduced dimension), out_channels = N, and weights_constant {0|1}:
// whether the right-hand operand is a known constant (an NPU runs a product against
// constant weights as a fully-connected layer; activation x activation products are
// often unsupported).
inline void matrix_npu_params(int64_t k, int64_t n, bool weights_constant, OpParams& params) {
  params.push_back({"in_channels", {k}, ""});
  params.push_back({"out_channels", {n}, ""});
  params.push_back({"weights_constant", {weights_constant ? 1 : 0}, ""});
}

}  // namespace qmap::ops
