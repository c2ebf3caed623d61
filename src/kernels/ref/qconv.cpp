// Integer 2-D convolution reference (see qconv.h).
#include "kernels/ref/qconv.h"

#include <vector>

namespace qmap::kernels::ref {

namespace {

// Calls out(index, m, acc) for every output element, in row-major [N, M, OH, OW] order.
template <typename Out>
void conv_accumulate(const ConvGeometry2d& g, Q8In x, int32_t zx, std::span<const int8_t> w,
                     std::span<const int32_t> bias, Out out) {
  // x - zx once per input element, so the window loop is plain int32 arithmetic.
  std::vector<int32_t> xs(static_cast<size_t>(g.n * g.c * g.h * g.w));
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = x[static_cast<int64_t>(i)] - zx;
  const int64_t cg = g.c / g.group, mg = g.m / g.group;
  int64_t idx = 0;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t m = 0; m < g.m; ++m) {
      const int64_t c0 = (m / mg) * cg;
      const int8_t* wm = w.data() + m * cg * g.kh * g.kw;
      for (int64_t oy = 0; oy < g.oh; ++oy)
        for (int64_t ox = 0; ox < g.ow; ++ox, ++idx) {
          int64_t acc = bias.empty() ? 0 : bias[static_cast<size_t>(m)];
          for (int64_t ci = 0; ci < cg; ++ci) {
            const int32_t* xc = xs.data() + ((n * g.c + c0 + ci) * g.h) * g.w;
            const int8_t* wc = wm + ci * g.kh * g.kw;
            for (int64_t ky = 0; ky < g.kh; ++ky) {
              const int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dil_h;
              if (iy < 0 || iy >= g.h) continue;  // padding: (zx - zx) * w = 0
              for (int64_t kx = 0; kx < g.kw; ++kx) {
                const int64_t ix = ox * g.stride_w - g.pad_left + kx * g.dil_w;
                if (ix < 0 || ix >= g.w) continue;
                acc += static_cast<int64_t>(xc[iy * g.w + ix]) * wc[ky * g.kw + kx];
              }
            }
          }
          out(idx, m, acc);
        }
    }
}

}  // namespace

void qconv2d(const ConvGeometry2d& g, Q8In x, int32_t zx, std::span<const int8_t> w,
             std::span<const int32_t> bias, std::span<const QMultiplier> mult, int32_t zy,
             int32_t lo, int32_t hi, Q8Out y) {
  conv_accumulate(g, x, zx, w, bias, [&](int64_t i, int64_t m, int64_t acc) {
    y.set(i, requantize(acc, mult[static_cast<size_t>(m)], zy, lo, hi));
  });
}

void qconv2d_float_out(const ConvGeometry2d& g, Q8In x, int32_t zx, std::span<const int8_t> w,
                       std::span<const int32_t> bias, std::span<const double> acc_scale,
                       float* y) {
  conv_accumulate(g, x, zx, w, bias, [&](int64_t i, int64_t m, int64_t acc) {
    y[i] = static_cast<float>(static_cast<double>(acc) * acc_scale[static_cast<size_t>(m)]);
  });
}

}  // namespace qmap::kernels::ref
