// sgemm_portable: the runtime's GEMM (no BLAS). Blocked for the cache and the compiler's
// vectorizer: four rows of C at a time, kColumns columns at a time, each a row of float
// accumulators updated by acc[j] += a(i, p) * b(p, j) (contiguous in j). op(B) is packed
// row-major when transposed so the inner loop always streams one of its rows.
#include "kernels/f32/sgemm.h"

#include <algorithm>
#include <vector>

namespace qmap::kernels::f32 {

namespace {
constexpr int64_t kRows = 4;       // rows of C per block (reuse of each loaded row of B)
constexpr int64_t kColumns = 256;  // columns of C per block: 4 x 256 floats of accumulators (4 KiB)
}  // namespace

void sgemm_portable(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                    int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0 || alpha == 0.f) {
    // Nothing to accumulate: C = beta * C (beta = 0: C is not read).
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) c[i * ldc + j] = beta == 0.f ? 0.f : beta * c[i * ldc + j];
    return;
  }
  std::vector<float> packed;
  if (trans_b) {
    // op(B)[p][j] = B[j][p]: pack it as [k][n] row-major.
    packed.resize(static_cast<size_t>(k * n));
    for (int64_t j = 0; j < n; ++j)
      for (int64_t p = 0; p < k; ++p) packed[static_cast<size_t>(p * n + j)] = b[j * ldb + p];
    b = packed.data();
    ldb = n;
  }
  float acc[kRows][kColumns];
  for (int64_t j0 = 0; j0 < n; j0 += kColumns) {
    const int64_t nb = std::min(kColumns, n - j0);
    for (int64_t i0 = 0; i0 < m; i0 += kRows) {
      const int64_t mb = std::min(kRows, m - i0);
      for (int64_t r = 0; r < mb; ++r) std::fill(acc[r], acc[r] + nb, 0.f);
      for (int64_t p = 0; p < k; ++p) {
        const float* brow = b + p * ldb + j0;
        for (int64_t r = 0; r < mb; ++r) {
          const float av = trans_a ? a[p * lda + i0 + r] : a[(i0 + r) * lda + p];
          float* ar = acc[r];
          for (int64_t j = 0; j < nb; ++j) ar[j] += av * brow[j];
        }
      }
      for (int64_t r = 0; r < mb; ++r) {
        float* crow = c + (i0 + r) * ldc + j0;
        if (beta == 0.f)
          for (int64_t j = 0; j < nb; ++j) crow[j] = alpha * acc[r][j];
        else
          for (int64_t j = 0; j < nb; ++j) crow[j] = alpha * acc[r][j] + beta * crow[j];
      }
    }
  }
}

}  // namespace qmap::kernels::f32
