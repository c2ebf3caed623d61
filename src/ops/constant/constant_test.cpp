#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Constant, EveryValueAttribute) {
  Tensor t = Tensor::from_vector<int32_t>({2}, {3, -4});
  const std::pair<std::map<std::string, AttrValue>, Tensor> cases[] = {
      {{{"value", t}}, t},
      {{{"value_float", 1.5f}}, Tensor::scalar<float>(1.5f)},
      {{{"value_floats", std::vector<float>{1, 2}}}, Tensor::from_vector<float>({2}, {1, 2})},
      {{{"value_int", int64_t{7}}}, Tensor::scalar<int64_t>(7)},
      {{{"value_ints", std::vector<int64_t>{7, 8, 9}}}, Tensor::from_vector<int64_t>({3}, {7, 8, 9})},
  };
  for (const auto& [attrs, expected] : cases) {
    // Inference alone must already know the value (constant propagation).
    auto inf = testing::infer_op("Constant", {}, attrs);
    ASSERT_TRUE(inf.ok()) << inf.status().message();
    ASSERT_TRUE((*inf)[0].value.has_value());
    EXPECT_TRUE(testing::tensors_near(*(*inf)[0].value, expected, 0, 0));
    auto out = testing::run_op("Constant", {}, attrs);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ((*out)[0].dtype(), expected.dtype());
    EXPECT_TRUE(testing::tensors_near((*out)[0], expected, 0, 0));
  }
}

TEST(Constant, Errors) {
  EXPECT_TRUE(testing::has_text(testing::run_op("Constant", {}, {{"value_string", std::string("a")}}).status(),
                                "string constants are not supported"));
  EXPECT_TRUE(testing::has_text(testing::run_op("Constant", {}).status(), "has 0 value attributes"));
  EXPECT_TRUE(testing::has_text(
      testing::run_op("Constant", {}, {{"value_int", int64_t{1}}, {"value_float", 1.f}}).status(),
      "has 2 value attributes"));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Constant, {.skip = "a Constant node alone has no input to run on: it is folded"});

}  // namespace
}  // namespace qmap
