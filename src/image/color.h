// BT.601 color conversion coefficients (ITU-R BT.601; full range as in JFIF/JPEG, and
// studio "video" range). The one place these numbers live: the image pipeline converts
// pixels with them and the preprocess node builds its conversion matrix from them.
//
// Conventions: RGB and YUV values in 0..255 units. A forward matrix maps (R, G, B) to
// (Y, U, V): yuv = M * rgb + offset. An inverse matrix maps back: rgb = M * (yuv - offset).
#pragma once

#include <array>

#include "config/input_spec.h"

namespace qmap::color {

using Mat3 = std::array<std::array<double, 3>, 3>;
using Vec3 = std::array<double, 3>;

// Full range (JFIF): Y = 0.299 R + 0.587 G + 0.114 B, U/V centred on 128.
inline constexpr Mat3 kRgbToYuvFull = {{{0.299, 0.587, 0.114},
                                        {-0.168735892, -0.331264108, 0.5},
                                        {0.5, -0.418687589, -0.081312411}}};
inline constexpr Vec3 kYuvOffsetFull = {0.0, 128.0, 128.0};
inline constexpr Mat3 kYuvToRgbFull = {{{1.0, 0.0, 1.402},
                                        {1.0, -0.344136286, -0.714136286},
                                        {1.0, 1.772, 0.0}}};

// Studio range: Y in 16..235 (scale 219/255), U/V in 16..240 (scale 224/255).
inline constexpr Mat3 kRgbToYuvVideo = {{{65.481 / 255, 128.553 / 255, 24.966 / 255},
                                         {-37.797 / 255, -74.203 / 255, 112.0 / 255},
                                         {112.0 / 255, -93.786 / 255, -18.214 / 255}}};
inline constexpr Vec3 kYuvOffsetVideo = {16.0, 128.0, 128.0};
// The numeric inverse of kRgbToYuvVideo (entries below 1e-5 set to 0).
inline constexpr Mat3 kYuvToRgbVideo = {{{1.164383562, 0.0, 1.596026890},
                                         {1.164383562, -0.391762540, -0.812968292},
                                         {1.164383562, 2.017232640, 0.0}}};

// Gray from RGB: the Y row of the full-range matrix.
inline constexpr Vec3 kRgbToGray = {0.299, 0.587, 0.114};

inline const Mat3& rgb_to_yuv(ColorRange r) {
  return r == ColorRange::kRegular ? kRgbToYuvFull : kRgbToYuvVideo;
}
inline const Mat3& yuv_to_rgb(ColorRange r) {
  return r == ColorRange::kRegular ? kYuvToRgbFull : kYuvToRgbVideo;
}
inline const Vec3& yuv_offset(ColorRange r) {
  return r == ColorRange::kRegular ? kYuvOffsetFull : kYuvOffsetVideo;
}

}  // namespace qmap::color
