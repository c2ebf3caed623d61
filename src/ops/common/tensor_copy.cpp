#include "ops/common/tensor_copy.h"

#include <cstring>

#include "ops/common/helpers.h"

namespace qmap::ops {

Status copy_reshaped(const Tensor& src, Tensor& dst) {
  QMAP_CHECK(src.dtype() == dst.dtype() && src.numel() == dst.numel(), "copy_reshaped {} -> {}",
             dims_str(src.dims()), dims_str(dst.dims()));
  if (src.nbytes() > 0) std::memcpy(dst.raw(), src.raw(), src.nbytes());
  return ok_status();
}

std::vector<int64_t> identity_map(int64_t n) {
  std::vector<int64_t> m(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) m[static_cast<size_t>(i)] = i;
  return m;
}

void gather_by_axis_maps(const Tensor& src, Tensor& dst, const AxisMaps& maps,
                         const std::byte* fill) {
  const Dims& in = src.dims();
  const Dims& out = dst.dims();
  const int rank = static_cast<int>(out.size());
  QMAP_CHECK(src.dtype() == dst.dtype() && static_cast<int>(in.size()) == rank &&
                 static_cast<int>(maps.size()) == rank,
             "gather_by_axis_maps: {} -> {}", dims_str(in), dims_str(out));
  if (dst.numel() == 0) return;
  const size_t esize = dtype_size(src.dtype());

  // Collapse the trailing identity axes into one contiguous block of `block` bytes.
  int lead = rank;
  while (lead > 0) {
    const auto& m = maps[static_cast<size_t>(lead - 1)];
    if (out[static_cast<size_t>(lead - 1)] != in[static_cast<size_t>(lead - 1)]) break;
    bool ident = true;
    for (size_t j = 0; j < m.size() && ident; ++j) ident = m[j] == static_cast<int64_t>(j);
    if (!ident) break;
    --lead;
  }
  int64_t block_elems = 1;
  for (int d = lead; d < rank; ++d) block_elems *= out[static_cast<size_t>(d)];
  const Dims in_strides = strides_of(in);  // elements
  // Then one more axis whose map is an ascending run (a slice's kept part, e.g. a channel
  // split): its rows are adjacent in the source as in the destination, so they join the
  // block (one copy instead of one per channel: 232 copies of 49 bytes for a 7x7 split).
  int64_t run_offset = 0;  // source elements before the run's first row
  if (lead > 0) {
    const auto& m = maps[static_cast<size_t>(lead - 1)];
    bool run = !m.empty() && m[0] >= 0;
    for (size_t j = 1; j < m.size() && run; ++j) run = m[j] == m[0] + static_cast<int64_t>(j);
    if (run) {
      run_offset = m[0] * in_strides[static_cast<size_t>(lead - 1)];
      block_elems *= out[static_cast<size_t>(lead - 1)];
      --lead;
    }
  }
  const size_t block = static_cast<size_t>(block_elems) * esize;
  // The block written where a map says -1 (outside the source): `fill`, or zeros without one.
  bool outside_any = false;
  for (const auto& m : maps)
    for (size_t j = 0; j < m.size() && !outside_any; ++j) outside_any = m[j] < 0;
  std::vector<std::byte> fill_block(outside_any ? block : 0);
  if (fill != nullptr && outside_any)
    for (int64_t e = 0; e < block_elems; ++e)
      std::memcpy(fill_block.data() + static_cast<size_t>(e) * esize, fill, esize);

  const std::byte* s = src.raw();
  std::byte* d = dst.raw();
  s += static_cast<size_t>(run_offset) * esize;
  if (lead == 0) {
    std::memcpy(d, s, block);
    return;
  }
  // Odometer over the leading axes; the last leading axis is the inner loop.
  const size_t last = static_cast<size_t>(lead - 1);
  const auto& last_map = maps[last];
  const int64_t last_stride = in_strides[last];
  std::vector<int64_t> idx(last, 0);
  int64_t n_outer = 1;
  for (size_t a = 0; a < last; ++a) n_outer *= out[a];
  for (int64_t o = 0; o < n_outer; ++o) {
    int64_t base = 0;
    bool outside = false;
    for (size_t a = 0; a < last; ++a) {
      const int64_t m = maps[a][static_cast<size_t>(idx[a])];
      if (m < 0) outside = true;
      base += m * in_strides[a];
    }
    for (int64_t j = 0; j < out[last]; ++j, d += block) {
      const int64_t m = last_map[static_cast<size_t>(j)];
      if (outside || m < 0)
        std::memcpy(d, fill_block.data(), block);
      else
        std::memcpy(d, s + static_cast<size_t>(base + m * last_stride) * esize, block);
    }
    for (size_t a = last; a-- > 0;) {
      if (++idx[a] < out[a]) break;
      idx[a] = 0;
    }
  }
}

}  // namespace qmap::ops
