#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(ReduceMean, AxesKeepdims) {
  // Expected by hand: x = [[[1,2],[3,4]],[[5,6],[7,8]]]; mean over axis 1 -> [[2,3],[6,7]].
  Tensor x = Tensor::from_vector<float>({2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8});
  auto a = testing::run_op("ReduceMean", {&x}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t{0}}});
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_TRUE(testing::tensors_near((*a)[0], Tensor::from_vector<float>({2, 2}, {2, 3, 6, 7})));
  auto b = testing::run_op("ReduceMean", {&x}, {{"axes", std::vector<int64_t>{-1, 0}}});
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_TRUE(testing::tensors_near((*b)[0], Tensor::from_vector<float>({1, 2, 1}, {3.5f, 5.5f})));
  auto c = testing::run_op("ReduceMean", {&x});  // all axes, keepdims
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(testing::tensors_near((*c)[0], Tensor::from_vector<float>({1, 1, 1}, {4.5f})));
}

TEST(ReduceMean, RandomAgainstReferenceLoop) {
  // Global average over H, W of odd-sized N x C x H x W (the classifier-head case).
  for (uint32_t seed = 0; seed < 20; ++seed) {
    const int64_t n = 1 + seed % 2, c = 1 + seed % 5, h = 1 + (seed * 3) % 7, w = 1 + (seed * 5) % 9;
    Tensor x = testing::random_tensor({n, c, h, w}, seed);
    auto out = testing::run_op("ReduceMean", {&x}, {{"axes", std::vector<int64_t>{2, 3}}});
    ASSERT_TRUE(out.ok()) << out.status().message();
    Tensor expect(DType::kFloat32, {n, c, 1, 1});
    for (int64_t p = 0; p < n * c; ++p) {
      double s = 0;
      for (int64_t k = 0; k < h * w; ++k) s += x.data<float>()[static_cast<size_t>(p * h * w + k)];
      expect.data<float>()[static_cast<size_t>(p)] = static_cast<float>(s / static_cast<double>(h * w));
    }
    ASSERT_TRUE(testing::tensors_near((*out)[0], expect)) << "seed " << seed;
  }
}

// Axes that are one contiguous run with elements after it ({1, 2} of N x C x H x W: the fast
// [outer][r][inner] loops) and axes that are not ({1, 3}: the general indexer), against a
// plain reference loop over the input.
TEST(ReduceMean, ContiguousAndSplitAxesAgainstReferenceLoop) {
  const int64_t n = 2, c = 3, h = 5, w = 4;
  Tensor x = testing::random_tensor({n, c, h, w}, 77);
  const auto xs = x.data<float>();
  for (const auto& axes : {std::vector<int64_t>{1, 2}, std::vector<int64_t>{1, 3}, std::vector<int64_t>{0, 1}}) {
    auto out = testing::run_op("ReduceMean", {&x}, {{"axes", axes}});
    ASSERT_TRUE(out.ok()) << out.status().message();
    Dims keep = {n, c, h, w};
    for (int64_t a : axes) keep[static_cast<size_t>(a)] = 1;
    Tensor expect(DType::kFloat32, keep);
    std::vector<double> sum(static_cast<size_t>(expect.numel()), 0.0);
    for (int64_t i0 = 0; i0 < n; ++i0)
      for (int64_t i1 = 0; i1 < c; ++i1)
        for (int64_t i2 = 0; i2 < h; ++i2)
          for (int64_t i3 = 0; i3 < w; ++i3) {
            const int64_t idx[4] = {i0, i1, i2, i3};
            int64_t o = 0;
            for (size_t a = 0; a < 4; ++a) o = o * keep[a] + (keep[a] == 1 ? 0 : idx[a]);
            sum[static_cast<size_t>(o)] += xs[static_cast<size_t>(((i0 * c + i1) * h + i2) * w + i3)];
          }
    const double count = static_cast<double>(x.numel() / expect.numel());
    for (size_t o = 0; o < sum.size(); ++o) expect.data<float>()[o] = static_cast<float>(sum[o] / count);
    ASSERT_TRUE(testing::tensors_near((*out)[0], expect)) << "axes " << axes[0] << "," << axes[1];
  }
}

TEST(ReduceMean, Errors) {
  Tensor x(DType::kFloat32, {2, 3});
  Tensor xi(DType::kInt32, {2, 3});
  EXPECT_TRUE(testing::has_text(testing::run_op("ReduceMean", {&xi}).status(), "supported types are float32"));
  EXPECT_TRUE(testing::has_text(
      testing::run_op("ReduceMean", {&x}, {{"axes", std::vector<int64_t>{2}}}).status(), "axes 2 is out of range"));
  EXPECT_TRUE(testing::has_text(
      testing::run_op("ReduceMean", {&x}, {{"axes", std::vector<int64_t>{1, -1}}}).status(), "repeats axis 1"));
  EXPECT_TRUE(testing::has_text(testing::run_op("ReduceMean", {&x}, {{"keepdims", int64_t{2}}}).status(),
                                "keepdims 2 is not valid"));
  Tensor e(DType::kFloat32, {2, 0});
  EXPECT_TRUE(testing::has_text(testing::run_op("ReduceMean", {&e}).status(), "reducing an empty axis"));
}

TEST(ReduceMean, NpuParamsAxes) {
  Tensor x(DType::kFloat32, {1, 8, 7, 7});
  const OpParams p = testing::npu_params_of("ReduceMean", {{"axes", std::vector<int64_t>{-1, -2}}}, {testing::known(x)}, Dims{1, 8, 1, 1});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].name, "axis");
  EXPECT_EQ(p[0].ints, (std::vector<int64_t>{2, 3}));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(ReduceMean, testing::unary_example("ReduceMean", {{"axes", std::vector<int64_t>{2, 3}}}));

}  // namespace
}  // namespace qmap
