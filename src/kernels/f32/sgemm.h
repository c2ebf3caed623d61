// Single-precision GEMM behind Conv, ConvTranspose, Gemm and MatMul: a thin wrapper over
// OpenBLAS's cblas_sgemm so that only this file includes cblas.h. Row-major:
// C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C, leading dimensions in elements.
// Thread count is the engine's business (OpenBLAS's own setting), not this wrapper's.
#pragma once

#include <cstdint>

namespace qmap::kernels::f32 {

void sgemm(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha,
           const float* a, int64_t lda, const float* b, int64_t ldb, float beta, float* c,
           int64_t ldc);

}  // namespace qmap::kernels::f32
