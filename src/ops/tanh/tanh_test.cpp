#include "ops/common/elementwise_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Tanh, Values) {
  // Expected: numpy float64 tanh rounded to float32 (/usr/bin/python3).
  Tensor x = Tensor::from_vector<float>({8}, {-3, -1, -0.5f, 0, 0.5f, 1, 3, 8});
  auto out = testing::run_op("Tanh", {&x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near(
      (*out)[0], Tensor::from_vector<float>({8}, {-0.9950547814369202f, -0.7615941762924194f,
                                                  -0.46211716532707214f, 0.f, 0.46211716532707214f,
                                                  0.7615941762924194f, 0.9950547814369202f,
                                                  0.9999997615814209f}),
      0, 2e-7));
}

TEST(Tanh, UnknownShapeStaysUnknown) {
  Node node;
  node.name = "t";
  node.op_type = "Tanh";
  TensorInfo in{.present = true, .dtype = DType::kFloat32, .dims = std::nullopt, .value = nullptr};
  InferCtx ctx(node, std::span<const TensorInfo>(&in, 1));
  ASSERT_TRUE(op_def(OpId::Tanh).infer(ctx).ok());
  EXPECT_FALSE(ctx.outputs()[0].dims.has_value());
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Tanh, testing::unary_example("Tanh"));

}  // namespace
}  // namespace qmap
