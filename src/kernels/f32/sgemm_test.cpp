// Both sgemm implementations (portable and OpenBLAS) against a plain triple loop for every
// transpose combination, odd sizes (around the portable path's 4-row and 256-column blocks),
// padded leading dimensions, alpha/beta, and K = 0.
#include "kernels/f32/sgemm.h"

#include <cmath>
#include <limits>

#include "kernels/f32/sgemm_blas.h"

#include "test_util.h"

namespace qmap::kernels::f32 {
namespace {

void check_against_naive(SgemmFn sgemm, const char* name) {
  uint32_t seed = 1;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t m : {1, 3, 4, 5, 17})
        for (int64_t n : {1, 5, 33, 257})
          for (int64_t k : {0, 1, 7, 64}) {
            const int64_t lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3;
            Tensor a = testing::random_tensor({(ta ? k : m) * lda + 1}, seed++);
            Tensor b = testing::random_tensor({(tb ? n : k) * ldb + 1}, seed++);
            Tensor c = testing::random_tensor({m * ldc}, seed++);
            Tensor expected = c.clone();
            auto ap = a.data<float>(), bp = b.data<float>();
            auto e = expected.data<float>();
            const float alpha = 0.75f, beta = -0.5f;
            for (int64_t i = 0; i < m; ++i)
              for (int64_t j = 0; j < n; ++j) {
                double acc = 0;
                for (int64_t p = 0; p < k; ++p)
                  acc += double(ta ? ap[p * lda + i] : ap[i * lda + p]) *
                         (tb ? bp[j * ldb + p] : bp[p * ldb + j]);
                e[i * ldc + j] = static_cast<float>(alpha * acc + beta * e[i * ldc + j]);
              }
            sgemm(ta, tb, m, n, k, alpha, ap.data(), lda, bp.data(), ldb, beta,
                  c.data<float>().data(), ldc);
            EXPECT_TRUE(testing::tensors_near(c, expected, 1e-4, 1e-4))
                << name << " ta " << ta << " tb " << tb << " m " << m << " n " << n << " k " << k;
          }
}

TEST(KernelSgemm, PortableMatchesNaiveLoop) { check_against_naive(sgemm_portable, "portable"); }
TEST(KernelSgemm, BlasMatchesNaiveLoop) { check_against_naive(sgemm_blas, "blas"); }

// beta = 0 must not read C (BLAS semantics): a NaN there does not reach the result.
TEST(KernelSgemm, PortableBetaZeroIgnoresC) {
  const float a[2] = {1.f, 2.f}, b[2] = {3.f, 4.f};
  float c[1] = {std::numeric_limits<float>::quiet_NaN()};
  sgemm_portable(false, false, 1, 1, 2, 1.f, a, 2, b, 1, 0.f, c, 1);
  EXPECT_EQ(c[0], 11.f);
}

}  // namespace
}  // namespace qmap::kernels::f32
