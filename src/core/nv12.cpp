// NV12 -> yuv444 (see nv12.h).
#include "core/nv12.h"

namespace qmap {

void nv12_to_yuv444_hwc(const uint8_t* nv12, int64_t h, int64_t w, uint8_t* out) {
  const uint8_t* y_plane = nv12;
  const uint8_t* uv_plane = y_plane + h * w;
  for (int64_t y = 0; y < h; ++y) {
    for (int64_t x = 0; x < w; ++x) {
      uint8_t* p = out + (y * w + x) * 3;
      const uint8_t* uv = uv_plane + (y / 2) * w + (x / 2) * 2;
      p[0] = y_plane[y * w + x];
      p[1] = uv[0];
      p[2] = uv[1];
    }
  }
}

}  // namespace qmap
