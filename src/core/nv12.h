// NV12 (4:2:0) -> yuv444 by nearest chroma upsampling: the one implementation the image
// pipeline (image/transform.h nv12_to_yuv444) and the runtime (an nv12 model input) share,
// so calibration, the simulator and the device see the same pixels.
#pragma once

#include <cstdint>

namespace qmap {

// nv12: a Y plane of h rows x w bytes, then h/2 rows of w bytes of interleaved U V pairs,
// one pair per 2x2 block of Y (h and w even; the caller checks). out: h x w x 3 bytes, HWC
// (Y, U, V per pixel); each chroma pair is copied to the four pixels of its block.
void nv12_to_yuv444_hwc(const uint8_t* nv12, int64_t h, int64_t w, uint8_t* out);

}  // namespace qmap
