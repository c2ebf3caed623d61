// Weight packing shared by the fast convolution kernels (compiled without ISA flags; the ISA
// folders call it at prepare time).
//
// A kernel that multiplies quads of int8 weights (VNNI's vpdpbusd: 4 bytes per 32-bit lane)
// wants an output-channel block's weights interleaved as [k4][rows of the block][4]:
//
//   dst[((b * k4n + k4) * mb + r) * 4 + l]   for output row b * mb + r
//
// with the quad index k4 and lane l taken from the source W[rows][cg][taps] as
//   kTapMajor: k4 = t * c4n + ci / 4, l = ci % 4   (c4n = ceil(cg / 4), k4n = taps * c4n)
//   kFlat:     k = ci * taps + t, k4 = k / 4, l = k % 4   (k4n = ceil(cg * taps / 4))
// Missing rows and channels are zero. Every byte of the destination is written, so it needs
// no clearing first.
#pragma once

#include <cstdint>

namespace qmap::kernels {

enum class PackOrder { kTapMajor, kFlat };

// Quads per row: taps * ceil(cg / 4) (kTapMajor) or ceil(cg * taps / 4) (kFlat).
int64_t packed_quads(int64_t cg, int64_t taps, PackOrder order);

// Packs `rows` output channels into ceil(rows / mb) blocks of packed_quads * mb * 4 bytes.
// With `row_sums`, also stores each row's sum of weights there (the zx * sum(w) bias fold),
// while the row is in cache: a second pass over the weights cost 15% of a load.
void pack_weight_quads(int8_t* dst, const int8_t* w, int64_t rows, int64_t cg, int64_t taps, int64_t mb,
                       PackOrder order, int64_t* row_sums = nullptr);

// sums[r] = the sum of row r's k weights (w is [rows][k]).
void weight_row_sums(const int8_t* w, int64_t rows, int64_t k, int64_t* sums);

}  // namespace qmap::kernels
