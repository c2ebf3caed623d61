// Gemm (ONNX Gemm-13): Y = alpha * op(A) * op(B) + beta * C, op = optional transpose,
// A and B 2-D, C optional and unidirectionally broadcast to [M, N]. Float32, via sgemm.
#include "ops/common/conv_pool_matrix.h"
#include "ops/common/helpers.h"
#include "ops/common/int8_rules.h"

namespace qmap::ops::gemm {

namespace {

constexpr AttrSpec kAttrs[] = {
    {"alpha", AttrType::kFloat, "1.0", "multiplier of A * B"},
    {"beta", AttrType::kFloat, "1.0", "multiplier of C"},
    {"transA", AttrType::kInt, "0", "1: use A transposed (A is K x M)"},
    {"transB", AttrType::kInt, "0", "1: use B transposed (B is N x K)"},
};

struct Sizes {
  int64_t m, k, n;
};

Sizes sizes(const Node& node, const Dims& a, const Dims& b) {
  const bool ta = attr_int(node, "transA", 0) != 0, tb = attr_int(node, "transB", 0) != 0;
  return {ta ? a[1] : a[0], ta ? a[0] : a[1], tb ? b[0] : b[1]};
}

Status infer(InferCtx& ctx) {
  for (int i = 0; i < 3; ++i)
    if (ctx.has_input(i)) QMAP_RETURN_IF_ERROR(expect_dtype(ctx, i, {DType::kFloat32}));
  for (const char* t : {"transA", "transB"}) {
    const int64_t v = attr_int(ctx.node(), t, 0);
    if (v != 0 && v != 1) return ctx.error("{} {} must be 0 or 1", t, v);
  }
  if (!ctx.dims_known(0) || !ctx.dims_known(1)) {
    ctx.set_output(0, DType::kFloat32, std::nullopt);
    return ok_status();
  }
  if (ctx.rank(0) != 2 || ctx.rank(1) != 2)
    return ctx.error("A has shape {} and B has shape {}: both must be 2-D", dims_str(ctx.dims(0)),
                     dims_str(ctx.dims(1)));
  const Sizes s = sizes(ctx.node(), ctx.dims(0), ctx.dims(1));
  const int64_t kb = attr_int(ctx.node(), "transB", 0) ? ctx.dims(1)[1] : ctx.dims(1)[0];
  if (kb != s.k)
    return ctx.error("inner dimensions differ: op(A) is {}x{}, op(B) is {}x{}", s.m, s.k, kb, s.n);
  const Dims y{s.m, s.n};
  if (ctx.dims_known(2)) {
    const Dims& c = ctx.dims(2);
    // Unidirectional broadcasting: C must broadcast to Y without Y changing.
    auto b = broadcast_dims(c, y);
    if (c.size() > 2 || !b || *b != y)
      return ctx.error("C has shape {}: must be unidirectionally broadcastable to the output {}",
                       dims_str(c), dims_str(y));
  }
  ctx.set_output(0, DType::kFloat32, y);
  return ok_status();
}

Status eval(EvalCtx& ctx) {
  const Dims& ad = ctx.in(0).dims();
  const Sizes s = sizes(ctx.node, ad, ctx.in(1).dims());
  const bool ta = attr_int(ctx.node, "transA", 0) != 0, tb = attr_int(ctx.node, "transB", 0) != 0;
  const float alpha = attr_float(ctx.node, "alpha", 1.f), beta = attr_float(ctx.node, "beta", 1.f);
  auto y = ctx.out(0).data<float>();
  float gemm_beta = 0.f;
  if (ctx.has(2)) {
    // Y starts as beta * broadcast(C); sgemm then accumulates alpha * A * B into it.
    auto c = ctx.in(2).data<float>();
    BroadcastIndexer(ctx.in(2).dims(), ctx.out(0).dims())
        .for_each([&](int64_t o, int64_t i) { y[static_cast<size_t>(o)] = beta * c[static_cast<size_t>(i)]; });
    gemm_beta = 1.f;
  }
  ctx.sgemm(ta, tb, s.m, s.n, s.k, alpha, ctx.in(0).data<float>().data(), ad[1],
            ctx.in(1).data<float>().data(), ctx.in(1).dims()[1], gemm_beta, y.data(), s.n);
  return ok_status();
}

// Gemm-1..6 had a `broadcast` attribute (1: C broadcasts); Gemm-7 made unidirectional
// broadcasting the rule, which also covers broadcast = 0 (C already [M, N]). Drop it.
Status upgrade(Graph&, int64_t opset, std::vector<Node>& nodes) {
  if (opset < 7) nodes.front().attrs.erase("broadcast");
  return ok_status();
}

void npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>>, OpParams& params) {
  if (!ctx.dims_known(0) || !ctx.dims_known(1) || ctx.rank(0) != 2 || ctx.rank(1) != 2) return;
  const Sizes s = sizes(ctx.node(), ctx.dims(0), ctx.dims(1));
  matrix_npu_params(s.k, s.n, ctx.value(1) != nullptr, params);
}

}  // namespace

// Integer form: Y = A * B + C with constant 2-D B, C broadcast along N only, and no scaling
// or transposed A (the integer kernel computes exactly that product).
static QuantKind quant_rule(const Graph& g, const Node& n, std::string* why) {
  const Tensor* b = constant_input(g, n, 1);
  if (!b || b->rank() != 2) { *why = "Gemm with a non-constant or non-2-D B"; return QuantKind::kFloat; }
  if (attr_int(n, "transA", 0) != 0) { *why = "Gemm with transA=1"; return QuantKind::kFloat; }
  if (attr_float(n, "alpha", 1.f) != 1.f || (input_present(n, 2) && attr_float(n, "beta", 1.f) != 1.f)) {
    *why = "Gemm with alpha or beta other than 1";
    return QuantKind::kFloat;
  }
  if (input_present(n, 2)) {
    const Tensor* c = constant_input(g, n, 2);
    const int64_t cols = attr_int(n, "transB", 0) ? b->dims()[0] : b->dims()[1];
    const bool row = c && (c->numel() == 1 || (c->numel() == cols && c->dims().back() == cols));
    if (!row) { *why = "Gemm whose C is not a constant row of N biases"; return QuantKind::kFloat; }
  }
  return QuantKind::kWeighted;
}

// alpha * A * B + beta * C of non-negative A, B, C.
bool output_non_negative(const Graph&, const Node& n, const InputSigns& in) {
  return in.all_non_negative() && attr_float(n, "alpha", 1.f) >= 0.f && attr_float(n, "beta", 1.f) >= 0.f;
}

extern const OpDef kDef = {
    .name = "Gemm",
    .summary = "General matrix product Y = alpha * op(A) * op(B) + beta * C.",
    .min_inputs = 2, .max_inputs = 3, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .upgrade_onnx = upgrade,
    .npu_params = npu_params,
    .quant_rule = quant_rule,
    .lowering = Int8Lowering::kMatMulLike,
    .output_non_negative = output_non_negative,
};

}  // namespace qmap::ops::gemm
