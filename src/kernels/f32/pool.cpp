#include "kernels/f32/pool.h"

#include <algorithm>
#include <limits>
#include <vector>

namespace qmap::kernels::f32 {

namespace {

// Taps of one window along one axis: the first valid tap index j0, one past the last valid
// tap j1 (taps j: position start + j*dilation inside [0, in)), and the count of taps inside
// the padded input (the count_include_pad divisor factor).
struct AxisWindow {
  int64_t start, j0, j1, padded_count;
};

AxisWindow axis_window(const WindowGeometry& g, int d, int64_t o) {
  const size_t u = static_cast<size_t>(d);
  const int64_t s = g.strides[u], k = g.kernel[u], dl = g.dilations[u], in = g.in[u];
  AxisWindow w{};
  w.start = o * s - g.pad_begin(d);
  int64_t lo, hi;
  // Taps j in [0, k) with start + j*dl in [0, in).
  valid_range(k, dl, w.start, in, &lo, &hi);
  w.j0 = lo;
  w.j1 = hi;
  int64_t plo, phi;
  valid_range(k, dl, w.start + g.pad_begin(d), in + g.pad_begin(d) + g.pad_end(d), &plo, &phi);
  w.padded_count = phi - plo;
  return w;
}

template <typename F>
void for_each_output(const WindowGeometry& g, F f) {
  const size_t r = static_cast<size_t>(g.spatial_rank());
  const int64_t out_sp = product(g.out);
  std::vector<int64_t> o(r);
  std::vector<AxisWindow> win(r);
  for (int64_t op = 0; op < out_sp; ++op) {
    int64_t rem = op;
    for (size_t d = r; d-- > 0;) {
      o[d] = rem % g.out[d];
      rem /= g.out[d];
      win[d] = axis_window(g, static_cast<int>(d), o[d]);
    }
    f(op, win);
  }
}

// Calls tap(flat_spatial_index_row_major, multi_index) for every valid tap of the window.
template <typename F>
void for_each_tap(const WindowGeometry& g, const std::vector<AxisWindow>& win, F tap) {
  const size_t r = win.size();
  for (size_t d = 0; d < r; ++d)
    if (win[d].j0 >= win[d].j1) return;
  std::vector<int64_t> j(r), pos(r);
  for (size_t d = 0; d < r; ++d) j[d] = win[d].j0;
  while (true) {
    int64_t flat = 0;
    for (size_t d = 0; d < r; ++d) {
      pos[d] = win[d].start + j[d] * g.dilations[d];
      flat = flat * g.in[d] + pos[d];
    }
    tap(flat, pos);
    size_t d = r;
    while (d-- > 0) {
      if (++j[d] < win[d].j1) break;
      j[d] = win[d].j0;
    }
    if (d == static_cast<size_t>(-1)) return;
  }
}

}  // namespace

template <typename T>
void max_pool_ref(const WindowGeometry& g, const T* x, T* y, int64_t* indices, bool column_major) {
  const int64_t in_sp = product(g.in), out_sp = product(g.out);
  for (int64_t p = 0; p < g.batch * g.in_channels; ++p) {
    const T* xp = x + p * in_sp;
    for_each_output(g, [&](int64_t op, const std::vector<AxisWindow>& win) {
      T best = std::numeric_limits<T>::lowest();
      int64_t best_flat = -1;
      std::vector<int64_t> best_pos;
      for_each_tap(g, win, [&](int64_t flat, const std::vector<int64_t>& pos) {
        if (best_flat < 0 || xp[flat] > best) {
          best = xp[flat];
          best_flat = flat;
          if (indices) best_pos = pos;
        }
      });
      y[p * out_sp + op] = best;
      if (indices) {
        int64_t idx = -1;
        if (best_flat >= 0) {
          idx = best_flat;
          if (column_major) {
            idx = 0;
            for (size_t d = best_pos.size(); d-- > 0;) idx = idx * g.in[d] + best_pos[d];
          }
          idx += p * in_sp;
        }
        indices[p * out_sp + op] = idx;
      }
    });
  }
}

void avg_pool_ref(const WindowGeometry& g, const float* x, float* y, bool count_include_pad) {
  const int64_t in_sp = product(g.in), out_sp = product(g.out);
  for (int64_t p = 0; p < g.batch * g.in_channels; ++p) {
    const float* xp = x + p * in_sp;
    for_each_output(g, [&](int64_t op, const std::vector<AxisWindow>& win) {
      double sum = 0;
      int64_t count = 0;
      for_each_tap(g, win, [&](int64_t flat, const std::vector<int64_t>&) {
        sum += xp[flat];
        ++count;
      });
      if (count_include_pad) {
        count = 1;
        for (const AxisWindow& w : win) count *= w.padded_count;
      }
      y[p * out_sp + op] = count > 0 ? static_cast<float>(sum / static_cast<double>(count)) : 0.f;
    });
  }
}

// 2-D pooling is separable: a window is a rectangle (the product of its per-axis tap
// ranges), so each output row first reduces its valid input rows column by column into
// `cols` (contiguous, vectorizable), then each output reduces its valid taps of `cols`.
// `reduce(a, b)` combines two values; `finish(acc, oy, ox)` writes one output.
template <typename T, typename Reduce, typename Finish>
void pool_2d_separable(const WindowGeometry& g, const T* x, T identity, Reduce reduce,
                       Finish finish) {
  const int64_t ih = g.in[0], iw = g.in[1], oh = g.out[0], ow = g.out[1];
  std::vector<AxisWindow> wy(static_cast<size_t>(oh)), wx(static_cast<size_t>(ow));
  for (int64_t o = 0; o < oh; ++o) wy[static_cast<size_t>(o)] = axis_window(g, 0, o);
  for (int64_t o = 0; o < ow; ++o) wx[static_cast<size_t>(o)] = axis_window(g, 1, o);
  const int64_t dh = g.dilations[0], dw = g.dilations[1];
  std::vector<T> cols(static_cast<size_t>(iw));
  for (int64_t p = 0; p < g.batch * g.in_channels; ++p) {
    const T* xp = x + p * ih * iw;
    for (int64_t oy = 0; oy < oh; ++oy) {
      const AxisWindow& a = wy[static_cast<size_t>(oy)];
      std::fill(cols.begin(), cols.end(), identity);
      for (int64_t jy = a.j0; jy < a.j1; ++jy) {
        const T* row = xp + (a.start + jy * dh) * iw;
        T* c = cols.data();
        for (int64_t i = 0; i < iw; ++i) c[i] = reduce(c[i], row[i]);
      }
      for (int64_t ox = 0; ox < ow; ++ox) {
        const AxisWindow& b = wx[static_cast<size_t>(ox)];
        T acc = identity;
        const T* c = cols.data() + b.start;
        for (int64_t jx = b.j0; jx < b.j1; ++jx) acc = reduce(acc, c[jx * dw]);
        finish(p, acc, oy, ox, a, b);
      }
    }
  }
}

template <typename T>
void max_pool_2d(const WindowGeometry& g, const T* x, T* y) {
  const int64_t plane = g.out[0] * g.out[1], ow = g.out[1];
  pool_2d_separable<T>(
      g, x, std::numeric_limits<T>::lowest(), [](T a, T b) { return b > a ? b : a; },
      [&](int64_t p, T acc, int64_t oy, int64_t ox, const AxisWindow&, const AxisWindow&) {
        y[p * plane + oy * ow + ox] = acc;
      });
}

void avg_pool_2d(const WindowGeometry& g, const float* x, float* y, bool count_include_pad) {
  const int64_t plane = g.out[0] * g.out[1], ow = g.out[1];
  pool_2d_separable<float>(
      g, x, 0.f, [](float a, float b) { return a + b; },
      [&](int64_t p, float sum, int64_t oy, int64_t ox, const AxisWindow& a, const AxisWindow& b) {
        const int64_t count = count_include_pad ? a.padded_count * b.padded_count
                                                : (a.j1 - a.j0) * (b.j1 - b.j0);
        y[p * plane + oy * ow + ox] = count > 0 ? sum / static_cast<float>(count) : 0.f;
      });
}

void global_avg_pool(const float* x, float* y, int64_t planes, int64_t plane_size) {
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * plane_size;
    float sum = 0.f;
    for (int64_t i = 0; i < plane_size; ++i) sum += xp[i];
    y[p] = plane_size > 0 ? sum / static_cast<float>(plane_size) : 0.f;
  }
}

void global_max_pool(const float* x, float* y, int64_t planes, int64_t plane_size) {
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * plane_size;
    float best = std::numeric_limits<float>::lowest();
    for (int64_t i = 0; i < plane_size; ++i) best = std::max(best, xp[i]);
    y[p] = best;
  }
}

#define QMAP_INSTANTIATE_MAX_POOL(T)                                                         \
  template void max_pool_ref<T>(const WindowGeometry&, const T*, T*, int64_t*, bool);      \
  template void max_pool_2d<T>(const WindowGeometry&, const T*, T*);
QMAP_INSTANTIATE_MAX_POOL(float)
QMAP_INSTANTIATE_MAX_POOL(double)
QMAP_INSTANTIATE_MAX_POOL(int8_t)
QMAP_INSTANTIATE_MAX_POOL(uint8_t)
#undef QMAP_INSTANTIATE_MAX_POOL

}  // namespace qmap::kernels::f32
