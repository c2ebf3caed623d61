#include "kernels/f32/depthwise_conv.h"

#include <algorithm>

namespace qmap::kernels::f32 {

namespace {

// One output row: yr[ox] += wv * xr[ox * stride] for ox in [lo, hi). The stride is a template
// parameter so the stride-1 and stride-2 loops compile to straight vector code.
template <int kStride>
inline void axpy_row(float* __restrict yr, const float* __restrict xr, float wv, int64_t lo,
                     int64_t hi) {
  for (int64_t ox = lo; ox < hi; ++ox) yr[ox] += wv * xr[ox * kStride];
}

inline void axpy_row_any(float* __restrict yr, const float* __restrict xr, float wv, int64_t lo,
                         int64_t hi, int64_t stride) {
  for (int64_t ox = lo; ox < hi; ++ox) yr[ox] += wv * xr[ox * stride];
}

}  // namespace

void depthwise_conv2d(const WindowGeometry& g, const float* x, const float* w, const float* bias,
                      float* y) {
  const int64_t c_n = g.in_channels, ih = g.in[0], iw = g.in[1], oh = g.out[0], ow = g.out[1];
  const int64_t kh = g.kernel[0], kw = g.kernel[1];
  const int64_t sh = g.strides[0], sw = g.strides[1], dh = g.dilations[0], dw = g.dilations[1];
  const int64_t pt = g.pad_begin(0), pl = g.pad_begin(1);
  // Valid output-column range per kernel column (independent of the row and the channel).
  std::vector<int64_t> lo(static_cast<size_t>(kw)), hi(static_cast<size_t>(kw));
  for (int64_t kx = 0; kx < kw; ++kx)
    valid_range(ow, sw, kx * dw - pl, iw, &lo[static_cast<size_t>(kx)], &hi[static_cast<size_t>(kx)]);
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t c = 0; c < c_n; ++c) {
      const float* xp = x + (n * c_n + c) * ih * iw;
      const float* wp = w + c * kh * kw;
      float* yp = y + (n * c_n + c) * oh * ow;
      const float b = bias ? bias[c] : 0.f;
      for (int64_t oy = 0; oy < oh; ++oy) {
        float* yr = yp + oy * ow;
        std::fill(yr, yr + ow, b);
        for (int64_t ky = 0; ky < kh; ++ky) {
          const int64_t iy = oy * sh - pt + ky * dh;
          if (iy < 0 || iy >= ih) continue;
          for (int64_t kx = 0; kx < kw; ++kx) {
            const float* xr = xp + iy * iw + kx * dw - pl;
            const float wv = wp[ky * kw + kx];
            const int64_t l = lo[static_cast<size_t>(kx)], h = hi[static_cast<size_t>(kx)];
            if (sw == 1) axpy_row<1>(yr, xr, wv, l, h);
            else if (sw == 2) axpy_row<2>(yr, xr, wv, l, h);
            else axpy_row_any(yr, xr, wv, l, h, sw);
          }
        }
      }
    }
  }
}

}  // namespace qmap::kernels::f32
