#include "ops/common/conv_pool_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

using testing::fails_with;
using testing::infer_op;

// numpy.matmul by a plain loop over the broadcast batch (the expectation for random inputs).
Tensor naive_matmul(const Tensor& a, const Tensor& b) {
  Dims ad = a.dims(), bd = b.dims();
  const bool a1 = ad.size() == 1, b1 = bd.size() == 1;
  if (a1) ad.insert(ad.begin(), 1);
  if (b1) bd.push_back(1);
  const int64_t m = ad[ad.size() - 2], k = ad.back(), n = bd.back();
  const Dims ab(ad.begin(), ad.end() - 2), bb(bd.begin(), bd.end() - 2);
  const size_t r = std::max(ab.size(), bb.size());
  Dims yb(r);
  for (size_t i = 0; i < r; ++i) {
    const int64_t x = i < r - ab.size() ? 1 : ab[i - (r - ab.size())];
    const int64_t z = i < r - bb.size() ? 1 : bb[i - (r - bb.size())];
    yb[i] = std::max(x, z);
  }
  Dims yd = yb;
  if (!a1) yd.push_back(m);
  if (!b1) yd.push_back(n);
  Tensor y(DType::kFloat32, yd);
  const int64_t batches = num_elements(yb);
  auto offset = [&](const Dims& in, int64_t flat) {  // broadcast batch index -> matrix index
    int64_t off = 0, stride = 1;
    for (size_t i = r; i-- > 0;) {
      const int64_t yi = flat % yb[i];
      flat /= yb[i];
      if (i >= r - in.size()) {
        const int64_t dim = in[i - (r - in.size())];
        off += (dim == 1 ? 0 : yi) * stride;
        stride *= dim;
      }
    }
    return off;
  };
  for (int64_t bt = 0; bt < batches; ++bt) {
    const float* ap = a.data<float>().data() + offset(ab, bt) * m * k;
    const float* bp = b.data<float>().data() + offset(bb, bt) * k * n;
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t p = 0; p < k; ++p) acc += double(ap[i * k + p]) * bp[p * n + j];
        y.data<float>()[static_cast<size_t>((bt * m + i) * n + j)] = static_cast<float>(acc);
      }
  }
  return y;
}

TEST(MatMulOp, NumpySemanticsAgainstNaive) {
  const std::vector<std::pair<Dims, Dims>> cases{
      {{3, 4}, {4, 5}},       {{2, 3, 4}, {2, 4, 3}},    {{1, 2, 3, 4}, {1, 2, 4, 3}},
      {{4}, {4, 5}},          {{3, 4}, {4}},             {{4}, {4}},
      {{2, 3, 4}, {4, 5}},    {{2, 1, 3, 4}, {5, 4, 2}}, {{4}, {2, 4, 3}},
      {{1, 3, 4}, {6, 4, 2}}, {{7, 1, 5}, {5}},          {{2, 1, 3, 1}, {3, 1, 7}}};
  uint32_t seed = 1;
  for (const auto& [ad, bd] : cases) {
    Tensor a = testing::random_tensor(ad, seed++), b = testing::random_tensor(bd, seed++);
    auto y = testing::run_op("MatMul", {&a, &b});
    ASSERT_TRUE(y.ok()) << y.status().message();
    EXPECT_TRUE(testing::tensors_near((*y)[0], naive_matmul(a, b)))
        << dims_str(ad) << " x " << dims_str(bd);
  }
}

TEST(MatMulOp, SmallGolden) {
  // [1, 2] . [[1, 2, 3], [4, 5, 6]] = [9, 12, 15] (by hand); the 1-D axis is removed.
  Tensor a = Tensor::from_vector<float>({2}, {1, 2});
  Tensor b = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto y = testing::run_op("MatMul", {&a, &b});
  ASSERT_TRUE(y.ok());
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({3}, {9, 12, 15})));
}

TEST(MatMulOp, ShapesRejectionsAndParams) {
  Tensor w = testing::random_tensor({64, 10}, 1);
  auto r = infer_op("MatMul", {{Dims{8, 64}}, {Dims{64, 10}, DType::kFloat32, &w}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(*r.outputs[0].dims, (Dims{8, 10}));
  EXPECT_EQ(testing::find_param(r.params, "in_channels")->ints, (std::vector<int64_t>{64}));
  EXPECT_EQ(testing::find_param(r.params, "out_channels")->ints, (std::vector<int64_t>{10}));
  EXPECT_EQ(testing::find_param(r.params, "weights_constant")->ints, (std::vector<int64_t>{1}));
  r = infer_op("MatMul", {{Dims{2, 8, 64}}, {Dims{2, 64, 8}}});
  EXPECT_EQ(testing::find_param(r.params, "weights_constant")->ints, (std::vector<int64_t>{0}));
  EXPECT_TRUE(fails_with(infer_op("MatMul", {{Dims{3, 4}}, {Dims{5, 6}}}).status,
                         "inner dimensions differ: A 3x4 has K = 4, B 5x6 has K = 5"));
  EXPECT_TRUE(fails_with(infer_op("MatMul", {{Dims{2, 3, 4}}, {Dims{3, 4, 5}}}).status,
                         "batch dimensions of A 2x3x4 and B 3x4x5 do not broadcast"));
  EXPECT_TRUE(fails_with(infer_op("MatMul", {{Dims{}}, {Dims{3}}}).status, "scalars are not allowed"));
  EXPECT_TRUE(fails_with(infer_op("MatMul", {{Dims{3}, DType::kInt32}, {Dims{3}}}).status,
                         "supported types are float32"));
  r = infer_op("MatMul", {{Dims{3, 4}}, {std::nullopt}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.outputs[0].dims.has_value());
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(MatMul, {.x = {1, 16}, .build = [](testing::GraphBuilder& b, ValueId x) {
  return std::vector<ValueId>{b.node("MatMul", "n", {x, b.random("w", {16, 8}, 7)})};
}});

}  // namespace
}  // namespace qmap
