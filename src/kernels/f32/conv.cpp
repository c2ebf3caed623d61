#include "kernels/f32/conv.h"

#include <algorithm>
#include <vector>

#include "kernels/f32/depthwise_conv.h"
#include "kernels/f32/im2col.h"
#include "kernels/f32/sgemm.h"

namespace qmap::kernels::f32 {

namespace {

// Row-major multi-index of flat position `flat` in `dims`.
void unravel(int64_t flat, const std::vector<int64_t>& dims, std::vector<int64_t>& idx) {
  for (size_t d = dims.size(); d-- > 0;) {
    idx[d] = flat % dims[d];
    flat /= dims[d];
  }
}

// Flat spatial index of the tap o*stride - pad + k*dilation, or -1 if it lies outside `in`.
int64_t tap_index(const WindowGeometry& g, const std::vector<int64_t>& o,
                  const std::vector<int64_t>& k, const std::vector<int64_t>& in_dims) {
  int64_t flat = 0;
  for (int d = 0; d < g.spatial_rank(); ++d) {
    const size_t u = static_cast<size_t>(d);
    const int64_t i = o[u] * g.strides[u] - g.pad_begin(d) + k[u] * g.dilations[u];
    if (i < 0 || i >= in_dims[u]) return -1;
    flat = flat * in_dims[u] + i;
  }
  return flat;
}

// Fills each of `channels` planes of `plane` elements with bias[c] (or 0).
void fill_bias(float* y, const float* bias, int64_t channels, int64_t plane) {
  for (int64_t c = 0; c < channels; ++c)
    std::fill(y + c * plane, y + (c + 1) * plane, bias ? bias[c] : 0.f);
}

}  // namespace

void conv_ref(const WindowGeometry& g, const float* x, const float* w, const float* bias, float* y) {
  const size_t r = static_cast<size_t>(g.spatial_rank());
  const int64_t in_sp = product(g.in), out_sp = product(g.out), k_sp = product(g.kernel);
  const int64_t cg = g.in_channels / g.group, mg = g.out_channels / g.group;
  std::vector<int64_t> o(r), k(r);
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t m = 0; m < g.out_channels; ++m) {
      const int64_t grp = m / mg;
      for (int64_t op = 0; op < out_sp; ++op) {
        unravel(op, g.out, o);
        double acc = bias ? bias[m] : 0.0;
        for (int64_t c = 0; c < cg; ++c) {
          const float* xc = x + (n * g.in_channels + grp * cg + c) * in_sp;
          const float* wc = w + (m * cg + c) * k_sp;
          for (int64_t kp = 0; kp < k_sp; ++kp) {
            unravel(kp, g.kernel, k);
            const int64_t i = tap_index(g, o, k, g.in);
            if (i >= 0) acc += static_cast<double>(xc[i]) * wc[kp];
          }
        }
        y[(n * g.out_channels + m) * out_sp + op] = static_cast<float>(acc);
      }
    }
}

void conv_transpose_ref(const WindowGeometry& g, const float* x, const float* w, const float* bias,
                        float* y) {
  const size_t r = static_cast<size_t>(g.spatial_rank());
  const int64_t in_sp = product(g.in), out_sp = product(g.out), k_sp = product(g.kernel);
  const int64_t cg = g.in_channels / g.group, mg = g.out_channels / g.group;
  std::vector<double> acc(static_cast<size_t>(out_sp));
  std::vector<int64_t> i_idx(r), k(r);
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t m = 0; m < g.out_channels; ++m) {
      const int64_t grp = m / mg, mm = m % mg;
      std::fill(acc.begin(), acc.end(), bias ? bias[m] : 0.0);
      for (int64_t c = 0; c < cg; ++c) {
        const float* xc = x + (n * g.in_channels + grp * cg + c) * in_sp;
        const float* wc = w + ((grp * cg + c) * mg + mm) * k_sp;
        for (int64_t ip = 0; ip < in_sp; ++ip) {
          unravel(ip, g.in, i_idx);
          for (int64_t kp = 0; kp < k_sp; ++kp) {
            unravel(kp, g.kernel, k);
            // Output position i*stride - pad + k*dilation: the same map as a conv tap with
            // the roles of input and output swapped.
            const int64_t o = tap_index(g, i_idx, k, g.out);
            if (o >= 0) acc[static_cast<size_t>(o)] += static_cast<double>(xc[ip]) * wc[kp];
          }
        }
      }
      float* ym = y + (n * g.out_channels + m) * out_sp;
      for (int64_t op = 0; op < out_sp; ++op) ym[op] = static_cast<float>(acc[static_cast<size_t>(op)]);
    }
}

