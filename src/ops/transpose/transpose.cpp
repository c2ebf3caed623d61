// Transpose (ONNX Transpose-13): output dim i is input dim perm[i]; perm defaults to the
// reversed axes. Every IR dtype (elements moved by dtype_size).
#include <cstring>

#include "ops/common/helpers.h"
#include "ops/common/tensor_args.h"

namespace qmap::ops::transpose {

static const AttrSpec kAttrs[] = {
    {"perm", AttrType::kInts, "reversed axes", "output axis i takes input axis perm[i]"},
};

static std::vector<int64_t> perm_of(const Node& n, size_t rank) {
  std::vector<int64_t> rev;
  for (size_t i = rank; i-- > 0;) rev.push_back(static_cast<int64_t>(i));
  return attr_ints(n, "perm", rev);
}

static Status infer(InferCtx& ctx) {
  const DType dt = ctx.dtype(0);
  if (!ctx.dims_known(0)) return set_unknown_output(ctx, dt);
  const Dims& in = ctx.dims(0);
  const auto perm = perm_of(ctx.node(), in.size());
  if (perm.size() != in.size())
    return ctx.error("perm [{}] has {} entries for a rank-{} input: must list every axis once", fmt::join(perm, ","),
                     perm.size(), in.size());
  std::vector<bool> seen(in.size(), false);
  Dims out;
  for (int64_t p : perm) {
    if (p < 0 || p >= static_cast<int64_t>(in.size()) || seen[static_cast<size_t>(p)])
      return ctx.error("perm [{}] is not a permutation of 0..{}: must list every axis once", fmt::join(perm, ","),
                       static_cast<int64_t>(in.size()) - 1);
    seen[static_cast<size_t>(p)] = true;
    out.push_back(in[static_cast<size_t>(p)]);
  }
  ctx.set_output(0, dt, out);
  return ok_status();
}

// out[i0..ir] = in[...] walking the output in order; the input offset advances by the
// permuted input strides (elements). Innermost run is memcpy'd when it is contiguous, else
// gathered element by element as the element type T (one typed load and store per element:
// the runtime's NHWC -> NCHW of a 224x224 uint8 image input took 305 us with a memcpy call
// per element, a tenth of MobileNetV2's run).
template <typename T>
static void transpose_typed(const T* s, T* d, const Dims& out, const Dims& st, int64_t n_outer) {
  const size_t r = out.size();
  const int64_t inner = out[r - 1];
  const int64_t inner_stride = st[r - 1];
  std::vector<int64_t> idx(r - 1, 0);
  int64_t off = 0;
  for (int64_t o = 0; o < n_outer; ++o) {
    if (inner_stride == 1) {
      std::memcpy(d, s + off, static_cast<size_t>(inner) * sizeof(T));
    } else {
      const T* src = s + off;
      for (int64_t j = 0; j < inner; ++j) d[j] = src[j * inner_stride];
    }
    d += inner;
    for (size_t a = r - 1; a-- > 0;) {
      off += st[a];
      if (++idx[a] < out[a]) break;
      off -= st[a] * out[a];
      idx[a] = 0;
    }
  }
}

static Status eval(EvalCtx& ctx) {
  const Tensor& x = ctx.in(0);
  Tensor& y = ctx.out(0);
  const size_t r = x.dims().size();
  const auto perm = perm_of(ctx.node, r);
  const size_t esize = dtype_size(x.dtype());
  if (y.numel() == 0) return ok_status();
  if (r == 0) {
    std::memcpy(y.raw(), x.raw(), esize);
    return ok_status();
  }
  const Dims in_strides = strides_of(x.dims());
  Dims st(r);
  for (size_t i = 0; i < r; ++i) st[i] = in_strides[static_cast<size_t>(perm[i])];
  const int64_t n_outer = y.numel() / y.dims()[r - 1];
  auto run = [&]<typename T>() {
    transpose_typed(reinterpret_cast<const T*>(x.raw()), reinterpret_cast<T*>(y.raw()), y.dims(), st, n_outer);
  };
  switch (esize) {
    case 1: run.template operator()<uint8_t>(); break;
    case 2: run.template operator()<uint16_t>(); break;
    case 4: run.template operator()<uint32_t>(); break;
    case 8: run.template operator()<uint64_t>(); break;
    default: return error("Transpose '{}': element size {} bytes is not 1, 2, 4 or 8", ctx.node.name, esize);
  }
  return ok_status();
}

// Targets limit which permutations the NPU can do (e.g. only NCHW<->NHWC).
static void npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>> outputs,
                       OpParams& params) {
  if (!ctx.dims_known(0)) return;
  params.push_back({"perm", perm_of(ctx.node(), ctx.dims(0).size()), ""});
}

extern const OpDef kDef = {
    .name = "Transpose",
    .summary = "Permutes the axes of a tensor.",
    .min_inputs = 1, .max_inputs = 1, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .npu_params = npu_params,
    .quant_rule = quant_always<QuantKind::kPassThrough>,
    .lowering = Int8Lowering::kMove,
    .output_non_negative = non_negative_as_input0,
};

}  // namespace qmap::ops::transpose
