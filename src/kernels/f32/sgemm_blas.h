// sgemm_blas: the OpenBLAS sgemm (kernels/f32/sgemm.h has the contract). Toolchain only: it is
// compiled into qmap_ir, never into the runtime library, which links no BLAS. Thread count is
// OpenBLAS's own setting, not this wrapper's.
#pragma once

#include "kernels/f32/sgemm.h"

namespace qmap::kernels::f32 {

void sgemm_blas(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc);

}  // namespace qmap::kernels::f32
