#include <limits>
#include <random>

#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

using testing::has_text;
Tensor ints(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

TEST(Slice, NegativeStepAndClamping) {
  // numpy: x = arange(10); x[20:-100:-3] -> clamped to x[9::-3] = [9, 6, 3, 0]
  std::vector<int64_t> v(10);
  for (int i = 0; i < 10; ++i) v[static_cast<size_t>(i)] = i;
  Tensor x = Tensor::from_vector<int64_t>({10}, v);
  Tensor s = ints({20}), e = ints({-100}), a = ints({0}), st = ints({-3});
  auto out = testing::run_op("Slice", {&x, &s, &e, &a, &st});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{9, 6, 3, 0}));
}

// Steps at int64's limits take one element (ceil((end - start) / step) without overflow).
TEST(Slice, ExtremeStepsTakeOneElement) {
  std::vector<int64_t> v(10);
  for (int i = 0; i < 10; ++i) v[static_cast<size_t>(i)] = i;
  const Tensor x = Tensor::from_vector<int64_t>({10}, v);
  Tensor a = ints({0});
  Tensor s = ints({2}), e = ints({9}), up = ints({std::numeric_limits<int64_t>::max()});
  auto out = testing::run_op("Slice", {&x, &s, &e, &a, &up});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{2}));
  Tensor s2 = ints({8}), e2 = ints({std::numeric_limits<int64_t>::min()}), down = ints({std::numeric_limits<int64_t>::min()});
  out = testing::run_op("Slice", {&x, &s2, &e2, &a, &down});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{8}));
}

TEST(Slice, DefaultAxesAndSteps2D) {
  // numpy: x = arange(12).reshape(3, 4); x[1:1000, -3:-1] = [[5, 6], [9, 10]]
  Tensor x = testing::random_tensor({3, 4}, 1);
  for (int i = 0; i < 12; ++i) x.data<float>()[static_cast<size_t>(i)] = static_cast<float>(i);
  Tensor s = ints({1, -3}), e = ints({1000, -1});
  auto out = testing::run_op("Slice", {&x, &s, &e});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({2, 2}, {5, 6, 9, 10})));
}

// A channel split copies whole runs of channels (gather_by_axis_maps joins an ascending axis to
// the trailing block); every element still lands where numpy puts it, for both halves, a
// batch of 2 and a middle range, and for a range on an inner axis under a strided outer one.
TEST(Slice, ChannelRangesOfEveryBatchItem) {
  const Dims dims{2, 6, 3, 5};
  std::vector<int64_t> v(180);
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<int64_t>(i);
  const Tensor x = Tensor::from_vector<int64_t>(dims, v);
  auto at = [&](int64_t n, int64_t c, int64_t h, int64_t w) { return ((n * 6 + c) * 3 + h) * 5 + w; };
  for (auto [b, e] : {std::pair<int64_t, int64_t>{0, 3}, {3, 6}, {1, 5}}) {
    Tensor s = ints({b}), en = ints({e}), a = ints({1});
    auto out = testing::run_op("Slice", {&x, &s, &en, &a});
    ASSERT_TRUE(out.ok()) << out.status().message();
    std::vector<int64_t> want;
    for (int64_t n = 0; n < 2; ++n)
      for (int64_t c = b; c < e; ++c)
        for (int64_t h = 0; h < 3; ++h)
          for (int64_t w = 0; w < 5; ++w) want.push_back(at(n, c, h, w));
    EXPECT_EQ((*out)[0].to_int64(), want) << b << ":" << e;
  }
  // x[:, ::2, 1:3, :]: the range (h 1..2) joins the block under the strided channel axis.
  Tensor s = ints({0, 1}), en = ints({6, 3}), a = ints({1, 2}), st = ints({2, 1});
  auto out = testing::run_op("Slice", {&x, &s, &en, &a, &st});
  ASSERT_TRUE(out.ok()) << out.status().message();
  std::vector<int64_t> want;
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 6; c += 2)
      for (int64_t h = 1; h < 3; ++h)
        for (int64_t w = 0; w < 5; ++w) want.push_back(at(n, c, h, w));
  EXPECT_EQ((*out)[0].to_int64(), want);
}

TEST(Slice, EmptyResultWhenStartPastEnd) {
  Tensor x(DType::kUInt8, {5});
  Tensor s = ints({4}), e = ints({2});
  auto out = testing::run_op("Slice", {&x, &s, &e});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dims(), (Dims{0}));
}

TEST(Slice, EmptyAxisWithNegativeStep) {
  Tensor x(DType::kFloat32, {0, 2});
  Tensor s = ints({-1}), e = ints({-100}), a = ints({0}), st = ints({-1});
  auto out = testing::run_op("Slice", {&x, &s, &e, &a, &st});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dims(), (Dims{0, 2}));
}

