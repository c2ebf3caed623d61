#include "kernels/f32/window_geometry.h"

namespace qmap::kernels::f32 {

WindowGeometry as_2d(const WindowGeometry& g) {
  if (g.spatial_rank() != 1) return g;
  WindowGeometry r = g;
  r.in = {1, g.in[0]};
  r.out = {1, g.out[0]};
  r.kernel = {1, g.kernel[0]};
  r.strides = {1, g.strides[0]};
  r.dilations = {1, g.dilations[0]};
  r.pads = {0, g.pads[0], 0, g.pads[1]};
  return r;
}

}  // namespace qmap::kernels::f32
