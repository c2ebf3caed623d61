#include "ops/common/tensor_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

TEST(Shape, StartEndClamped) {
  // Expected by hand from Shape-15's rules on a 3x4x5 bool input.
  Tensor x(DType::kBool, {3, 4, 5});
  const std::tuple<std::map<std::string, AttrValue>, std::vector<int64_t>> cases[] = {
      {{}, {3, 4, 5}},
      {{{"start", int64_t{1}}}, {4, 5}},
      {{{"end", int64_t{-1}}}, {3, 4}},
      {{{"start", int64_t{-10}}, {"end", int64_t{10}}}, {3, 4, 5}},
      {{{"start", int64_t{2}}, {"end", int64_t{1}}}, {}},
  };
  for (const auto& [attrs, expected] : cases) {
    auto out = testing::run_op("Shape", {&x}, attrs);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ((*out)[0].dtype(), DType::kInt64);
    EXPECT_EQ((*out)[0].to_int64(), expected);
  }
}

TEST(Shape, InferenceSetsValueWhenDimsKnown) {
  auto out = testing::infer_op("Shape", {testing::unknown(DType::kFloat32, Dims{1, 3, 224, 224})},
                               {{"start", int64_t{2}}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_TRUE((*out)[0].value.has_value());
  EXPECT_EQ((*out)[0].value->to_int64(), (std::vector<int64_t>{224, 224}));
  // A dynamic batch dim is not a value, but the output length is known.
  auto dyn = testing::infer_op("Shape", {testing::unknown(DType::kFloat32, Dims{-1, 3})});
  ASSERT_TRUE(dyn.ok());
  EXPECT_FALSE((*dyn)[0].value.has_value());
  EXPECT_EQ(*(*dyn)[0].dims, Dims{2});
  auto unk = testing::infer_op("Shape", {testing::unknown(DType::kFloat32, std::nullopt)});
  ASSERT_TRUE(unk.ok());
  EXPECT_FALSE((*unk)[0].dims.has_value());
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Shape, {.skip = "Shape of a static input is a constant: folded, nothing to place"});

}  // namespace
}  // namespace qmap
