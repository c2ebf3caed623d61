// Single-precision GEMM behind Conv, ConvTranspose, Gemm and MatMul. Row-major:
// C[m x n] = alpha * op(A)[m x k] * op(B)[k x n] + beta * C, leading dimensions in elements;
// beta = 0 does not read C (it may hold garbage), as in BLAS.
//
// Two implementations with one signature, chosen by the caller (EvalCtx::sgemm, ops/op_def.h):
//   sgemm_portable (this header; sgemm.cpp): plain C++ loops, no BLAS, one thread. The runtime
//     library's float (CPU) steps use it, and so does the integer simulator, which runs the same
//     executor code path, so the two agree bit for bit. Each C element is one float sum over p
//     ascending from 0, then alpha * sum + beta * C: the result does not depend on the blocking.
//   sgemm_blas (sgemm_blas.h; toolchain only, qmap_ir): OpenBLAS's cblas_sgemm, for the float
//     engine (calibration, constant folding, comparisons), where the float graphs are heavy.
// The two round differently (summation order): compare them with a tolerance, never bitwise.
#pragma once

#include <cstdint>

namespace qmap::kernels::f32 {

using SgemmFn = void (*)(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                         int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

void sgemm_portable(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                    int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace qmap::kernels::f32
