// Integer elementwise references: hand-computed literals (ties, saturation, broadcasting,
// tables, concat requantization).
#include "kernels/ref/qelementwise.h"

#include <cmath>
#include <vector>

#include <gtest/gtest.h>

namespace qmap::kernels::ref {
namespace {

TEST(QElementwiseRef, QuantizeRoundsHalfToEvenAndSaturates) {
  // As ONNX QuantizeLinear: x / 1 = 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2;
  // saturation; NaN -> the zero point.
  const std::vector<float> x = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, 1000.f, -1000.f, NAN};
  std::vector<int8_t> y(x.size());
  quantize(x, 1.f, 0, {y.data(), true});
  EXPECT_EQ(y, (std::vector<int8_t>{0, 2, 2, 0, -2, 127, -128, 0}));
  std::vector<uint8_t> u(x.size());
  quantize(x, 0.5f, 10, {u.data(), false});  // x / 0.5 + 10
  EXPECT_EQ(u, (std::vector<uint8_t>{11, 13, 15, 9, 7, 255, 0, 10}));
}

TEST(QElementwiseRef, Dequantize) {
  const std::vector<uint8_t> q = {0, 128, 255};
  std::vector<float> y(3);
  dequantize({q.data(), false}, 3, 0.5f, 128, y.data());
  EXPECT_EQ(y, (std::vector<float>{-64.f, 0.f, 63.5f}));
}

TEST(QElementwiseRef, AddBroadcastsAndRoundsOnce) {
  // a [2, 3] int8 (za 0), b [3] uint8 (zb 10); s_a/s_y = 0.5, s_b/s_y = 0.25, zy = 1.
  const std::vector<int8_t> a = {1, -1, 3, 100, -100, 0};
  const std::vector<uint8_t> b = {12, 8, 10};
  BinaryGeometry g{{2, 3}, broadcast_strides(std::vector<int64_t>{2, 3}, std::vector<int64_t>{2, 3}),
                   broadcast_strides(std::vector<int64_t>{3}, std::vector<int64_t>{2, 3})};
  EXPECT_EQ(g.b_strides, (std::vector<int64_t>{0, 1}));
  std::vector<int8_t> y(6);
  qadd(g, {a.data(), true}, 0, quantize_multiplier(0.5), {b.data(), false}, 10, quantize_multiplier(0.25), 1,
       -128, 127, {y.data(), true});
  // 0.5 + 0.5 = 1 -> 2; -0.5 - 0.5 = -1 -> 0; 1.5 + 0 = 1.5 -> 2 (away) -> 3;
  // 50 + 0.5 = 50.5 -> 51 -> 52; -50 - 0.5 = -50.5 -> -51 -> -50; 0 + 0 -> 1.
  EXPECT_EQ(y, (std::vector<int8_t>{2, 0, 3, 52, -50, 1}));
}

TEST(QElementwiseRef, MulAndClamp) {
  const std::vector<int8_t> a = {10, -10, 127};
  const std::vector<int8_t> b = {3};
  BinaryGeometry g{{3}, {1}, {0}};
  std::vector<uint8_t> y(3);
  // (a * 3) * 0.1 with zy 0, clamped to [0, 255] (a fused Relu in uint8).
  qmul(g, {a.data(), true}, 0, {b.data(), true}, 0, quantize_multiplier(0.1), 0, 0, 255, {y.data(), false});
  EXPECT_EQ(y, (std::vector<uint8_t>{3, 0, 38}));  // 3.0, -3 -> 0, 38.1
}

TEST(QElementwiseRef, Lut8IndexesFromTheTypeMinimum) {
  std::vector<uint8_t> table(256);
  for (int k = 0; k < 256; ++k) table[static_cast<size_t>(k)] = static_cast<uint8_t>(255 - k);
  const std::vector<int8_t> x = {-128, 0, 127};
  std::vector<uint8_t> y(3);
  lut8({x.data(), true}, 3, table, {y.data(), false});
  EXPECT_EQ(y, (std::vector<uint8_t>{255, 127, 0}));
  std::vector<int8_t> ys(3);  // int8 output: the table holds two's complement bytes
  lut8({x.data(), true}, 3, table, {ys.data(), true});
  EXPECT_EQ(ys, (std::vector<int8_t>{-1, 127, 0}));
}

TEST(QElementwiseRef, ConcatCopiesAndRequantizes) {
  // Two inputs along axis 1 of [2, *]: input 0 copied (block 1), input 1 requantized
  // (block 2) from zero point 4 with r = 0.5 into zy = -1.
  const std::vector<int8_t> x0 = {7, 8};
  const std::vector<int8_t> x1 = {4, 5, 7, -100};
  std::vector<ConcatInput> in = {{{x0.data(), true}, 1, false, 0, {}}, {{x1.data(), true}, 2, true, 4, quantize_multiplier(0.5)}};
  std::vector<int8_t> y(6);
  qconcat(in, 2, -1, {y.data(), true});
  // (4-4)*.5-1 = -1; (5-4)*.5 = 0.5 -> 1 - 1 = 0; (7-4)*.5 = 1.5 -> 2 - 1 = 1; -52 - 1 = -53.
  EXPECT_EQ(y, (std::vector<int8_t>{7, -1, 0, 8, 1, -53}));
}

}  // namespace
}  // namespace qmap::kernels::ref
