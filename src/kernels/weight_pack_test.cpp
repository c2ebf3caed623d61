// pack_weight_quads against its definition (weight_pack.h), element by element, over shapes that
// cross every edge: rows not a multiple of the block, channels not a multiple of 4, one tap
// and many, and the destination pre-filled with garbage (every byte must be written).
#include "kernels/weight_pack.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace qmap::kernels {
namespace {

struct Shape {
  int64_t rows, cg, taps, mb;
};

TEST(WeightPack, MatchesTheDefinitionForEveryOrderAndEdge) {
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> byte(-128, 127);
  const Shape shapes[] = {{1, 1, 1, 8},  {8, 4, 1, 8},   {9, 3, 9, 8},   {17, 5, 9, 16}, {48, 64, 9, 48},
                          {50, 67, 1, 48}, {3, 2, 49, 8}, {64, 256, 1, 64}, {7, 13, 25, 8}, {33, 6, 4, 16}};
  for (const PackOrder order : {PackOrder::kTapMajor, PackOrder::kFlat})
    for (const Shape& s : shapes) {
      const int64_t k = s.cg * s.taps;
      std::vector<int8_t> w(static_cast<size_t>(s.rows * k));
      for (int8_t& v : w) v = static_cast<int8_t>(byte(rng));
      const int64_t k4n = packed_quads(s.cg, s.taps, order);
      const int64_t blocks = (s.rows + s.mb - 1) / s.mb;
      std::vector<int8_t> got(static_cast<size_t>(blocks * k4n * s.mb * 4), 0x55);
      std::vector<int64_t> sums(static_cast<size_t>(s.rows), -999), want_sums(sums.size());
      pack_weight_quads(got.data(), w.data(), s.rows, s.cg, s.taps, s.mb, order, sums.data());
      weight_row_sums(w.data(), s.rows, k, want_sums.data());
      EXPECT_EQ(sums, want_sums);
      const int64_t c4n = (s.cg + 3) / 4;
      for (int64_t row = 0; row < blocks * s.mb; ++row)
        for (int64_t q = 0; q < k4n; ++q)
          for (int64_t l = 0; l < 4; ++l) {
            int8_t want = 0;
            if (row < s.rows) {
              if (order == PackOrder::kTapMajor) {
                const int64_t t = q / c4n, ci = (q % c4n) * 4 + l;
                if (ci < s.cg) want = w[static_cast<size_t>(row * k + ci * s.taps + t)];
              } else if (q * 4 + l < k) {
                want = w[static_cast<size_t>(row * k + q * 4 + l)];
              }
            }
            const size_t at = static_cast<size_t>((((row / s.mb) * k4n + q) * s.mb + row % s.mb) * 4 + l);
            ASSERT_EQ(got[at], want) << "order " << static_cast<int>(order) << " shape " << s.rows << "x" << s.cg << "x"
                                     << s.taps << " mb " << s.mb << " row " << row << " quad " << q << " lane " << l;
          }
    }
}

TEST(WeightPack, RowSums) {
  const std::vector<int8_t> w = {-128, -128, 127, 1, 2, 3, 0, 0, 0};
  std::vector<int64_t> sums(3);
  weight_row_sums(w.data(), 3, 3, sums.data());
  EXPECT_EQ(sums, (std::vector<int64_t>{-129, 6, 0}));
}

}  // namespace
}  // namespace qmap::kernels
