// Integer pooling references (see qpool.h).
#include "kernels/ref/qpool.h"

#include <algorithm>

namespace qmap::kernels::ref {

namespace {

// Calls f(out_index, plane_offset, y0, x0) per output: the plane's first element and the
// window's first tap in input coordinates (negative inside the begin padding).
template <typename F>
void for_each_window(const PoolGeometry2d& g, F f) {
  int64_t idx = 0;
  for (int64_t p = 0; p < g.n * g.c; ++p)
    for (int64_t oy = 0; oy < g.oh; ++oy)
      for (int64_t ox = 0; ox < g.ow; ++ox, ++idx) 
          f(idx, p * g.h * g.w, oy * g.stride_h - g.pad_top, ox * g.stride_w - g.pad_left);
}

}  // namespace

void qmaxpool2d(const PoolGeometry2d& g, Q8In x, Q8Out y) {
  for_each_window(g, [&](int64_t idx, int64_t plane, int64_t y0, int64_t x0) {
    int32_t best = q8_min(x.is_signed);
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = y0 + ky * g.dil_h;
      if (iy < 0 || iy >= g.h) continue;
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const int64_t ix = x0 + kx * g.dil_w;
        if (ix >= 0 && ix < g.w) best = std::max(best, x[plane + iy * g.w + ix]);
      }
    }
    y.set(idx, best);
  });
}

void qavgpool2d(const PoolGeometry2d& g, bool count_include_pad, Q8In x, int32_t zx,
                std::span<const QMultiplier> mult, int32_t zy, int32_t lo, int32_t hi, Q8Out y) {
  for_each_window(g, [&](int64_t idx, int64_t plane, int64_t y0, int64_t x0) {
    int64_t sum = 0, inside = 0, padded = 0;
    for (int64_t ky = 0; ky < g.kh; ++ky) {
      const int64_t iy = y0 + ky * g.dil_h;
      if (iy < -g.pad_top || iy >= g.h + g.pad_bottom) continue;
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const int64_t ix = x0 + kx * g.dil_w;
        if (ix < -g.pad_left || ix >= g.w + g.pad_right) continue;
        ++padded;
        if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) continue;
        ++inside;
        sum += x[plane + iy * g.w + ix] - zx;
      }
    }
    const int64_t count = count_include_pad ? padded : inside;
    // An empty window (possible only with ceil_mode and no padding) outputs the zero point.
    y.set(idx, count == 0 ? std::clamp(zy, lo, hi) : requantize(sum, mult[static_cast<size_t>(count)], zy, lo, hi));
  });
}

}  // namespace qmap::kernels::ref
