// valid_range against brute force, and as_2d's mapping of a 1-D geometry.
#include "kernels/f32/window_geometry.h"

#include <gtest/gtest.h>

namespace qmap::kernels::f32 {
namespace {

TEST(KernelWindowGeometry, ValidRangeMatchesBruteForce) {
  for (int64_t out = 0; out <= 9; ++out)
    for (int64_t stride = 1; stride <= 4; ++stride)
      for (int64_t offset = -12; offset <= 12; ++offset)
        for (int64_t in = 0; in <= 9; ++in) {
          int64_t lo, hi;
          valid_range(out, stride, offset, in, &lo, &hi);
          int64_t want_lo = -1, want_hi = -1;
          for (int64_t o = 0; o < out; ++o) {
            const int64_t i = o * stride + offset;
            if (i >= 0 && i < in) {
              if (want_lo < 0) want_lo = o;
              want_hi = o + 1;
            }
          }
          if (want_lo < 0) {
            EXPECT_EQ(lo, hi) << out << " " << stride << " " << offset << " " << in;
          } else {
            EXPECT_EQ(lo, want_lo) << out << " " << stride << " " << offset << " " << in;
            EXPECT_EQ(hi, want_hi) << out << " " << stride << " " << offset << " " << in;
          }
        }
}

TEST(KernelWindowGeometry, As2dAddsUnitLeadingAxis) {
  WindowGeometry g;
  g.in = {10};
  g.out = {5};
  g.kernel = {3};
  g.strides = {2};
  g.dilations = {1};
  g.pads = {1, 0};
  const WindowGeometry r = as_2d(g);
  EXPECT_EQ(r.in, (std::vector<int64_t>{1, 10}));
  EXPECT_EQ(r.out, (std::vector<int64_t>{1, 5}));
  EXPECT_EQ(r.kernel, (std::vector<int64_t>{1, 3}));
  EXPECT_EQ(r.strides, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(r.pads, (std::vector<int64_t>{0, 1, 0, 0}));
}

}  // namespace
}  // namespace qmap::kernels::f32
