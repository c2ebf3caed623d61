// Integer pooling references: hand-computed literals for max, average with and without
// counting the padding, and the global window.
#include "kernels/ref/qpool.h"

#include <vector>

#include <gtest/gtest.h>

namespace qmap::kernels::ref {
namespace {

// 1x1x3x3 input 1..9 (uint8, zero point 1 for the average cases: x - zx = 0..8).
const std::vector<uint8_t> kX = {1, 2, 3, 4, 5, 6, 7, 8, 9};

std::vector<QMultiplier> count_multipliers(int taps, double r) {
  std::vector<QMultiplier> m(1);
  for (int c = 1; c <= taps; ++c) m.push_back(quantize_multiplier(r / c));
  return m;
}

TEST(QPoolRef, MaxPoolWithPadding) {
  // 2x2 window, stride 2, pads 1 on every side: output 2x2 of windows {1}, {2,3}, {4,7}, {5,6,8,9}.
  PoolGeometry2d g{1, 1, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1};
  std::vector<uint8_t> y(4);
  qmaxpool2d(g, {kX.data(), false}, {y.data(), false});
  EXPECT_EQ(y, (std::vector<uint8_t>{1, 3, 7, 9}));
}

TEST(QPoolRef, AveragePoolCountsPaddingOrNot) {
  PoolGeometry2d g{1, 1, 3, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1};
  std::vector<uint8_t> y(4);
  // count_include_pad = 0: means of {0}, {1,2}, {3,6}, {4,5,7,8} = 0, 1.5, 4.5, 6 -> 0, 2, 5, 6
  // (half away from zero), + zy 0; scale ratio 1.
  qavgpool2d(g, false, {kX.data(), false}, 1, count_multipliers(4, 1.0), 0, 0, 255, {y.data(), false});
  EXPECT_EQ(y, (std::vector<uint8_t>{0, 2, 5, 6}));
  // count_include_pad = 1: every window has 4 taps inside the padded input: 0, 0.75, 2.25, 6
  // -> 0, 1, 2, 6.
  qavgpool2d(g, true, {kX.data(), false}, 1, count_multipliers(4, 1.0), 0, 0, 255, {y.data(), false});
  EXPECT_EQ(y, (std::vector<uint8_t>{0, 1, 2, 6}));
}

TEST(QPoolRef, GlobalAverageIsTheWholePlane) {
  PoolGeometry2d g{1, 1, 3, 3, 1, 1, 3, 3};
  std::vector<int8_t> y(1);
  // mean(0..8) = 4, times s_x / s_y = 2 -> 8, + zy -3 = 5.
  qavgpool2d(g, false, {kX.data(), false}, 1, count_multipliers(9, 2.0), -3, -128, 127, {y.data(), true});
  EXPECT_EQ(y[0], 5);
}

}  // namespace
}  // namespace qmap::kernels::ref
