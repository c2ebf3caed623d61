// Dtype-agnostic element movement for the tensor-family ops: elements are copied by
// dtype_size bytes, so these work for every IR dtype (float32/64, int8/uint8, int32/64, bool).
#pragma once

#include <cstddef>
#include <vector>

#include "core/status.h"
#include "ir/tensor.h"

namespace qmap::ops {

// Per-axis index maps: maps[d][j] is the source index along axis d that destination index j
// along axis d reads, or -1 where the destination takes the fill element instead.
using AxisMaps = std::vector<std::vector<int64_t>>;

// dst[j0, j1, ...] = src[maps[0][j0], maps[1][j1], ...], or *fill if any index is -1.
// src and dst have equal rank and dtype; maps[d].size() == dst.dims()[d]. `fill` points at
// one element of the dtype (nullptr: zero). Trailing axes whose map is the identity are
// copied as whole contiguous blocks (memcpy), so Gather/Slice/Split/Pad on outer axes are
// row copies. Used by Gather, Slice, Split, Pad and nearest Resize.
void gather_by_axis_maps(const Tensor& src, Tensor& dst, const AxisMaps& maps,
                         const std::byte* fill = nullptr);

// Copies all of src's bytes into dst (same dtype and element count; dims may differ). The
// eval of the pure reshaping ops: Reshape, Flatten, Squeeze, Unsqueeze.
Status copy_reshaped(const Tensor& src, Tensor& dst);

// The identity map of length n (0, 1, ..., n-1).
std::vector<int64_t> identity_map(int64_t n);

}  // namespace qmap::ops
