// Shared by ReduceMean and ReduceMax (ONNX Reduce*-13 form, valid through opset 17): the
// `axes` attribute (default: all axes; an empty list also means all) and `keepdims`.
#pragma once

#include <algorithm>
#include <span>

#include "ops/common/helpers.h"

namespace qmap::ops {

// The AttrSpec list of the Reduce* ops (constexpr so each op's kDef is constant-initialized).
inline constexpr AttrSpec kReduceAttrs[] = {
    {"axes", AttrType::kInts, "all axes", "axes to reduce; negative counts from the back"},
    {"keepdims", AttrType::kInt, "1", "1: keep reduced axes as size 1; 0: drop them"},
};

// infer for Reduce*: checks the dtype against `allowed`, the axes, and sets the output.
Status infer_reduce(InferCtx& ctx, std::initializer_list<DType> allowed);

// The input dims with every reduced axis set to 1 (the keepdims=1 output shape).
Dims reduce_keepdims_shape(const Node& node, const Dims& in);

// npu_params for Reduce*: `axis` = the reduced axes, normalized.
void reduce_npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>> outputs, OpParams& params);

// Runs a reduction of input 0 into output 0 (same dtype T). `acc` holds one Acc per output
// element, initialized to `init`; step(acc, x) folds one input element in, in input order;
// finish(acc, count) gives the output element (count = elements reduced into it).
template <typename T, typename Acc, typename Step, typename Finish>
void reduce_eval(EvalCtx& ctx, Acc init, Step step, Finish finish) {
  const Tensor& x = ctx.in(0);
  Tensor& y = ctx.out(0);
  const Dims keep = reduce_keepdims_shape(ctx.node, x.dims());
  std::vector<Acc> acc(static_cast<size_t>(num_elements(keep)), init);
  auto xs = x.data<T>();
  // The reduced axes one contiguous run (a global pool's H, W): the input is [outer][r][inner],
  // and plain loops fold each output's elements in the same input order as the general
  // indexer below, so the result is the same bit for bit. A global pool (inner 1) folds 8
  // outputs side by side: one output's chain of dependent adds is latency-bound.
  const Dims& d = x.dims();
  size_t first = d.size(), last = 0;
  for (size_t a = 0; a < d.size(); ++a)
    if (keep[a] != d[a]) first = std::min(first, a), last = a;
  bool contiguous = first <= last;
  for (size_t a = first; contiguous && a <= last; ++a) contiguous = keep[a] == 1;
  if (contiguous) {
    int64_t outer = 1, r = 1, inner = 1;
    for (size_t a = 0; a < d.size(); ++a) (a < first ? outer : a <= last ? r : inner) *= d[a];
    const T* p = xs.data();
    int64_t o = 0;
    if (inner == 1) {  // 8 outputs at a time: 8 independent add chains instead of one
      constexpr int64_t kLanes = 8;
      for (; o + kLanes <= outer; o += kLanes) {
        Acc a[kLanes];
        for (int64_t j = 0; j < kLanes; ++j) a[j] = acc[static_cast<size_t>(o + j)];
        for (int64_t k = 0; k < r; ++k)
          for (int64_t j = 0; j < kLanes; ++j) step(a[j], p[j * r + k]);
        for (int64_t j = 0; j < kLanes; ++j) acc[static_cast<size_t>(o + j)] = a[j];
        p += kLanes * r;
      }
    }
    for (; o < outer; ++o) {
      Acc* ao = acc.data() + o * inner;
      for (int64_t k = 0; k < r; ++k, p += inner)
        for (int64_t i = 0; i < inner; ++i) step(ao[i], p[i]);
    }
  } else {
    BroadcastIndexer(keep, x.dims()).for_each([&](int64_t in_i, int64_t out_i) {
      step(acc[static_cast<size_t>(out_i)], xs[static_cast<size_t>(in_i)]);
    });
  }
  const int64_t count = acc.empty() ? 0 : x.numel() / static_cast<int64_t>(acc.size());
  auto ys = y.data<T>();
  for (size_t i = 0; i < acc.size(); ++i) ys[i] = finish(acc[i], count);
}

}  // namespace qmap::ops
