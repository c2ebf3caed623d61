// The sgemm wrapper against a plain triple loop for every transpose combination, odd sizes,
// padded leading dimensions, alpha/beta, and K = 0.
#include "kernels/f32/sgemm.h"

#include "test_util.h"

namespace qmap::kernels::f32 {
namespace {

TEST(KernelSgemm, MatchesNaiveLoop) {
  uint32_t seed = 1;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (int64_t m : {1, 3, 17})
        for (int64_t n : {1, 5, 33})
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
                << "ta " << ta << " tb " << tb << " m " << m << " n " << n << " k " << k;
          }
}

}  // namespace
}  // namespace qmap::kernels::f32