TEST(Slice, Errors) {
  Tensor x(DType::kFloat32, {4, 4});
  Tensor s = ints({0}), e = ints({2}), e2 = ints({2, 2}), zero = ints({0}), ax = ints({2}), dup = ints({1, -1});
  EXPECT_TRUE(has_text(testing::run_op("Slice", {&x, &s, &e2}).status(), "same length"));
  EXPECT_TRUE(has_text(testing::run_op("Slice", {&x, &s, &e, nullptr, &zero}).status(), "steps must be non-zero"));
  EXPECT_TRUE(has_text(testing::run_op("Slice", {&x, &s, &e, &ax}).status(), "out of range for rank 2"));
  Tensor s2 = ints({0, 0});
  EXPECT_TRUE(has_text(testing::run_op("Slice", {&x, &s2, &e2, &dup}).status(), "repeat axis 1"));
  EXPECT_TRUE(has_text(testing::run_op("Slice", {&x}).status(), "starts and ends inputs are required"));
}

TEST(Slice, UnknownStartsGiveUnknownDims) {
  Tensor e = ints({2});
  auto out = testing::infer_op("Slice", {testing::unknown(DType::kFloat32, Dims{4}),
                                         testing::unknown(DType::kInt64, Dims{1}), testing::known(e)});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_FALSE((*out)[0].dims.has_value());
}

// Plain reference: walk each axis from the clamped start by step (ONNX Slice-13 text).
std::vector<int64_t> ref_indices(int64_t dim, int64_t start, int64_t end, int64_t step) {
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  std::vector<int64_t> idx;
  if (step > 0) {
    start = std::clamp<int64_t>(start, 0, dim);
    end = std::clamp<int64_t>(end, 0, dim);
    for (int64_t i = start; i < end; i += step) idx.push_back(i);
  } else {
    start = std::clamp<int64_t>(start, 0, dim - 1);
    end = std::clamp<int64_t>(end, -1, dim - 1);
    for (int64_t i = start; i > end; i += step) idx.push_back(i);
  }
  return idx;
}

TEST(Slice, RandomAgainstReferenceLoop) {
  std::mt19937 rng(7);
  for (int iter = 0; iter < 200; ++iter) {
    Dims dims{static_cast<int64_t>(1 + rng() % 5), static_cast<int64_t>(1 + rng() % 6), static_cast<int64_t>(1 + rng() % 7)};
    Tensor x = testing::random_tensor(dims, static_cast<uint32_t>(iter));
    std::vector<int64_t> starts, ends, steps, axes{0, 1, 2};
    std::vector<std::vector<int64_t>> idx;
    for (int d = 0; d < 3; ++d) {
      const int64_t n = dims[static_cast<size_t>(d)];
      starts.push_back(static_cast<int64_t>(rng() % (2 * n + 4)) - n - 2);
      ends.push_back(static_cast<int64_t>(rng() % (2 * n + 4)) - n - 2);
      int64_t st = static_cast<int64_t>(rng() % 7) - 3;
      if (st == 0) st = 1;
      steps.push_back(st);
      idx.push_back(ref_indices(n, starts.back(), ends.back(), st));
    }
    Tensor s = ints(starts), e = ints(ends), a = ints(axes), st = ints(steps);
    auto out = testing::run_op("Slice", {&x, &s, &e, &a, &st});
    ASSERT_TRUE(out.ok()) << out.status().message();
    Tensor expect(DType::kFloat32, {static_cast<int64_t>(idx[0].size()), static_cast<int64_t>(idx[1].size()),
                                    static_cast<int64_t>(idx[2].size())});
    size_t k = 0;
    for (int64_t i : idx[0])
      for (int64_t j : idx[1])
        for (int64_t l : idx[2]) expect.data<float>()[k++] = x.data<float>()[static_cast<size_t>((i * dims[1] + j) * dims[2] + l)];
    ASSERT_TRUE(testing::tensors_near((*out)[0], expect, 0, 0))
        << "iter " << iter << " dims " << dims_str(dims) << " starts " << fmt::format("{}", fmt::join(starts, ","))
        << " ends " << fmt::format("{}", fmt::join(ends, ",")) << " steps " << fmt::format("{}", fmt::join(steps, ","));
  }
}

TEST(Slice, UpgradeSlice1Attributes) {
  auto c = testing::upgrade_case("Slice", "Slice", 1,
                                 {{"starts", std::vector<int64_t>{1}}, {"ends", std::vector<int64_t>{3}},
                                  {"axes", std::vector<int64_t>{-1}}});
  ASSERT_TRUE(op_def(OpId::Slice).upgrade_onnx(c.graph, 9, c.nodes).ok());
  EXPECT_TRUE(c.nodes[0].attrs.empty());
  ASSERT_EQ(c.nodes[0].inputs.size(), 4u);
  EXPECT_EQ(testing::input_constant(c, 1).to_int64(), (std::vector<int64_t>{1}));
  EXPECT_EQ(testing::input_constant(c, 2).to_int64(), (std::vector<int64_t>{3}));
  EXPECT_EQ(testing::input_constant(c, 3).to_int64(), (std::vector<int64_t>{-1}));
  auto d = testing::upgrade_case("Slice", "Slice", 1, {{"starts", std::vector<int64_t>{1}}});
  EXPECT_TRUE(has_text(op_def(OpId::Slice).upgrade_onnx(d.graph, 7, d.nodes), "attribute ends is required"));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Slice, testing::unary_example("Slice", {}, {testing::ints({1}), testing::ints({5}), testing::ints({2})}));

}  // namespace
}  // namespace qmap
