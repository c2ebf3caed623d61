// Integer elementwise and data-conversion references (see qelementwise.h).
#include "kernels/ref/qelementwise.h"

#include <algorithm>
#include <cmath>

namespace qmap::kernels::ref {

void quantize(std::span<const float> x, float scale, int32_t zp, Q8Out y) {
  const float lo = static_cast<float>(q_min(y.is_signed, y.wide) - zp);
  const float hi = static_cast<float>(q_max(y.is_signed, y.wide) - zp);
  for (size_t i = 0; i < x.size(); ++i) {
    // std::nearbyint rounds ties to even in the default floating-point environment; the
    // clamp happens in float, before the conversion, so huge values cannot overflow int.
    const float q = x[i] / scale;
    const float r = std::isnan(q) ? 0.f : std::clamp(std::nearbyint(q), lo, hi);
    y.set(static_cast<int64_t>(i), static_cast<int32_t>(r) + zp);
  }
}

void dequantize(Q8In x, int64_t count, float scale, int32_t zp, float* y) {
  for (int64_t i = 0; i < count; ++i) y[i] = static_cast<float>(x[i] - zp) * scale;
}

std::vector<int64_t> broadcast_strides(std::span<const int64_t> dims, std::span<const int64_t> out) {
  std::vector<int64_t> strides(out.size(), 0);
  int64_t stride = 1;
  for (size_t k = 0; k < dims.size(); ++k) {
    const size_t d = dims.size() - 1 - k, o = out.size() - 1 - k;
    if (dims[d] != 1) strides[o] = stride;
    stride *= dims[d];
  }
  return strides;
}

namespace {

// Calls f(out_index, a_index, b_index) over the output in row-major order.
template <typename F>
void for_each_broadcast(const BinaryGeometry& g, F f) {
  int64_t total = 1;
  for (int64_t d : g.out) total *= d;
  std::vector<int64_t> idx(g.out.size(), 0);
  int64_t ia = 0, ib = 0;
  for (int64_t i = 0; i < total; ++i) {
    f(i, ia, ib);
    for (size_t d = g.out.size(); d-- > 0;) {  // odometer
      ia += g.a_strides[d];
      ib += g.b_strides[d];
      if (++idx[d] < g.out[d]) break;
      ia -= g.a_strides[d] * g.out[d];
      ib -= g.b_strides[d] * g.out[d];
      idx[d] = 0;
    }
  }
}

}  // namespace

void qadd(const BinaryGeometry& g, Q8In a, int32_t za, QMultiplier ra, Q8In b, int32_t zb,
          QMultiplier rb, int32_t zy, int32_t lo, int32_t hi, Q8Out y) {
  for_each_broadcast(g, [&](int64_t i, int64_t ia, int64_t ib) {
    y.set(i, requantize_sum2(a[ia] - za, ra, b[ib] - zb, rb, zy, lo, hi));
  });
}

void qadd_q15(const BinaryGeometry& g, Q8In a, int32_t za, Q8In b, int32_t zb, const AddQ15& f, int32_t zy,
              int32_t lo, int32_t hi, Q8Out y) {
  for_each_broadcast(g, [&](int64_t i, int64_t ia, int64_t ib) {
    y.set(i, requantize_sum2_q15(a[ia] - za, b[ib] - zb, f, zy, lo, hi));
  });
}

void qmul(const BinaryGeometry& g, Q8In a, int32_t za, Q8In b, int32_t zb, QMultiplier r,
          int32_t zy, int32_t lo, int32_t hi, Q8Out y) {
  for_each_broadcast(g, [&](int64_t i, int64_t ia, int64_t ib) {
    y.set(i, requantize(static_cast<int64_t>(a[ia] - za) * (b[ib] - zb), r, zy, lo, hi));
  });
}

void lut8(Q8In x, int64_t count, std::span<const uint8_t> table, Q8Out y) {
  const int32_t base = q8_min(x.is_signed);
  for (int64_t i = 0; i < count; ++i) {
    const uint8_t byte = table[static_cast<size_t>(x[i] - base)];
    y.set(i, y.is_signed ? static_cast<int8_t>(byte) : byte);
  }
}

void lut8_per_channel(Q8In x, int64_t outer, int64_t channels, int64_t inner, std::span<const uint8_t> tables,
                      Q8Out y) {
  int64_t i = 0;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < channels; ++c, i += inner)
      lut8({static_cast<const uint8_t*>(x.data) + i, x.is_signed}, inner, tables.subspan(static_cast<size_t>(c) * 256, 256),
           {static_cast<uint8_t*>(y.data) + i, y.is_signed});
}

void qconcat(std::span<const ConcatInput> inputs, int64_t outer, int32_t zy, Q8Out y) {
  const int32_t lo = q8_min(y.is_signed), hi = q8_max(y.is_signed);
  int64_t o = 0;
  for (int64_t b = 0; b < outer; ++b)
    for (const ConcatInput& in : inputs)
      for (int64_t k = 0; k < in.block; ++k, ++o) {
        const int32_t v = in.x[b * in.block + k];
        y.set(o, in.requant ? requantize(v - in.zx, in.mult, zy, lo, hi) : v);
      }
}

}  // namespace qmap::kernels::ref
