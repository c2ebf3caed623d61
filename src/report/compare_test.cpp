#include "report/compare.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace qmap {
namespace {

Tensor vec(const std::vector<float>& v) { return Tensor::from_vector<float>({static_cast<int64_t>(v.size())}, v); }

TEST(CompareTensors, HandComputedDistances) {
  // a = (1, 0, 2), b = (1, 1, 2): <a,b> = 5, |a| = sqrt 5, |b| = sqrt 6.
  const TensorDistance d = compare_tensors(vec({1, 0, 2}), vec({1, 1, 2}));
  EXPECT_NEAR(d.cosine, 5 / std::sqrt(30.0), 1e-12);
  EXPECT_NEAR(d.l1, 1.0 / 3, 1e-12);
  EXPECT_NEAR(d.l2, 1.0 / 3, 1e-12);
  EXPECT_EQ(d.chebyshev, 1.0);
  // Noise sum (a - b)^2 = 1 over 3 elements; signal sum a^2 = 5: SQNR 10 log10 5 dB.
  EXPECT_NEAR(d.mse, 1.0 / 3, 1e-12);
  EXPECT_NEAR(d.sqnr_db, 10 * std::log10(5.0), 1e-12);
}

TEST(CompareTensors, ZeroTensors) {
  EXPECT_EQ(compare_tensors(vec({0, 0}), vec({0, 0})).cosine, 1.0);
  EXPECT_EQ(compare_tensors(vec({0, 0}), vec({1, 0})).cosine, 0.0);
  // Equal tensors have no noise: infinite SQNR; noise on an all-zero reference: -inf.
  EXPECT_EQ(compare_tensors(vec({1, 2}), vec({1, 2})).sqnr_db, std::numeric_limits<double>::infinity());
  EXPECT_EQ(compare_tensors(vec({0, 0}), vec({1, 0})).sqnr_db, -std::numeric_limits<double>::infinity());
}

TEST(CompareTensors, IntegerTensorsCompareByValue) {
  // An ArgMax graph output is int64: the same distances as the float tensors of its values.
  const Tensor a = Tensor::from_vector<int64_t>({3}, {1, 0, 2}), b = Tensor::from_vector<int64_t>({3}, {1, 1, 2});
  const TensorDistance d = compare_tensors(a, b);
  EXPECT_NEAR(d.cosine, 5 / std::sqrt(30.0), 1e-12);
  EXPECT_EQ(d.chebyshev, 1.0);
  EXPECT_NEAR(compare_tensors(a, vec({1, 1, 2})).mse, 1.0 / 3, 1e-12);
}

}  // namespace
}  // namespace qmap
