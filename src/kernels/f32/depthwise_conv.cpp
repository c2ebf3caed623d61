#include "kernels/f32/depthwise_conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace qmap::kernels::f32 {

namespace {

typedef float V16 __attribute__((vector_size(64)));

// out[j] = b + sum_t w[t] * src[t][j] for j in [0, n), taps added in order t = 0, 1, ...
__attribute__((target_clones("default", "avx2", "avx512f"))) void multiply_add_taps(
    const float* const* src, const float* w, int64_t taps, float b, float* out, int64_t n) {
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) {
    V16 acc = V16{} + b;
    for (int64_t t = 0; t < taps; ++t) {
      V16 xv;
      std::memcpy(&xv, src[t] + j, sizeof(xv));
      acc += w[t] * xv;
    }
    std::memcpy(out + j, &acc, sizeof(acc));
  }
  for (; j < n; ++j) {
    float acc = b;
    for (int64_t t = 0; t < taps; ++t) acc += w[t] * src[t][j];
    out[j] = acc;
  }
}

}  // namespace

void depthwise_conv2d(const WindowGeometry& g, const float* x, const float* w, const float* bias,
                      float* y) {
  const int64_t c_n = g.in_channels, ih = g.in[0], iw = g.in[1], oh = g.out[0], ow = g.out[1];
  const int64_t kh = g.kernel[0], kw = g.kernel[1];
  const int64_t sh = g.strides[0], sw = g.strides[1], dh = g.dilations[0], dw = g.dilations[1];
  const int64_t pt = g.pad_begin(0), pl = g.pad_begin(1);
  // Phase plane (pr, pc) row r, column c holds padded input (r*sh + pr, c*sw + pc); rows and
  // columns cover every tap of every output: output (oy, ox), tap (ky, kx) reads phase
  // ((ky*dh) % sh, (kx*dw) % sw) at (oy + ky*dh/sh, ox + kx*dw/sw).
  const int64_t ph = oh + (kh - 1) * dh / sh, pw = ow + (kw - 1) * dw / sw;
  const int64_t phases = sh * sw;
  // One plane row of slack: junk columns of the last output row read past the plane.
  const int64_t plane = ph * pw + pw + kw * dw;
  std::vector<float> planes(static_cast<size_t>(phases * plane));
  std::vector<float> out(static_cast<size_t>(oh * pw));
  const int64_t taps = kh * kw;
  std::vector<const float*> src(static_cast<size_t>(taps));
  for (int64_t ky = 0; ky < kh; ++ky)
    for (int64_t kx = 0; kx < kw; ++kx) {
      const int64_t rr = ky * dh, cc = kx * dw;
      const int64_t phase = (rr % sh) * sw + cc % sw;
      src[static_cast<size_t>(ky * kw + kx)] = planes.data() + phase * plane + (rr / sh) * pw + cc / sw;
    }
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t c = 0; c < c_n; ++c) {
      const float* xp = x + (n * c_n + c) * ih * iw;
      // Build the phase planes (zeros where the padding is).
      for (int64_t pr = 0; pr < sh; ++pr)
        for (int64_t pc = 0; pc < sw; ++pc) {
          float* pp = planes.data() + (pr * sw + pc) * plane;
          int64_t lo, hi;
          valid_range(pw, sw, pc - pl, iw, &lo, &hi);
          for (int64_t r = 0; r < ph; ++r) {
            float* row = pp + r * pw;
            const int64_t iy = r * sh + pr - pt;
            if (iy < 0 || iy >= ih) {
              std::fill(row, row + pw, 0.f);
              continue;
            }
            const float* xr = xp + iy * iw + pc - pl;
            std::fill(row, row + lo, 0.f);
            if (sw == 1) std::memcpy(row + lo, xr + lo, static_cast<size_t>(hi - lo) * sizeof(float));
            else for (int64_t q = lo; q < hi; ++q) row[q] = xr[q * sw];
            std::fill(row + hi, row + pw, 0.f);
          }
          std::fill(pp + ph * pw, pp + plane, 0.f);
        }
      multiply_add_taps(src.data(), w + c * taps, taps, bias ? bias[c] : 0.f, out.data(), oh * pw);
      float* yp = y + (n * c_n + c) * oh * ow;
      for (int64_t oy = 0; oy < oh; ++oy)
        std::memcpy(yp + oy * ow, out.data() + oy * pw, static_cast<size_t>(ow) * sizeof(float));
    }
  }
}

}  // namespace qmap::kernels::f32
