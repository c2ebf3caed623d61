#include "report/compare.h"

#include <gtest/gtest.h>

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
}

TEST(CompareTensors, ZeroTensors) {
  EXPECT_EQ(compare_tensors(vec({0, 0}), vec({0, 0})).cosine, 1.0);
  EXPECT_EQ(compare_tensors(vec({0, 0}), vec({1, 0})).cosine, 0.0);
}

}  // namespace
}  // namespace qmap
