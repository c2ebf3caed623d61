#include "kernels/f32/im2col.h"

#include <algorithm>
#include <cstring>

namespace qmap::kernels::f32 {

namespace {

// Visits the columns matrix one output row segment (ow entries) at a time, in storage order:
// f(inside, image_offset, segment, lo, hi, sw) where `segment` is the segment's offset in the
// columns matrix, `inside` says whether the input row is inside the image, and entry ox in
// [lo, hi) of the segment maps to image element image_offset + ox * sw (the others are padding).
template <typename F>
void for_each_segment(const WindowGeometry& g, int64_t channels, F f) {
  const int64_t ih = g.in[0], iw = g.in[1], oh = g.out[0], ow = g.out[1];
  const int64_t kh = g.kernel[0], kw = g.kernel[1];
  const int64_t sh = g.strides[0], sw = g.strides[1], dh = g.dilations[0], dw = g.dilations[1];
  const int64_t pt = g.pad_begin(0), pl = g.pad_begin(1);
  int64_t segment = 0;
  for (int64_t c = 0; c < channels; ++c)
    for (int64_t ky = 0; ky < kh; ++ky)
      for (int64_t kx = 0; kx < kw; ++kx) {
        const int64_t xoff = kx * dw - pl;
        int64_t lo, hi;
        valid_range(ow, sw, xoff, iw, &lo, &hi);
        for (int64_t oy = 0; oy < oh; ++oy, segment += ow) {
          const int64_t iy = oy * sh - pt + ky * dh;
          const bool inside = iy >= 0 && iy < ih;
          f(inside, (c * ih + iy) * iw + xoff, segment, lo, hi, sw);
        }
      }
}

}  // namespace

void im2col_2d(const WindowGeometry& g, int64_t channels, const float* image, float* columns) {
  const int64_t ow = g.out[1];
  for_each_segment(g, channels, [&](bool inside, int64_t src, int64_t segment, int64_t lo,
                                    int64_t hi, int64_t sw) {
    float* col = columns + segment;
    if (!inside) {
      std::fill(col, col + ow, 0.f);
      return;
    }
    const float* row = image + src;
    std::fill(col, col + lo, 0.f);
    if (sw == 1) std::memcpy(col + lo, row + lo, static_cast<size_t>(hi - lo) * sizeof(float));
    else for (int64_t ox = lo; ox < hi; ++ox) col[ox] = row[ox * sw];
    std::fill(col + hi, col + ow, 0.f);
  });
}

void col2im_2d_add(const WindowGeometry& g, int64_t channels, const float* columns, float* image) {
  for_each_segment(g, channels, [&](bool inside, int64_t dst, int64_t segment, int64_t lo,
                                    int64_t hi, int64_t sw) {
    if (!inside) return;
    const float* col = columns + segment;
    float* row = image + dst;
    if (sw == 1) for (int64_t ox = lo; ox < hi; ++ox) row[ox] += col[ox];
    else for (int64_t ox = lo; ox < hi; ++ox) row[ox * sw] += col[ox];
  });
}

}  // namespace qmap::kernels::f32
