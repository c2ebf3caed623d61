#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Gather, Axis1With2DNegativeInt32Indices) {
  // numpy: x = arange(12).reshape(3, 4); np.take(x, [[0, -1], [2, 2]], axis=1)
  std::vector<int64_t> v(12);
  for (int i = 0; i < 12; ++i) v[static_cast<size_t>(i)] = i;
  Tensor x = Tensor::from_vector<int64_t>({3, 4}, v);
  Tensor idx = Tensor::from_vector<int32_t>({2, 2}, {0, -1, 2, 2});
  auto out = testing::run_op("Gather", {&x, &idx}, {{"axis", int64_t{1}}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dims(), (Dims{3, 2, 2}));
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{0, 3, 2, 2, 4, 7, 6, 6, 8, 11, 10, 10}));
}

TEST(Gather, ScalarIndexDropsAxis) {
  // Shape -> Gather(0-D index) is the common shape-arithmetic pattern.
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor idx = Tensor::scalar<int64_t>(1);
  auto out = testing::run_op("Gather", {&x, &idx});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({3}, {4, 5, 6})));
}

TEST(Gather, OutOfRangeIndex) {
  Tensor x(DType::kFloat32, {2, 3});
  Tensor idx = Tensor::from_vector<int64_t>({2}, {0, 3});
  // Known indices: rejected by inference.
  EXPECT_TRUE(testing::has_text(testing::run_op("Gather", {&x, &idx}, {{"axis", int64_t{1}}}).status(),
                                "index 3 is out of range for axis 1 of length 3"));
  // Indices known only at run time: rejected by eval.
  Node n = testing::make_node("Gather", {{"axis", int64_t{1}}}, 1);
  std::vector<const Tensor*> ins{&x, &idx};
  std::vector<Tensor> outs{Tensor(DType::kFloat32, {2, 2})};
  EvalCtx ctx{n, ins, outs};
  EXPECT_TRUE(testing::has_text(op_def(n.op).eval(ctx), "index 3 is out of range"));
  Tensor fidx(DType::kFloat32, {1});
  EXPECT_TRUE(testing::has_text(testing::run_op("Gather", {&x, &fidx}).status(), "supported types are int64, int32"));
}

TEST(Gather, RandomAgainstReferenceLoop) {
  for (uint32_t seed = 0; seed < 30; ++seed) {
    const Dims dims{1 + seed % 3, 1 + (seed * 5) % 7, 1 + (seed * 3) % 5};
    const int64_t axis = seed % 3, n = dims[static_cast<size_t>(axis)];
    Tensor x = testing::random_tensor(dims, seed);
    std::vector<int64_t> iv;
    for (uint32_t k = 0; k < 1 + seed % 4; ++k) iv.push_back(static_cast<int64_t>((seed * 13 + k * 7) % (2 * n)) - n);
    Tensor idx = Tensor::from_vector<int64_t>({static_cast<int64_t>(iv.size())}, iv);
    auto out = testing::run_op("Gather", {&x, &idx}, {{"axis", axis}});
    ASSERT_TRUE(out.ok()) << out.status().message();
    Dims od = dims;
    od[static_cast<size_t>(axis)] = static_cast<int64_t>(iv.size());
    Tensor expect(DType::kFloat32, od);
    size_t o = 0;
    for (int64_t a = 0; a < od[0]; ++a)
      for (int64_t b = 0; b < od[1]; ++b)
        for (int64_t c = 0; c < od[2]; ++c) {
          int64_t s[3] = {a, b, c};
          int64_t& k = s[axis];
          k = iv[static_cast<size_t>(k)] < 0 ? iv[static_cast<size_t>(k)] + n : iv[static_cast<size_t>(k)];
          expect.data<float>()[o++] = x.data<float>()[static_cast<size_t>((s[0] * dims[1] + s[1]) * dims[2] + s[2])];
        }
    ASSERT_TRUE(testing::tensors_near((*out)[0], expect, 0, 0)) << "seed " << seed;
  }
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Gather, testing::unary_example("Gather", {{"axis", int64_t{1}}}, {testing::ints({0, 2})}));

}  // namespace
}  // namespace qmap
