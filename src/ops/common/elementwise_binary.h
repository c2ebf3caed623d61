// Shared pieces of the elementwise family: dtype dispatch, the broadcast binary kernel
// (Add/Sub/Mul/Div, PRelu) and the NPU `broadcast` classification.
//
// Broadcasting follows ONNX multidirectional (numpy) rules: shapes are right-aligned and
// each dimension must match or be 1. The kernel collapses the output shape into runs of
// dimensions that share the same broadcast pattern, so the innermost loop is a plain
// contiguous loop with each operand's stride 0 or 1 (elements).
#pragma once

#include <cstdint>
#include <limits>
#include <type_traits>

#include "ops/common/helpers.h"

namespace qmap::ops {

// Calls f(T{}) with T the C++ type of `t`, for the arithmetic dtypes of this family
// (float32, int32, int64, uint8, int8). Returns false for any other dtype.
template <typename F>
bool dispatch_arith(DType t, F&& f) {
  switch (t) {
    case DType::kFloat32: f(float{}); return true;
    case DType::kInt32: f(int32_t{}); return true;
    case DType::kInt64: f(int64_t{}); return true;
    case DType::kUInt8: f(uint8_t{}); return true;
    case DType::kInt8: f(int8_t{}); return true;
    default: return false;
  }
}

// The collapsed iteration space of y = f(a, b) with a and b broadcast to y's shape.
struct BroadcastPlan {
  Dims shape;     // collapsed output dims; never empty (a scalar is {1})
  Dims a_stride;  // per collapsed dim, elements; 0 where a is broadcast
  Dims b_stride;
};

// `out` must be broadcast_dims(a, b) (or a for unidirectional broadcasting of b into a).
BroadcastPlan make_broadcast_plan(const Dims& a, const Dims& b, const Dims& out);

// y[i] = f(a[ia], b[ib]) over the broadcast output (row-major). The innermost collapsed
// dimension runs as a contiguous loop specialised on the operands' strides (0 or 1).
template <typename TA, typename TB, typename TY, typename F>
void broadcast_apply(const TA* a, const Dims& a_dims, const TB* b, const Dims& b_dims, TY* y,
                     const Dims& y_dims, F f) {
  if (num_elements(y_dims) == 0) return;
  const BroadcastPlan p = make_broadcast_plan(a_dims, b_dims, y_dims);
  const size_t r = p.shape.size();
  const int64_t inner = p.shape[r - 1];
  const int64_t sa = p.a_stride[r - 1], sb = p.b_stride[r - 1];
  int64_t outer = 1;
  for (size_t d = 0; d + 1 < r; ++d) outer *= p.shape[d];
  std::vector<int64_t> idx(r, 0);
  int64_t ao = 0, bo = 0;
  for (int64_t o = 0; o < outer; ++o) {
    TY* yo = y + o * inner;
    const TA* ap = a + ao;
    const TB* bp = b + bo;
    if (sa == 1 && sb == 1) {
      for (int64_t i = 0; i < inner; ++i) yo[i] = f(ap[i], bp[i]);
    } else if (sa == 1) {
      const TB bv = *bp;
      for (int64_t i = 0; i < inner; ++i) yo[i] = f(ap[i], bv);
    } else {
      const TA av = *ap;
      for (int64_t i = 0; i < inner; ++i) yo[i] = f(av, bp[i]);
    }
    // Odometer over the outer collapsed dims.
    for (size_t d = r - 1; d-- > 0;) {
      ao += p.a_stride[d];
      bo += p.b_stride[d];
      if (++idx[d] < p.shape[d]) break;
      ao -= p.a_stride[d] * p.shape[d];
      bo -= p.b_stride[d] * p.shape[d];
      idx[d] = 0;
    }
  }
}

// Wrapping (two's complement) integer arithmetic, as ONNX Runtime's integer kernels behave
// on overflow; signed overflow in C++ is undefined, so compute in the unsigned type.
template <typename T>
T wrap_add(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) + static_cast<U>(b)));
}
template <typename T>
T wrap_sub(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return static_cast<T>(static_cast<U>(static_cast<U>(a) - static_cast<U>(b)));
}
template <typename T>
T wrap_mul(T a, T b) {
  // uint8/int8 promote to int (no overflow: |a*b| <= 2^16); int32/int64 multiply unsigned.
  if constexpr (sizeof(T) < sizeof(int)) {
    return static_cast<T>(static_cast<int>(a) * static_cast<int>(b));
  } else {
    using U = std::make_unsigned_t<T>;
    return static_cast<T>(static_cast<U>(a) * static_cast<U>(b));
  }
}
// Integer division truncating toward zero (C++ and ONNX Runtime); the caller guarantees
// b != 0. lowest / -1 wraps to lowest instead of trapping.
template <typename T>
T trunc_div(T a, T b) {
  if constexpr (std::is_signed_v<T>) {
    if (b == T(-1)) return wrap_sub(T(0), a);
  }
  return static_cast<T>(a / b);
}

// infer for a binary op whose inputs share one dtype among `allowed` and broadcast
// multidirectionally; the output has that dtype and the broadcast shape.
Status infer_broadcast_binary(InferCtx& ctx, std::initializer_list<DType> allowed);

// NPU `broadcast` classification of operand `small` against output `out` (both known):
// "none" same shape, "scalar" one element, "channel" all ones except dim 1 == C
// (1xCx1x1 against NxCxHxW), "general" otherwise.
const char* broadcast_kind(const Dims& small, const Dims& out);

// npu_params for a two-input op: `broadcast` is the least regular of the two operands'
// kinds against the output ("none" < "scalar" < "channel" < "general").
void npu_params_broadcast(const InferCtx& ctx, std::span<const std::optional<Dims>> outputs,
                          OpParams& params);

}  // namespace qmap::ops

namespace qmap::ops {

// The dtypes Add/Sub/Mul/Div accept: float32 for models, integers for shape arithmetic
// (int32/int64) and for ONNX's uint8/int8 node tests.
Status infer_arith_binary(InferCtx& ctx);

// Evaluates y = f(a, b) with broadcasting for every dtype of dispatch_arith; `f` is a
// generic callable (auto a, auto b) returning the same type.
template <typename F>
Status eval_arith_binary(EvalCtx& ctx, F f) {
  const Tensor& a = ctx.in(0);
  const Tensor& b = ctx.in(1);
  Tensor& y = ctx.out(0);
  const bool known = dispatch_arith(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    broadcast_apply(a.data<T>().data(), a.dims(), b.data<T>().data(), b.dims(), y.data<T>().data(),
                    y.dims(), [&](T u, T v) -> T { return f(u, v); });
  });
  QMAP_CHECK(known, "dtype {} passed infer", dtype_name(a.dtype()));
  return ok_status();
}

// eval of an arithmetic op given a functor type with `template <class T> T operator()(T, T)`.
template <typename Fn>
Status eval_arith(EvalCtx& ctx) {
  return eval_arith_binary(ctx, Fn{});
}

}  // namespace qmap::ops
