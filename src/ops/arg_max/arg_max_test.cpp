#include "test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(ArgMax, AxisKeepdimsAndTies) {
  // Rows [1 3 3] and [5 0 5]: first-index argmax 1 and 0; last-index 2 and 2.
  Tensor x = Tensor::from_vector<float>({2, 3}, {1.f, 3.f, 3.f, 5.f, 0.f, 5.f});
  auto first = testing::run_op("ArgMax", {&x}, {{"axis", int64_t{1}}});
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_EQ((*first)[0].dims(), (Dims{2, 1}));
  EXPECT_EQ((*first)[0].to_int64(), (std::vector<int64_t>{1, 0}));
  auto last = testing::run_op("ArgMax", {&x}, {{"axis", int64_t{-1}}, {"keepdims", int64_t{0}},
                                               {"select_last_index", int64_t{1}}});
  ASSERT_TRUE(last.ok()) << last.status().message();
  EXPECT_EQ((*last)[0].dims(), (Dims{2}));
  EXPECT_EQ((*last)[0].to_int64(), (std::vector<int64_t>{2, 2}));
}

TEST(ArgMax, RejectsBadAxis) {
  Tensor x = Tensor::from_vector<float>({2}, {1, 2});
  auto out = testing::run_op("ArgMax", {&x}, {{"axis", int64_t{3}}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("out of range"), std::string::npos) << out.status().message();
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(ArgMax, testing::unary_example("ArgMax", {{"axis", int64_t{1}}}));

}  // namespace
}  // namespace qmap
