// Helpers shared by op definitions: axis normalization, broadcasting, unary elementwise.
#pragma once

#include <cmath>
#include <optional>

#include "ops/op_def.h"

namespace qmap::ops {

// Maps a possibly negative axis into [0, rank); errors name the node and the rule.
Result<int> normalize_axis(const InferCtx& ctx, const char* what, int64_t axis, int rank);

// ONNX multidirectional (numpy) broadcasting of two shapes; nullopt if incompatible.
std::optional<Dims> broadcast_dims(const Dims& a, const Dims& b);

// Requires input `i` to have one of the listed dtypes.
Status expect_dtype(const InferCtx& ctx, int i, std::initializer_list<DType> allowed);

// infer for ops whose single output has the dtype and shape of input 0 (float only).
Status infer_unary_float(InferCtx& ctx);

// Applies f element by element from input 0 (float32) to output 0.
template <typename F>
Status eval_unary_float(EvalCtx& ctx, F f) {
  auto x = ctx.in(0).data<float>();
  auto y = ctx.out(0).data<float>();
  for (size_t i = 0; i < x.size(); ++i) y[i] = f(x[i]);
  return ok_status();
}

// Row-major strides of dims (elements).
Dims strides_of(const Dims& dims);

// Index mapping for a broadcast binary op: for each output element, the flat index into
// an input of shape `in` (right-aligned against `out`).
class BroadcastIndexer {
 public:
  BroadcastIndexer(const Dims& in, const Dims& out);
  // Calls f(out_index, in_index) for every output element, in order.
  template <typename F>
  void for_each(F f) const {
    const int64_t n = num_elements(out_);
    if (n == 0) return;
    if (same_) {
      for (int64_t i = 0; i < n; ++i) f(i, i);
      return;
    }
    const size_t r = out_.size();
    std::vector<int64_t> idx(r, 0);
    int64_t in_off = 0;
    for (int64_t o = 0; o < n; ++o) {
      f(o, in_off);
      for (size_t d = r; d-- > 0;) {
        ++idx[d];
        in_off += in_stride_[d];
        if (idx[d] < out_[d]) break;
        in_off -= in_stride_[d] * out_[d];
        idx[d] = 0;
      }
    }
  }

 private:
  Dims out_;
  Dims in_stride_;  // 0 on broadcast dimensions
  bool same_ = false;
};

}  // namespace qmap::ops
