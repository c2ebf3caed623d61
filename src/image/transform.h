// Image transforms for calibration data, `qmap preprocess`, infer and eval: resizes that
// match OpenCV's INTER_LINEAR bit for bit (uint8), torchvision-style short-side resize and
// center crop, YOLO letterbox, layout and color conversions, NV12 4:2:0 sampling. Pure
// functions: inputs are never modified (outputs may share an input's buffer when the
// transform is the identity). docs/preprocess.md states the exact numerics.
#pragma once

#include <cstdint>
#include <utility>

#include "config/input_spec.h"
#include "core/status.h"
#include "image/image.h"

namespace qmap {

// Round half away from zero and clamp to 0..255 (NaN -> 0): the one float -> uint8 pixel
// rule of the pipeline (color conversions, training -> runtime samples).
uint8_t round_to_uint8(double v);

// Bilinear resize matching OpenCV cv::resize(INTER_LINEAR) (4.x, resize.cpp): half-pixel
// centers (sx = (dx + 0.5) * in/out - 0.5 in float), borders clamped. uint8: 11-bit
// fixed-point coefficients (INTER_RESIZE_COEF_BITS) and OpenCV's truncating vertical pass,
// bit-exact; float32: float coefficients. Same size returns the input. Sizes must be > 0.
Image resize_bilinear(const Image& img, int64_t out_h, int64_t out_w);

// torchvision Resize(int) geometry: the short side becomes `short_side`, the long side
// int(short_side * long / short) (truncated), but interpolated with resize_bilinear (OpenCV
// INTER_LINEAR, not PIL's antialiased bilinear).
Image resize_short_side(const Image& img, int64_t short_side);
// The {height, width} resize_short_side gives an h x w image.
std::pair<int64_t, int64_t> short_side_size(int64_t h, int64_t w, int64_t short_side);

// torchvision CenterCrop: top = round((H - h) / 2), left = round((W - w) / 2), with
// Python's round (half to even). A crop larger than the image is an error naming both sizes.
Result<Image> center_crop(const Image& img, int64_t crop_h, int64_t crop_w);

// Where letterbox put the resized image inside the output, for mapping boxes back.
struct LetterboxGeometry {
  double ratio = 1;              // resized = original * ratio
  int64_t resized_h = 0, resized_w = 0;
  int64_t top = 0, left = 0;     // padding before the image, in output pixels
};

// YOLO (ultralytics LetterBox, scaleup on, auto off): ratio = min(out_h / H, out_w / W),
// resized size round(W * ratio) x round(H * ratio) (half to even) with resize_bilinear,
// centered: top = floor(pad_h / 2), bottom = the rest (same for left/right); the border is
// filled with `pad_value` (rounded for uint8 images).
Image letterbox(const Image& img, int64_t out_h, int64_t out_w, float pad_value = 114.f,
                LetterboxGeometry* geometry = nullptr);

// Layout: {H, W, C} <-> {C, H, W} (any dtype).
Tensor hwc_to_chw(const Tensor& hwc);
Tensor chw_to_hwc(const Tensor& chw);

// Color conversion with the BT.601 coefficients of image/color.h (`range` applies to
// yuv444). Supported: rgb <-> bgr (exact channel swap), gray -> rgb/bgr (replicated),
// rgb/bgr/gray -> gray/yuv444, yuv444 -> rgb/bgr/gray. Computed in double; a uint8 input
// gives a uint8 output rounded with round_to_uint8, a float32 input a float32 output
// (unrounded). Other pairs (nv12, featuremap) are errors.
Result<Image> convert_color(const Image& img, ColorType to, ColorRange range = ColorRange::kRegular);

// Pixel type changes: to_uint8 rounds with round_to_uint8; to_float32 is exact.
Image to_uint8(const Image& img);
Image to_float32(const Image& img);

// Multiplies every pixel by `factor` in float32 (numpy: img.astype(float32) * factor).
Image scale_pixels(const Image& img, float factor);

// yuv444 -> NV12: Y copied; U and V of each 2x2 block averaged as (a + b + c + d + 2) >> 2
// (round half up). A float32 image is first rounded with to_uint8. Odd height or width is
// an error naming the size.
Result<Nv12Image> to_nv12(const Image& yuv444);

// NV12 -> yuv444 uint8 by nearest upsampling: each chroma pair covers its 2x2 block (what the
// runtime does with an nv12 input).
Image nv12_to_yuv444(const Nv12Image& nv12);

}  // namespace qmap
