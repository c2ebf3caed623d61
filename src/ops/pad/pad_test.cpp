#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

using testing::has_text;
Tensor ints(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }
Tensor x23() { return Tensor::from_vector<float>({2, 3}, {1, 2, 3, 4, 5, 6}); }

// Expected values below come from numpy.pad on [[1,2,3],[4,5,6]] (/usr/bin/python3).
TEST(Pad, ReflectWiderThanAxis) {
  Tensor x = x23();
  Tensor pads = ints({1, 2, 0, 4});  // begin (1, 2), end (0, 4)
  auto out = testing::run_op("Pad", {&x, &pads}, {{"mode", std::string("reflect")}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({3, 9}, {6, 5, 4, 5, 6, 5, 4, 5, 6,  //
                                                                                  3, 2, 1, 2, 3, 2, 1, 2, 3,  //
                                                                                  6, 5, 4, 5, 6, 5, 4, 5, 6})));
}

// Constant mode without a constant_value input pads with zeros (the fill block is zeroed, not
// read from an absent input); the unpadded rows are copied whole.
TEST(Pad, ConstantWithoutValuePadsZeros) {
  Tensor x = x23();
  Tensor pads = ints({1, 0, 0, 1});  // a row before, a column after
  auto out = testing::run_op("Pad", {&x, &pads});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near((*out)[0], Tensor::from_vector<float>({3, 4}, {0, 0, 0, 0,  //
                                                                                  1, 2, 3, 0,  //
                                                                                  4, 5, 6, 0})));
}

TEST(Pad, Edge) {
  Tensor x = x23();
  Tensor pads = ints({0, 1, 1, 1});
  auto out = testing::run_op("Pad", {&x, &pads}, {{"mode", std::string("edge")}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_TRUE(testing::tensors_near(
      (*out)[0], Tensor::from_vector<float>({3, 5}, {1, 1, 2, 3, 3, 4, 4, 5, 6, 6, 4, 4, 5, 6, 6})));
}

TEST(Pad, ConstantValueAndNegativePadsInt32) {
  Tensor x = Tensor::from_vector<int32_t>({2, 3}, {1, 2, 3, 4, 5, 6});
  Tensor pads = ints({1, -1, 1, 0});  // one row above and below; crop the first column
  Tensor v = Tensor::scalar<int32_t>(9);
  auto out = testing::run_op("Pad", {&x, &pads, &v});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].dims(), (Dims{4, 2}));
  EXPECT_EQ((*out)[0].to_int64(), (std::vector<int64_t>{9, 9, 2, 3, 5, 6, 9, 9}));
}

TEST(Pad, Errors) {
  Tensor x = x23();
  Tensor pads = ints({0, 0, 0, 0}), short_pads = ints({1, 1}), crop = ints({0, -2, 0, -2});
  Tensor v = Tensor::scalar<int64_t>(1);
  EXPECT_TRUE(has_text(testing::run_op("Pad", {&x, &pads}, {{"mode", std::string("wrap")}}).status(),
                       "mode 'wrap' is not valid"));
  EXPECT_TRUE(has_text(testing::run_op("Pad", {&x, &short_pads}).status(), "must have 2 * rank = 4"));
  EXPECT_TRUE(has_text(testing::run_op("Pad", {&x, &crop}).status(), "cropping cannot exceed"));
  EXPECT_TRUE(has_text(testing::run_op("Pad", {&x, &pads, &v}).status(), "constant_value has type int64"));
  Tensor e(DType::kFloat32, {0, 2});
  Tensor grow = ints({1, 0, 0, 0});
  EXPECT_TRUE(has_text(testing::run_op("Pad", {&e, &grow}, {{"mode", std::string("edge")}}).status(),
                       "cannot pad axis 0 of length 0"));
  // Pads near int64's limit (the onnx fuzzer's fuzz/regressions/onnx/pad_length_overflows_int64.onnx
  // summed two of them: undefined behaviour) are refused by name.
  Tensor huge = ints({0, 4853479690653925121, 0, 7520844679062975609});
  EXPECT_TRUE(has_text(testing::run_op("Pad", {&x, &huge}).status(), "on axis 1 of length 3: the padded length overflows int64"));
}

// Reference: numpy-style reflect by repeated mirroring, one index at a time.
int64_t ref_reflect(int64_t i, int64_t n) {
  while (i < 0 || i >= n) {
    if (n == 1) return 0;
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
  }
  return i;
}

TEST(Pad, RandomReflectAgainstReferenceLoop) {
  for (uint32_t seed = 0; seed < 60; ++seed) {
    const int64_t h = 1 + seed % 4, w = 1 + seed % 7;
    const int64_t pt = seed % 5, pl = (seed * 3) % 9, pb = (seed * 5) % 4, pr = seed % 11;
    Tensor x = testing::random_tensor({h, w}, seed);
    Tensor pads = ints({pt, pl, pb, pr});
    auto out = testing::run_op("Pad", {&x, &pads}, {{"mode", std::string("reflect")}});
    ASSERT_TRUE(out.ok()) << out.status().message();
    Tensor expect(DType::kFloat32, {h + pt + pb, w + pl + pr});
    for (int64_t i = 0; i < h + pt + pb; ++i)
      for (int64_t j = 0; j < w + pl + pr; ++j)
        expect.data<float>()[static_cast<size_t>(i * (w + pl + pr) + j)] =
            x.data<float>()[static_cast<size_t>(ref_reflect(i - pt, h) * w + ref_reflect(j - pl, w))];
    ASSERT_TRUE(testing::tensors_near((*out)[0], expect, 0, 0)) << "seed " << seed;
  }
}

TEST(Pad, UpgradePad2Attributes) {
  auto c = testing::upgrade_case("Pad", "Pad", 1,
                                 {{"pads", std::vector<int64_t>{0, 1, 0, 1}}, {"value", 2.5f},
                                  {"mode", std::string("constant")}});
  ASSERT_TRUE(op_def(OpId::Pad).upgrade_onnx(c.graph, 7, c.nodes).ok());
  EXPECT_FALSE(c.nodes[0].has_attr("pads"));
  EXPECT_FALSE(c.nodes[0].has_attr("value"));
  EXPECT_TRUE(c.nodes[0].has_attr("mode"));
  EXPECT_EQ(testing::input_constant(c, 1).to_int64(), (std::vector<int64_t>{0, 1, 0, 1}));
  EXPECT_EQ(testing::input_constant(c, 2).dtype(), DType::kFloat32);
  EXPECT_EQ(testing::input_constant(c, 2).to_double()[0], 2.5);
}

TEST(Pad, NpuParams) {
  Tensor x(DType::kFloat32, {1, 1, 2, 2});
  Tensor pads = ints({0, 0, 1, 1, 0, 0, 1, 1});
  const OpParams p = testing::npu_params_of("Pad", {{"mode", std::string("edge")}}, {testing::known(x), testing::known(pads)}, Dims{1, 1, 4, 4});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].text, "edge");
  EXPECT_EQ(p[1].ints, (std::vector<int64_t>{0, 0, 1, 1, 0, 0, 1, 1}));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Pad, testing::unary_example("Pad", {}, {testing::ints({0, 0, 1, 1, 0, 0, 1, 1})}));

}  // namespace
}  // namespace qmap
