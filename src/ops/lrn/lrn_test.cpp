#include <cmath>

#include "test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(LRN, AcrossChannelsWindow) {
  // 1x3x1x1 input [1, 2, 3], size 3, alpha 3 (so alpha/size = 1), beta 1, bias 1:
  // c0: window {0,1} sum 5 -> 1/6; c1: {0,1,2} sum 14 -> 2/15; c2: {1,2} sum 13 -> 3/14.
  Tensor x = Tensor::from_vector<float>({1, 3, 1, 1}, {1.f, 2.f, 3.f});
  auto out = testing::run_op("LRN", {&x},
                             {{"size", int64_t{3}}, {"alpha", 3.f}, {"beta", 1.f}, {"bias", 1.f}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({1, 3, 1, 1}, {1.f / 6, 2.f / 15, 3.f / 14})));
}

TEST(LRN, RejectsLowRank) {
  Tensor x = Tensor::from_vector<float>({3}, {1, 2, 3});
  auto out = testing::run_op("LRN", {&x}, {{"size", int64_t{3}}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("rank >= 3"), std::string::npos) << out.status().message();
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(LRN, testing::unary_example("LRN", {{"size", int64_t{3}}}));

}  // namespace
}  // namespace qmap
