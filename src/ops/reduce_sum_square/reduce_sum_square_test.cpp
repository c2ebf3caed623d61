#include "test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(ReduceSumSquare, AxesAndKeepdims) {
  // x = [[1 2] [3 4]]: over axis 1 -> [5, 25]; over all -> 30.
  Tensor x = Tensor::from_vector<float>({2, 2}, {1.f, 2.f, 3.f, 4.f});
  auto rows = testing::run_op("ReduceSumSquare", {&x}, {{"axes", std::vector<int64_t>{-1}}, {"keepdims", int64_t{0}}});
  ASSERT_TRUE(rows.ok()) << rows.status().message();
  EXPECT_TRUE(testing::tensors_near((*rows)[0], Tensor::from_vector<float>({2}, {5.f, 25.f})));
  auto all = testing::run_op("ReduceSumSquare", {&x});
  ASSERT_TRUE(all.ok()) << all.status().message();
  EXPECT_TRUE(testing::tensors_near((*all)[0], Tensor::from_vector<float>({1, 1}, {30.f})));
}

TEST(ReduceSumSquare, RejectsRepeatedAxis) {
  Tensor x = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  auto out = testing::run_op("ReduceSumSquare", {&x}, {{"axes", std::vector<int64_t>{1, -1}}});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("twice"), std::string::npos) << out.status().message();
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(ReduceSumSquare, testing::unary_example("ReduceSumSquare", {{"axes", std::vector<int64_t>{2, 3}}}));

}  // namespace
}  // namespace qmap
