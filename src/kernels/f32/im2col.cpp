#include "kernels/f32/im2col.h"

#include <algorithm>
#include <cstring>

namespace qmap::kernels::f32 {

void im2col_2d(const WindowGeometry& g, int64_t channels, const float* image, float* columns) {
  const int64_t ih = g.in[0], iw = g.in[1], oh = g.out[0], ow = g.out[1];
  const int64_t kh = g.kernel[0], kw = g.kernel[1];
  const int64_t sh = g.strides[0], sw = g.strides[1], dh = g.dilations[0], dw = g.dilations[1];
  const int64_t pt = g.pad_begin(0), pl = g.pad_begin(1);
  float* col = columns;
  for (int64_t c = 0; c < channels; ++c) {
    const float* plane = image + c * ih * iw;
    for (int64_t ky = 0; ky < kh; ++ky) {
      for (int64_t kx = 0; kx < kw; ++kx) {
        const int64_t xoff = kx * dw - pl;
        int64_t lo, hi;
        valid_range(ow, sw, xoff, iw, &lo, &hi);
        for (int64_t oy = 0; oy < oh; ++oy, col += ow) {
          const int64_t iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= ih) {
            std::fill(col, col + ow, 0.f);
            continue;
          }
          const float* row = plane + iy * iw + xoff;
          std::fill(col, col + lo, 0.f);
          if (sw == 1) {
            std::memcpy(col + lo, row + lo, static_cast<size_t>(hi - lo) * sizeof(float));
          } else {
            for (int64_t ox = lo; ox < hi; ++ox) col[ox] = row[ox * sw];
          }
          std::fill(col + hi, col + ow, 0.f);
        }
      }
    }
  }
}

void col2im_2d_add(const WindowGeometry& g, int64_t channels, const float* columns, float* image) {
  const int64_t ih = g.in[0], iw = g.in[1], oh = g.out[0], ow = g.out[1];
  const int64_t kh = g.kernel[0], kw = g.kernel[1];
  const int64_t sh = g.strides[0], sw = g.strides[1], dh = g.dilations[0], dw = g.dilations[1];
  const int64_t pt = g.pad_begin(0), pl = g.pad_begin(1);
  const float* col = columns;
  for (int64_t c = 0; c < channels; ++c) {
    float* plane = image + c * ih * iw;
    for (int64_t ky = 0; ky < kh; ++ky) {
      for (int64_t kx = 0; kx < kw; ++kx) {
        const int64_t xoff = kx * dw - pl;
        int64_t lo, hi;
        valid_range(ow, sw, xoff, iw, &lo, &hi);
        for (int64_t oy = 0; oy < oh; ++oy, col += ow) {
          const int64_t iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= ih) continue;
          float* row = plane + iy * iw + xoff;
          if (sw == 1) {
            for (int64_t ox = lo; ox < hi; ++ox) row[ox] += col[ox];
          } else {
            for (int64_t ox = lo; ox < hi; ++ox) row[ox * sw] += col[ox];
          }
        }
      }
    }
  }
}

}  // namespace qmap::kernels::f32
