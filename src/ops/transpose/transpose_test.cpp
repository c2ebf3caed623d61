#include <algorithm>
#include <cstring>
#include <numeric>

#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Transpose, DefaultReverses) {
  // Expected by hand: the transpose of [[1,2,3],[4,5,6]].
  Tensor x = Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6});
  auto out = testing::run_op("Transpose", {&x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({3, 2}, {1, 4, 2, 5, 3, 6})));
}

TEST(Transpose, Errors) {
  Tensor x(DType::kFloat32, {2, 3, 4});
  EXPECT_TRUE(testing::has_text(
      testing::run_op("Transpose", {&x}, {{"perm", std::vector<int64_t>{0, 0, 1}}}).status(), "not a permutation"));
  EXPECT_TRUE(testing::has_text(
      testing::run_op("Transpose", {&x}, {{"perm", std::vector<int64_t>{1, 0}}}).status(), "has 2 entries"));
}

// Plain reference: every output index mapped back through perm, element by element.
Tensor ref_transpose(const Tensor& x, const std::vector<int64_t>& perm) {
  const Dims& in = x.dims();
  Dims out;
  for (int64_t p : perm) out.push_back(in[static_cast<size_t>(p)]);
  Tensor y(x.dtype(), out);
  const Dims is = [&] { Dims s(in.size(), 1); for (size_t i = in.size(); i-- > 1;) s[i - 1] = s[i] * in[i]; return s; }();
  std::vector<int64_t> idx(out.size(), 0);
  for (int64_t o = 0; o < y.numel(); ++o) {
    int64_t rem = o, src = 0;
    for (size_t d = out.size(); d-- > 0;) {
      idx[d] = rem % out[d];
      rem /= out[d];
      src += idx[d] * is[static_cast<size_t>(perm[d])];
    }
    const size_t es = dtype_size(x.dtype());
    std::memcpy(y.raw() + static_cast<size_t>(o) * es, x.raw() + static_cast<size_t>(src) * es, es);
  }
  return y;
}

TEST(Transpose, AllPermutationsRank4AgainstReferenceLoop) {
  // Odd sizes so every stride differs; every element size (1, 2, 4, 8 bytes: the typed
  // copies), compared byte for byte.
  const Dims dims{3, 1, 5, 2};
  for (DType t : {DType::kUInt8, DType::kInt16, DType::kInt32, DType::kInt64}) {
    Tensor x(t, dims);
    for (size_t i = 0; i < x.nbytes(); ++i) x.raw()[i] = static_cast<std::byte>(i * 7 + 3);
    std::vector<int64_t> perm(4);
    std::iota(perm.begin(), perm.end(), 0);
    do {
      auto out = testing::run_op("Transpose", {&x}, {{"perm", perm}});
      ASSERT_TRUE(out.ok()) << out.status().message();
      const Tensor want = ref_transpose(x, perm);
      ASSERT_EQ((*out)[0].dims(), want.dims());
      ASSERT_EQ(0, std::memcmp((*out)[0].raw(), want.raw(), want.nbytes()))
          << dtype_name(t) << " perm " << fmt::format("{}", fmt::join(perm, ","));
    } while (std::next_permutation(perm.begin(), perm.end()));
  }
}

TEST(Transpose, NpuParamsPerm) {
  Tensor x(DType::kFloat32, {1, 2, 3, 4});
  const OpParams p = testing::npu_params_of("Transpose", {{"perm", std::vector<int64_t>{0, 2, 3, 1}}}, {testing::known(x)}, Dims{1, 3, 4, 2});
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].name, "perm");
  EXPECT_EQ(p[0].ints, (std::vector<int64_t>{0, 2, 3, 1}));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Transpose, testing::unary_example("Transpose", {{"perm", std::vector<int64_t>{0, 2, 3, 1}}}));

}  // namespace
}  // namespace qmap
