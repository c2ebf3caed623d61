// Weight packing for the fast convolution kernels (weight_pack.h). Written for load time: the
// destination is produced in order, a row at a time, with 4-byte stores; the source rows are
// read where they lie.
#include "kernels/weight_pack.h"

#include <cstring>

namespace qmap::kernels {

int64_t packed_quads(int64_t cg, int64_t taps, PackOrder order) {
  return order == PackOrder::kTapMajor ? taps * ((cg + 3) / 4) : (cg * taps + 3) / 4;
}

void pack_weight_quads(int8_t* dst, const int8_t* w, int64_t rows, int64_t cg, int64_t taps, int64_t mb,
                       PackOrder order, int64_t* row_sums) {
  const int64_t k4n = packed_quads(cg, taps, order);
  const int64_t c4n = (cg + 3) / 4;
  const int64_t k = cg * taps;
  const int64_t padded = (rows + mb - 1) / mb * mb;
  const int64_t step = mb * 4;  // bytes from one quad of a row to its next
  for (int64_t row = 0; row < padded; ++row) {
    int8_t* out = dst + (row / mb) * k4n * step + (row % mb) * 4;
    if (row >= rows) {
      for (int64_t q = 0; q < k4n; ++q) std::memset(out + q * step, 0, 4);
      continue;
    }
    const int8_t* src = w + row * k;
    if (row_sums) weight_row_sums(src, 1, k, row_sums + row);
    if (order == PackOrder::kFlat || taps == 1) {  // quads are consecutive source bytes
      const int64_t full = k / 4;
      for (int64_t q = 0; q < full; ++q) std::memcpy(out + q * step, src + 4 * q, 4);
      if (full < k4n) {
        int8_t tail[4] = {0, 0, 0, 0};
        for (int64_t i = 4 * full; i < k; ++i) tail[i - 4 * full] = src[i];
        std::memcpy(out + full * step, tail, 4);
      }
      continue;
    }
    for (int64_t c4 = 0; c4 < c4n; ++c4) {
      const int64_t lanes = cg - 4 * c4 < 4 ? cg - 4 * c4 : 4;
      const int8_t* s = src + 4 * c4 * taps;
      for (int64_t t = 0; t < taps; ++t) {
        int8_t quad[4] = {0, 0, 0, 0};
        for (int64_t l = 0; l < lanes; ++l) quad[l] = s[l * taps + t];
        std::memcpy(out + (t * c4n + c4) * step, quad, 4);
      }
    }
  }
}

void weight_row_sums(const int8_t* w, int64_t rows, int64_t k, int64_t* sums) {
  for (int64_t r = 0; r < rows; ++r) {
    const int8_t* src = w + r * k;
    int32_t s = 0;  // |sum| <= 128 * k < 2^31 for any k < 2^24
    for (int64_t i = 0; i < k; ++i) s += src[i];
    sums[r] = s;
  }
}

}  // namespace qmap::kernels