// Banded im2col: a band's columns buffer should fit about kColumnsBudget floats (1 MiB, the
// L2 size of current x86 cores) but keep at least kMinBandColumns GEMM columns, below which
// sgemm loses more than the cache gains (measured on ResNet-18's layers).
constexpr int64_t kColumnsBudget = 256 * 1024;
constexpr int64_t kMinBandColumns = 1024;

void conv_2d(const WindowGeometry& g, const float* x, const float* w, const float* bias, float* y, SgemmFn gemm) {
  if (g.group == g.in_channels && g.group == g.out_channels && g.group > 1) {
    depthwise_conv2d(g, x, w, bias, y);
    return;
  }
  const int64_t in_sp = g.in[0] * g.in[1], out_sp = g.out[0] * g.out[1];
  const int64_t cg = g.in_channels / g.group, mg = g.out_channels / g.group;
  const int64_t kdim = cg * g.kernel[0] * g.kernel[1];
  // A 1x1 kernel with unit strides and no padding reads X exactly as the columns matrix
  // (W[M, K] x X[K, HW]), so no copy is needed.
  const bool pointwise = g.kernel[0] == 1 && g.kernel[1] == 1 && g.strides[0] == 1 &&
                         g.strides[1] == 1 && std::all_of(g.pads.begin(), g.pads.end(),
                                                          [](int64_t p) { return p == 0; });
  // im2col works on bands of output rows so the columns buffer (kdim x band*OW floats)
  // stays near kColumnsBudget instead of kh*kw times the input.
  const int64_t ow = std::max<int64_t>(1, g.out[1]);
  const int64_t band =
      pointwise ? g.out[0]
                : std::clamp<int64_t>(std::max(kColumnsBudget / std::max<int64_t>(1, kdim * ow),
                                               (kMinBandColumns + ow - 1) / ow),
                                      1, std::max<int64_t>(1, g.out[0]));
  std::vector<float> columns(pointwise ? 0 : static_cast<size_t>(kdim * band * g.out[1]));
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t grp = 0; grp < g.group; ++grp) {
      const float* xg = x + (n * g.in_channels + grp * cg) * in_sp;
      float* yg = y + (n * g.out_channels + grp * mg) * out_sp;
      // The bias is pre-filled and accumulated by GEMM's beta = 1: no separate pass.
      if (bias) fill_bias(yg, bias + grp * mg, mg, out_sp);
      for (int64_t oy0 = 0; oy0 < g.out[0]; oy0 += band) {
        const int64_t rows = std::min(band, g.out[0] - oy0);
        const float* col = xg;
        if (!pointwise) {
          // The band is the same window geometry over output rows [oy0, oy0 + rows): the
          // top padding shifts by oy0 * stride (negative: the band starts inside the input).
          WindowGeometry gb = g;
          gb.out[0] = rows;
          gb.pads[0] = g.pads[0] - oy0 * g.strides[0];
          im2col_2d(gb, cg, xg, columns.data());
          col = columns.data();
        }
        const int64_t n_cols = rows * g.out[1];
        gemm(false, false, mg, n_cols, kdim, 1.f, w + grp * mg * kdim, kdim, col, n_cols,
             bias ? 1.f : 0.f, yg + oy0 * g.out[1], out_sp);
      }
    }
}

void conv_transpose_2d(const WindowGeometry& g, const float* x, const float* w, const float* bias,
                       float* y, SgemmFn gemm) {
  const int64_t in_sp = g.in[0] * g.in[1], out_sp = g.out[0] * g.out[1];
  const int64_t cg = g.in_channels / g.group, mg = g.out_channels / g.group;
  const int64_t rows = mg * g.kernel[0] * g.kernel[1];
  // col2im sees Y as the image and X's positions as the window positions.
  WindowGeometry cg2 = g;
  cg2.in = g.out;
  cg2.out = g.in;
  std::vector<float> columns(static_cast<size_t>(rows * in_sp));
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t grp = 0; grp < g.group; ++grp) {
      const float* xg = x + (n * g.in_channels + grp * cg) * in_sp;
      // W_g is [cg, mg*kh*kw] row-major; columns = W_g^T x X_g  ([rows, in_sp]).
      gemm(true, false, rows, in_sp, cg, 1.f, w + grp * cg * rows, rows, xg, in_sp, 0.f,
           columns.data(), in_sp);
      float* yg = y + (n * g.out_channels + grp * mg) * out_sp;
      fill_bias(yg, bias ? bias + grp * mg : nullptr, mg, out_sp);
      col2im_2d_add(cg2, mg, columns.data(), yg);
    }
}

}  // namespace qmap::kernels::f32
