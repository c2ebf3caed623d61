#include "kernels/f32/depthwise_conv.h"

#include <algorithm>
#include <cstring>
#include <vector>

namespace qmap::kernels::f32 {

// One version per x86-64 level, chosen at load (an ifunc); sanitizer builds that cannot run
// ifunc resolvers early (ThreadSanitizer) define QMAP_NO_TARGET_CLONES and get the default.
#if defined(QMAP_NO_TARGET_CLONES)
#define QMAP_F32_CLONES
#else
#define QMAP_F32_CLONES __attribute__((target_clones("default", "avx2", "avx512f")))
#endif

namespace {

typedef float V16 __attribute__((vector_size(64)));

// out[j] = b + sum_t w[t] * src[t][j] for j in [0, n), taps added in order t = 0, 1, ...
QMAP_F32_CLONES void multiply_add_taps(
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

typedef int I16 __attribute__((vector_size(64)));

// even[q] = src[2q], odd[q] = src[2q + 1] for q in [0, n): the column split of stride-2 rows.
QMAP_F32_CLONES void deinterleave2(
    const float* src, float* even, float* odd, int64_t n) {
  int64_t q = 0;
  for (; q + 16 <= n; q += 16) {
    V16 a, b;
    std::memcpy(&a, src + 2 * q, sizeof(a));
    std::memcpy(&b, src + 2 * q + 16, sizeof(b));
#if defined(__clang__)  // clang spells gcc's __builtin_shuffle with the indices as arguments
    const V16 e = __builtin_shufflevector(a, b, 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const V16 o = __builtin_shufflevector(a, b, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
#else
    const V16 e = __builtin_shuffle(a, b, I16{0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30});
    const V16 o = __builtin_shuffle(a, b, I16{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31});
#endif
    std::memcpy(even + q, &e, sizeof(e));
    std::memcpy(odd + q, &o, sizeof(o));
  }
  for (; q < n; ++q) {
    even[q] = src[2 * q];
    odd[q] = src[2 * q + 1];
  }
}

// Fills row q in [0, pw) of every column phase pc with input column q*sw + pc - pl of `xr`
// (0 outside [0, iw)). rows[pc] is phase pc's row.
void split_columns(const float* xr, int64_t iw, int64_t sw, int64_t pl, int64_t pw,
                   float* const* rows) {
  // Columns q in [lo, hi) are inside the input for every phase.
  int64_t lo = 0, hi = pw;
  for (int64_t pc = 0; pc < sw; ++pc) {
    int64_t l, h;
    valid_range(pw, sw, pc - pl, iw, &l, &h);
    lo = std::max(lo, l);
    hi = std::min(hi, h);
  }
  if (hi < lo) hi = lo;
  auto edge = [&](int64_t q) {
    for (int64_t pc = 0; pc < sw; ++pc) {
      const int64_t ix = q * sw + pc - pl;
      rows[pc][q] = ix >= 0 && ix < iw ? xr[ix] : 0.f;
    }
  };
  for (int64_t q = 0; q < lo; ++q) edge(q);
  if (sw == 1) {
    std::memcpy(rows[0] + lo, xr + lo - pl, static_cast<size_t>(hi - lo) * sizeof(float));
  } else if (sw == 2) {
    deinterleave2(xr + 2 * lo - pl, rows[0] + lo, rows[1] + lo, hi - lo);
  } else {
    for (int64_t pc = 0; pc < sw; ++pc)
      for (int64_t q = lo; q < hi; ++q) rows[pc][q] = xr[q * sw + pc - pl];
  }
  for (int64_t q = hi; q < pw; ++q) edge(q);
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
  std::vector<float*> rows(static_cast<size_t>(sw));
  for (int64_t n = 0; n < g.batch; ++n) {
    for (int64_t c = 0; c < c_n; ++c) {
      const float* xp = x + (n * c_n + c) * ih * iw;
      // Build the phase planes (zeros where the padding is), one input row at a time.
      for (int64_t pr = 0; pr < sh; ++pr) {
        for (int64_t r = 0; r < ph; ++r) {
          for (int64_t pc = 0; pc < sw; ++pc)
            rows[static_cast<size_t>(pc)] = planes.data() + (pr * sw + pc) * plane + r * pw;
          const int64_t iy = r * sh + pr - pt;
          if (iy < 0 || iy >= ih) {
            for (float* row : rows) std::fill(row, row + pw, 0.f);
            continue;
          }
          split_columns(xp + iy * iw, iw, sw, pl, pw, rows.data());
        }
        for (int64_t pc = 0; pc < sw; ++pc) {
          float* pp = planes.data() + (pr * sw + pc) * plane;
          std::fill(pp + ph * pw, pp + plane, 0.f);
        }
      }
      multiply_add_taps(src.data(), w + c * taps, taps, bias ? bias[c] : 0.f, out.data(), oh * pw);
      float* yp = y + (n * c_n + c) * oh * ow;
      for (int64_t oy = 0; oy < oh; ++oy)
        std::memcpy(yp + oy * ow, out.data() + oy * pw, static_cast<size_t>(ow) * sizeof(float));
    }
  }
}

}  // namespace qmap::kernels::f32
