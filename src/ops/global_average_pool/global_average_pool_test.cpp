#include "ops/common/conv_pool_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(GlobalAveragePoolOp, ShapeValuesAndRejections) {
  // ONNX test_globalaveragepool_precomputed: 1..9 as 1x1x3x3 -> 5. Channel 2 by hand.
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 3}, {1, 2, 3, 4, 5, 6, 7, 8, 9,
                                                       -1, -1, -1, 0, 0, 0, 2, 2, 2});
  auto y = testing::run_op("GlobalAveragePool", {&x});
  ASSERT_TRUE(y.ok()) << y.status().message();
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({1, 2, 1, 1}, {5, 1.f / 3.f})));
  auto r = testing::infer_op("GlobalAveragePool", {{Dims{2, 8, 4, 5, 6}}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(*r.outputs[0].dims, (Dims{2, 8, 1, 1, 1}));
  EXPECT_EQ(testing::find_param(r.params, "kernel")->ints, (std::vector<int64_t>{4, 5, 6}));
  EXPECT_TRUE(testing::fails_with(testing::infer_op("GlobalAveragePool", {{Dims{8}}}).status, "rank >= 2"));
  EXPECT_TRUE(testing::fails_with(testing::infer_op("GlobalAveragePool", {{Dims{1, 8, 2}, DType::kInt8}}).status,
                                  "supported types are float32"));
  r = testing::infer_op("GlobalAveragePool", {{std::nullopt}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.outputs[0].dims.has_value());
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(GlobalAveragePool, testing::unary_example("GlobalAveragePool"));

}  // namespace
}  // namespace qmap
