#include "ops/common/elementwise_binary.h"

#include <random>

#include "ops/common/elementwise_test_util.h"

namespace qmap {
namespace {

using ops::broadcast_apply;
using ops::broadcast_kind;

// Plain reference: per output element, each operand's flat index from BroadcastIndexer.
std::vector<float> reference_sub(const Tensor& a, const Tensor& b, const Dims& out) {
  const int64_t n = num_elements(out);
  std::vector<int64_t> ia(static_cast<size_t>(n)), ib(static_cast<size_t>(n));
  ops::BroadcastIndexer(a.dims(), out).for_each([&](int64_t o, int64_t i) { ia[static_cast<size_t>(o)] = i; });
  ops::BroadcastIndexer(b.dims(), out).for_each([&](int64_t o, int64_t i) { ib[static_cast<size_t>(o)] = i; });
  std::vector<float> y(static_cast<size_t>(n));
  for (size_t o = 0; o < y.size(); ++o)
    y[o] = a.data<float>()[static_cast<size_t>(ia[o])] - b.data<float>()[static_cast<size_t>(ib[o])];
  return y;
}

TEST(BroadcastApply, MatchesReferenceOnRandomShapes) {
  // Sweeps ranks 0-5 and odd sizes 1-7; each operand drops leading dims and sets dims to 1 at
  // random, covering same-shape, scalar, channel and two-sided broadcasts. Sub (not Add) so a
  // swapped operand would show.
  std::mt19937 rng(1234);
  for (int trial = 0; trial < 400; ++trial) {
    const int rank = static_cast<int>(rng() % 6);
    Dims out(static_cast<size_t>(rank));
    for (auto& d : out) d = 1 + static_cast<int64_t>(rng() % 7);
    auto operand = [&]() {
      const size_t drop = rank == 0 ? 0 : rng() % static_cast<size_t>(rank + 1);
      Dims d(out.begin() + static_cast<std::ptrdiff_t>(drop), out.end());
      for (auto& v : d)
        if (rng() % 3 == 0) v = 1;
      return d;
    };
    const Dims da = operand(), db = operand();
    Tensor a = testing::random_tensor(da, 10 + static_cast<uint32_t>(trial));
    Tensor b = testing::random_tensor(db, 5000 + static_cast<uint32_t>(trial));
    const Dims dy = *ops::broadcast_dims(da, db);
    Tensor y(DType::kFloat32, dy);
    broadcast_apply(a.data<float>().data(), da, b.data<float>().data(), db, y.data<float>().data(), dy,
                    [](float u, float v) { return u - v; });
    const std::vector<float> ref = reference_sub(a, b, dy);
    Tensor expected = Tensor::from_vector<float>(dy, ref);
    ASSERT_TRUE(testing::tensors_near(y, expected, 0, 0))
        << "trial " << trial << " seed 1234 a " << dims_str(da) << " b " << dims_str(db);
  }
}

TEST(BroadcastApply, EmptyOutputDoesNothing) {
  Tensor a(DType::kFloat32, {2, 0, 3});
  Tensor b(DType::kFloat32, {3});
  Tensor y(DType::kFloat32, {2, 0, 3});
  broadcast_apply(a.data<float>().data(), a.dims(), b.data<float>().data(), b.dims(),
                  y.data<float>().data(), y.dims(), [](float u, float v) { return u + v; });
  EXPECT_EQ(y.numel(), 0);
}

TEST(BroadcastKind, Classification) {
  EXPECT_STREQ(broadcast_kind({1, 8, 4, 4}, {1, 8, 4, 4}), "none");
  EXPECT_STREQ(broadcast_kind({}, {1, 8, 4, 4}), "scalar");
  EXPECT_STREQ(broadcast_kind({1, 1, 1, 1}, {1, 8, 4, 4}), "scalar");
  EXPECT_STREQ(broadcast_kind({1, 8, 1, 1}, {2, 8, 4, 4}), "channel");
  EXPECT_STREQ(broadcast_kind({8, 1, 1}, {2, 8, 4, 4}), "channel");
  EXPECT_STREQ(broadcast_kind({4}, {2, 8, 4, 4}), "general");
  EXPECT_STREQ(broadcast_kind({2, 8, 1, 1}, {2, 8, 4, 4}), "general");
}

TEST(IntegerHelpers, WrapAndTruncate) {
  EXPECT_EQ(ops::wrap_add<int32_t>(INT32_MAX, 1), INT32_MIN);
  EXPECT_EQ(ops::wrap_sub<uint8_t>(1, 2), 255);
  EXPECT_EQ(ops::wrap_mul<int8_t>(64, 4), 0);
  EXPECT_EQ(ops::wrap_mul<int64_t>(INT64_MAX, 2), -2);
  EXPECT_EQ(ops::trunc_div<int32_t>(-7, 2), -3);
  EXPECT_EQ(ops::trunc_div<int32_t>(INT32_MIN, -1), INT32_MIN);
  EXPECT_EQ(ops::trunc_div<int8_t>(-128, -1), -128);
}

}  // namespace
}  // namespace qmap
