#include "test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Relu, ShapeAndValues) {
  // Expected values: max(x, 0) by hand.
  Tensor x = Tensor::from_vector<float>({2, 3}, {-1.f, 0.f, 2.5f, -0.f, 3.f, -7.f});
  auto out = testing::run_op("Relu", {&x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({2, 3}, {0, 0, 2.5f, 0, 3, 0})));
}

TEST(Relu, RejectsIntegerInput) {
  Tensor x = Tensor::from_vector<int64_t>({2}, {1, -1});
  auto out = testing::run_op("Relu", {&x});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("supported types are float32"), std::string::npos)
      << out.status().message();
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Relu, testing::unary_example("Relu"));

}  // namespace
}  // namespace qmap
