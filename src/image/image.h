// Image: the pixel container the image pipeline (decode, transforms, calibration data,
// `qmap preprocess`) passes around. Pixels are a Tensor in HWC order (dims {H, W, C},
// row-major: channel fastest), dtype uint8 (0..255) or float32 (any range, usually 0..255
// pixel units). NV12 (4:2:0) is a different memory layout and has its own struct.
#pragma once

#include <cstdint>

#include "config/input_spec.h"
#include "ir/tensor.h"

namespace qmap {

struct Image {
  Tensor pixels;                       // {H, W, C}, kUInt8 or kFloat32
  ColorType color = ColorType::kRgb;   // kRgb, kBgr, kGray (C = 1) or kYuv444

  int64_t height() const { return pixels.dims()[0]; }
  int64_t width() const { return pixels.dims()[1]; }
  int64_t channels() const { return pixels.dims()[2]; }
  DType dtype() const { return pixels.dtype(); }
};

// NV12 as cameras and video decoders deliver it: a Y plane of H rows x W bytes, then H/2
// rows of W bytes holding interleaved chroma pairs U0 V0 U1 V1 ..., one pair per 2x2 block
// of Y. `data` is uint8 with dims {H * 3 / 2, W} (the usual single-buffer layout).
struct Nv12Image {
  int64_t height = 0;  // of the Y plane; even
  int64_t width = 0;   // even
  Tensor data;
};

}  // namespace qmap
