// Geometry of the sliding-window ops (Conv, ConvTranspose, MaxPool, AveragePool) over any
// number of spatial axes. Tensors are N x C x spatial..., row-major (NCHW for 2-D).
// For Conv and the pools `in` is X's spatial size and `out` Y's; for ConvTranspose `in` is
// X's and `out` Y's too, and the window maps input position i to output position
// i*stride - pad_begin + k*dilation (the adjoint of Conv).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qmap::kernels::f32 {

struct WindowGeometry {
  int64_t batch = 1;
  int64_t in_channels = 1;
  int64_t out_channels = 1;  // pools: equal to in_channels
  int64_t group = 1;         // pools: unused
  std::vector<int64_t> in, out, kernel, strides, dilations;
  std::vector<int64_t> pads;  // ONNX order: all begins, then all ends (elements)

  int spatial_rank() const { return static_cast<int>(in.size()); }
  int64_t pad_begin(int d) const { return pads[static_cast<std::size_t>(d)]; }
  int64_t pad_end(int d) const { return pads[in.size() + static_cast<std::size_t>(d)]; }
};

inline int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

// The output positions o in [0, out) whose tap o*stride + offset lands inside [0, in):
// [*lo, *hi) (empty when *lo >= *hi). Kernels use it to keep bounds checks out of their
// inner loops.
inline void valid_range(int64_t out, int64_t stride, int64_t offset, int64_t in, int64_t* lo,
                        int64_t* hi) {
  // o*stride + offset >= 0  <=>  o >= ceil(-offset / stride)
  int64_t l = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  // o*stride + offset < in  <=>  o < ceil((in - offset) / stride)
  int64_t h = in - offset <= 0 ? 0 : (in - offset + stride - 1) / stride;
  *lo = l < out ? l : out;
  *hi = h < out ? h : out;
  if (*hi < *lo) *hi = *lo;
}

// The same geometry with a 1-D problem seen as 2-D (a unit leading spatial axis), so the
// 2-D fast kernels serve 1-D ops too.
WindowGeometry as_2d(const WindowGeometry& g);

}  // namespace qmap::kernels::f32
