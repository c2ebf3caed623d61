#include "test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Abs, FloatAndInt) {
  // Expected values: |x| by hand.
  Tensor x = Tensor::from_vector<float>({2, 2}, {-1.5f, 0.f, 2.f, -0.25f});
  auto out = testing::run_op("Abs", {&x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({2, 2}, {1.5f, 0.f, 2.f, 0.25f})));
  Tensor xi = Tensor::from_vector<int64_t>({3}, {-3, 4, 0});
  auto outi = testing::run_op("Abs", {&xi});
  ASSERT_TRUE(outi.ok()) << outi.status().message();
  EXPECT_EQ((*outi)[0].to_int64(), (std::vector<int64_t>{3, 4, 0}));
}

TEST(Abs, RejectsBool) {
  Tensor x = Tensor::from_vector<bool>({1}, {true});
  auto out = testing::run_op("Abs", {&x});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("supported types are"), std::string::npos) << out.status().message();
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Abs, testing::unary_example("Abs"));

}  // namespace
}  // namespace qmap
