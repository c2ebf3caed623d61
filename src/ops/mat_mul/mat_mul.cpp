// MatMul (ONNX MatMul-13): numpy matmul. 1-D operands are promoted (A to 1 x K, B to K x 1)
// and the added axis removed from the result; leading (batch) axes broadcast. Float32, sgemm.
#include "ops/common/conv_pool_matrix.h"
#include "ops/common/helpers.h"
#include "ops/common/int8_rules.h"

namespace qmap::ops::mat_mul {

namespace {

// Batch dims, M, K (from A) and K, N (from B) after 1-D promotion, and the output shape.
struct Shapes {
  Dims a_batch, b_batch, y_batch;
  int64_t m, k, kb, n;
  Dims y;
};

std::optional<Shapes> shapes(const Dims& a, const Dims& b) {
  Shapes s;
  const bool a1 = a.size() == 1, b1 = b.size() == 1;
  s.m = a1 ? 1 : a[a.size() - 2];
  s.k = a.back();
  s.kb = b1 ? b[0] : b[b.size() - 2];
  s.n = b1 ? 1 : b.back();
  s.a_batch.assign(a.begin(), a.end() - (a1 ? 1 : 2));
  s.b_batch.assign(b.begin(), b.end() - (b1 ? 1 : 2));
  auto yb = broadcast_dims(s.a_batch, s.b_batch);
  if (!yb) return std::nullopt;
  s.y_batch = *yb;
  s.y = s.y_batch;
  if (!a1) s.y.push_back(s.m);
  if (!b1) s.y.push_back(s.n);
  return s;
}

Status infer(InferCtx& ctx) {
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 0, {DType::kFloat32}));
  QMAP_RETURN_IF_ERROR(expect_dtype(ctx, 1, {DType::kFloat32}));
  if (!ctx.dims_known(0) || !ctx.dims_known(1)) {
    ctx.set_output(0, DType::kFloat32, std::nullopt);
    return ok_status();
  }
  const Dims &a = ctx.dims(0), &b = ctx.dims(1);
  if (a.empty() || b.empty())
    return ctx.error("A has shape {} and B has shape {}: scalars are not allowed (rank >= 1)",
                     dims_str(a), dims_str(b));
  auto s = shapes(a, b);
  if (!s)
    return ctx.error("batch dimensions of A {} and B {} do not broadcast", dims_str(a), dims_str(b));
  if (s->k != s->kb)
    return ctx.error("inner dimensions differ: A {} has K = {}, B {} has K = {}", dims_str(a), s->k,
                     dims_str(b), s->kb);
  ctx.set_output(0, DType::kFloat32, s->y);
  return ok_status();
}

Status eval(EvalCtx& ctx) {
  const Shapes s = *shapes(ctx.in(0).dims(), ctx.in(1).dims());
  const float* a = ctx.in(0).data<float>().data();
  const float* b = ctx.in(1).data<float>().data();
  float* y = ctx.out(0).data<float>().data();
  const int64_t batches = num_elements(s.y_batch);
  if (batches == 0 || ctx.out(0).numel() == 0) return ok_status();
  if (num_elements(s.b_batch) == 1 && s.a_batch == s.y_batch) {
    // One B for every batch (the fully-connected case): A's batches are consecutive rows of
    // a single (batches*M) x K matrix, so one GEMM does it all.
    ctx.sgemm(false, false, batches * s.m, s.n, s.k, 1.f, a, s.k, b, s.n, 0.f, y, s.n);
    return ok_status();
  }
  // Per output batch, the offsets of its A and B matrices (broadcast axes repeat).
  std::vector<int64_t> a_off(static_cast<size_t>(batches)), b_off(static_cast<size_t>(batches));
  BroadcastIndexer(s.a_batch, s.y_batch).for_each([&](int64_t o, int64_t i) {
    a_off[static_cast<size_t>(o)] = i * s.m * s.k;
  });
  BroadcastIndexer(s.b_batch, s.y_batch).for_each([&](int64_t o, int64_t i) {
    b_off[static_cast<size_t>(o)] = i * s.k * s.n;
  });
  for (int64_t i = 0; i < batches; ++i)
    ctx.sgemm(false, false, s.m, s.n, s.k, 1.f, a + a_off[static_cast<size_t>(i)], s.k,
              b + b_off[static_cast<size_t>(i)], s.n, 0.f, y + i * s.m * s.n, s.n);
  return ok_status();
}

void npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>>, OpParams& params) {
  if (!ctx.dims_known(0) || !ctx.dims_known(1) || ctx.rank(0) < 1 || ctx.rank(1) < 1) return;
  auto s = shapes(ctx.dims(0), ctx.dims(1));
  if (s) matrix_npu_params(s->k, s->n, ctx.value(1) != nullptr, params);
}

}  // namespace

extern const OpDef kDef = {
    .name = "MatMul",
    .summary = "Matrix product with numpy semantics (1-D operands, batch broadcasting).",
    .min_inputs = 2, .max_inputs = 2, .min_outputs = 1, .max_outputs = 1,
    .attrs = {},
    .infer = infer,
    .eval = eval,
    .npu_params = npu_params,
    .quant_rule = quant_rule_weighted,
    .lowering = Int8Lowering::kMatMulLike,
    // Sums of products of non-negative numbers (a preprocess node's scaling of uint8 pixels).
    .output_non_negative = non_negative_as_all_inputs,
};

}  // namespace qmap::ops::mat_mul
