// Integer 2-D convolution reference (see qconv.h).
#include "kernels/ref/qconv.h"

#include <algorithm>
#include <vector>

namespace qmap::kernels::ref {

namespace {

// The output columns ox in [0, ow) whose tap ox*stride + offset lies in [0, w): [*lo, *hi).
void valid_columns(int64_t ow, int64_t stride, int64_t offset, int64_t w, int64_t* lo, int64_t* hi) {
  *lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  *hi = w - offset <= 0 ? 0 : (w - offset + stride - 1) / stride;
  *lo = std::min(*lo, ow);
  *hi = std::max(std::min(*hi, ow), *lo);
}

// Calls out(index, m, acc) for every output element, in row-major [N, M, OH, OW] order.
// Acc is the accumulator type: int32 when the bound below proves no overflow, else int64;
// both give the exact sum, so the choice never changes a result.
template <typename Acc, typename Out>
void conv_accumulate_as(const ConvGeometry2d& g, const std::vector<int32_t>& xs, std::span<const int8_t> w,
                        std::span<const int32_t> bias, Out out) {
  const int64_t cg = g.c / g.group, mg = g.m / g.group;
  std::vector<Acc> acc(static_cast<size_t>(g.ow));
  int64_t idx = 0;
  for (int64_t n = 0; n < g.n; ++n)
    for (int64_t m = 0; m < g.m; ++m) {
      const int64_t c0 = (m / mg) * cg;
      const int8_t* wm = w.data() + m * cg * g.kh * g.kw;
      for (int64_t oy = 0; oy < g.oh; ++oy) {
        std::fill(acc.begin(), acc.end(), static_cast<Acc>(bias.empty() ? 0 : bias[static_cast<size_t>(m)]));
        for (int64_t ci = 0; ci < cg; ++ci) {
          const int32_t* xc = xs.data() + ((n * g.c + c0 + ci) * g.h) * g.w;
          const int8_t* wc = wm + ci * g.kh * g.kw;
          for (int64_t ky = 0; ky < g.kh; ++ky) {
            const int64_t iy = oy * g.stride_h - g.pad_top + ky * g.dil_h;
            if (iy < 0 || iy >= g.h) continue;  // padding: (zx - zx) * w = 0
            const int32_t* xrow = xc + iy * g.w;
            for (int64_t kx = 0; kx < g.kw; ++kx) {
              const Acc wv = wc[ky * g.kw + kx];
              const int64_t off = kx * g.dil_w - g.pad_left;
              int64_t lo = 0, hi = 0;
              valid_columns(g.ow, g.stride_w, off, g.w, &lo, &hi);
              if (g.stride_w == 1) {
                const int32_t* xr = xrow + off;
                for (int64_t ox = lo; ox < hi; ++ox) acc[static_cast<size_t>(ox)] += static_cast<Acc>(xr[ox]) * wv;
              } else {
                for (int64_t ox = lo; ox < hi; ++ox)
                  acc[static_cast<size_t>(ox)] += static_cast<Acc>(xrow[ox * g.stride_w + off]) * wv;
              }
            }
          }
        }
        for (int64_t ox = 0; ox < g.ow; ++ox, ++idx) out(idx, m, static_cast<int64_t>(acc[static_cast<size_t>(ox)]));
      }
    }
}

template <typename Out>
void conv_accumulate(const ConvGeometry2d& g, Q8In x, int32_t zx, std::span<const int8_t> w,
                     std::span<const int32_t> bias, Out out) {
  // x - zx once per input element (|x - zx| <= 255; 32768 for an int16 input), so the window
  // loop is plain arithmetic.
  std::vector<int32_t> xs(static_cast<size_t>(g.n * g.c * g.h * g.w));
  for (size_t i = 0; i < xs.size(); ++i) xs[i] = x[static_cast<int64_t>(i)] - zx;
  // |acc| <= |bias| + taps * max|x - zx| * 128: int32 is exact below 2^31.
  int64_t max_bias = 0;
  for (int32_t b : bias) max_bias = std::max<int64_t>(max_bias, b < 0 ? -int64_t{b} : b);
  const int64_t taps = g.c / g.group * g.kh * g.kw;
  const int64_t max_x = x.wide ? 32768 : 255;
  if (max_bias + taps * max_x * 128 < (int64_t{1} << 31)) conv_accumulate_as<int32_t>(g, xs, w, bias, out);
  else conv_accumulate_as<int64_t>(g, xs, w, bias, out);
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
