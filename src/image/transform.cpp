// Image transforms. The bilinear resize reproduces OpenCV 4.x modules/imgproc/src/resize.cpp
// (hal::resize -> resizeGeneric_ with HResizeLinear / VResizeLinear) step by step, including
// its float coefficient computation and, for uint8, the fixed-point arithmetic, so calibration
// samples equal what a cv2-based Python pipeline feeds the model.
#include "image/transform.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

#include "core/nv12.h"
#include "image/color.h"

namespace qmap {

namespace {

// INTER_RESIZE_COEF_BITS: OpenCV's uint8 resize coefficients are 11-bit fixed point.
constexpr int kCoefBits = 11;
constexpr int kCoefScale = 1 << kCoefBits;

// One output coordinate along an axis: source index and its two weights.
struct Tap {
  int64_t src = 0;         // first source index (second is src + 1, clamped)
  float w0 = 1, w1 = 0;    // float weights (1 - f, f)
  int32_t iw0 = kCoefScale, iw1 = 0;  // saturate_cast<short>(w * 2048): round half to even
  bool edge = false;       // x only: past the last full pair, OpenCV copies src * ONE
};

// OpenCV: fx = (float)((dx + 0.5) * scale - 0.5); sx = cvFloor(fx); fx -= sx, with
// scale = 1 / ((double)out / in). x clamps sx < 0 to (0, f = 0) and sx >= in - 1 to
// (in - 1, f = 0) and marks every dx from the first with sx + 1 >= in as an edge tap;
// y keeps its weights and clamps row indices instead (clip(sy, 0, in)).
std::vector<Tap> linear_taps(int64_t in, int64_t out, bool is_x) {
  const double scale = 1.0 / (static_cast<double>(out) / static_cast<double>(in));
  std::vector<Tap> taps(static_cast<size_t>(out));
  bool edge = false;
  for (int64_t d = 0; d < out; ++d) {
    float f = static_cast<float>((static_cast<double>(d) + 0.5) * scale - 0.5);
    int64_t s = static_cast<int64_t>(std::floor(f));
    f -= static_cast<float>(s);
    if (is_x) {
      if (s < 0) f = 0, s = 0;
      if (s + 1 >= in) {
        edge = true;
        if (s >= in - 1) f = 0, s = in - 1;
      }
    }
    Tap& t = taps[static_cast<size_t>(d)];
    t.src = s;
    t.w0 = 1.f - f;
    t.w1 = f;
    // saturate_cast<short>(float) is cvRound: round half to even (lrintf).
    t.iw0 = static_cast<int32_t>(std::lrint(t.w0 * static_cast<float>(kCoefScale)));
    t.iw1 = static_cast<int32_t>(std::lrint(t.w1 * static_cast<float>(kCoefScale)));
    t.edge = edge;
  }
  return taps;
}

int64_t clamp_row(int64_t r, int64_t n) { return std::clamp<int64_t>(r, 0, n - 1); }

// Horizontal pass of every source row: uint8 -> int32 sums scaled by 2^11 (HResizeLinear
// <uchar, int, short, INTER_RESIZE_COEF_SCALE>); float -> float.
template <typename T, typename Acc>
std::vector<Acc> horizontal_pass(const T* src, int64_t h, int64_t w, int64_t c,
                                 const std::vector<Tap>& xt, int64_t out_w) {
  std::vector<Acc> rows(static_cast<size_t>(h * out_w * c));
  for (int64_t y = 0; y < h; ++y) {
    const T* s = src + y * w * c;
    Acc* d = rows.data() + y * out_w * c;
    for (int64_t dx = 0; dx < out_w; ++dx) {
      const Tap& t = xt[static_cast<size_t>(dx)];
      for (int64_t k = 0; k < c; ++k) {
        const Acc a = static_cast<Acc>(s[t.src * c + k]);
        Acc v;
        if constexpr (std::is_same_v<Acc, int32_t>) {
          v = t.edge ? a * kCoefScale : a * t.iw0 + static_cast<Acc>(s[(t.src + 1) * c + k]) * t.iw1;
        } else {
          v = t.edge ? a : a * t.w0 + static_cast<Acc>(s[(t.src + 1) * c + k]) * t.w1;
        }
        d[dx * c + k] = v;
      }
    }
  }
  return rows;
}

// T = uint8_t with Acc = int32_t (fixed point) or T = Acc = float.
template <typename T, typename Acc>
Image resize_linear(const Image& img, int64_t out_h, int64_t out_w) {
  const int64_t h = img.height(), w = img.width(), c = img.channels();
  const auto xt = linear_taps(w, out_w, true);
  const auto yt = linear_taps(h, out_h, false);
  const auto rows = horizontal_pass<T, Acc>(img.pixels.data<T>().data(), h, w, c, xt, out_w);
  Image out;
  out.color = img.color;
  out.pixels = Tensor::uninitialized(img.dtype(), {out_h, out_w, c});
  T* dst = out.pixels.data<T>().data();
  const int64_t n = out_w * c;
  for (int64_t dy = 0; dy < out_h; ++dy) {
    const Tap& t = yt[static_cast<size_t>(dy)];
    const Acc* s0 = rows.data() + clamp_row(t.src, h) * n;
    const Acc* s1 = rows.data() + clamp_row(t.src + 1, h) * n;
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_same_v<T, uint8_t>) {
        // VResizeLinear<uchar, int, short, FixedPtCast<.., 22>>: each product truncated by
        // >> 16 after dropping 4 bits of the row sum, then rounded by (+2) >> 2; the SIMD
        // version (v_mul_hi on int16 lanes) computes the same.
        const int32_t v = ((t.iw0 * (s0[i] >> 4)) >> 16) + ((t.iw1 * (s1[i] >> 4)) >> 16) + 2;
        dst[dy * n + i] = static_cast<uint8_t>(std::clamp(v >> 2, 0, 255));
      } else {
        dst[dy * n + i] = s0[i] * t.w0 + s1[i] * t.w1;
      }
    }
  }
  return out;
}

// Copies the rectangle [top, top + h) x [left, left + w) (inside the image).
Image crop(const Image& img, int64_t top, int64_t left, int64_t h, int64_t w) {
  const int64_t c = img.channels();
  const size_t es = dtype_size(img.dtype());
  Image out;
  out.color = img.color;
  out.pixels = Tensor::uninitialized(img.dtype(), {h, w, c});
  const size_t row = static_cast<size_t>(w * c) * es;
  for (int64_t y = 0; y < h; ++y) {
    std::memcpy(out.pixels.raw() + static_cast<size_t>(y) * row,
                img.pixels.raw() + (static_cast<size_t>((top + y) * img.width() + left) * c) * es, row);
  }
  return out;
}

// A 3-channel affine color map out_r = sum_k m[r][k] * (in_k - in_off[k]) + out_off[r],
// computed in double; rows = output channels (1 or 3).
struct ColorMap {
  std::vector<color::Vec3> m;
  color::Vec3 in_off{0, 0, 0};
  std::vector<double> out_off;
};

template <typename T>
void apply_map(const T* src, T* dst, int64_t pixels, const ColorMap& cm) {
  const size_t rows = cm.m.size();
  for (int64_t p = 0; p < pixels; ++p) {
    const T* s = src + p * 3;
    const double a = double(s[0]) - cm.in_off[0], b = double(s[1]) - cm.in_off[1],
                 c = double(s[2]) - cm.in_off[2];
    for (size_t r = 0; r < rows; ++r) {
      const double v = cm.m[r][0] * a + cm.m[r][1] * b + cm.m[r][2] * c + cm.out_off[r];
      if constexpr (std::is_same_v<T, uint8_t>)
        dst[p * int64_t(rows) + int64_t(r)] = round_to_uint8(v);
      else
        dst[p * int64_t(rows) + int64_t(r)] = static_cast<T>(v);
    }
  }
}

Image map_color(const Image& img, const ColorMap& cm, ColorType to) {
  Image out;
  out.color = to;
  const int64_t px = img.height() * img.width();
  out.pixels = Tensor::uninitialized(img.dtype(), {img.height(), img.width(), int64_t(cm.m.size())});
  if (img.dtype() == DType::kUInt8)
    apply_map(img.pixels.data<uint8_t>().data(), out.pixels.data<uint8_t>().data(), px, cm);
  else
    apply_map(img.pixels.data<float>().data(), out.pixels.data<float>().data(), px, cm);
  return out;
}

// Reorders channels: out channel i = in channel order[i] (out has order.size() channels).
Image permute_channels(const Image& img, const std::vector<int64_t>& order, ColorType to) {
  const int64_t c = img.channels(), oc = int64_t(order.size());
  const size_t es = dtype_size(img.dtype());
  Image out;
  out.color = to;
  out.pixels = Tensor::uninitialized(img.dtype(), {img.height(), img.width(), oc});
  const int64_t px = img.height() * img.width();
  for (int64_t p = 0; p < px; ++p)
    for (int64_t i = 0; i < oc; ++i)
      std::memcpy(out.pixels.raw() + size_t(p * oc + i) * es,
                  img.pixels.raw() + size_t(p * c + order[size_t(i)]) * es, es);
  return out;
}

bool is_rgb_like(ColorType t) { return t == ColorType::kRgb || t == ColorType::kBgr; }

// RGB-ordered matrix rows/columns permuted for BGR input and/or output.
color::Vec3 reorder(const color::Vec3& v, bool bgr) { return bgr ? color::Vec3{v[2], v[1], v[0]} : v; }

// Copies between interleaved (element p * c + k) and planar (element k * pixels + p) order:
// the one loop behind hwc_to_chw and chw_to_hwc.
Tensor swap_pixel_channel_order(const Tensor& src, Dims out_dims, int64_t pixels, int64_t c,
                                bool to_planar) {
  const size_t es = dtype_size(src.dtype());
  Tensor out = Tensor::uninitialized(src.dtype(), std::move(out_dims));
  for (int64_t p = 0; p < pixels; ++p)
    for (int64_t k = 0; k < c; ++k) {
      const size_t inter = size_t(p * c + k) * es, planar = size_t(k * pixels + p) * es;
      std::memcpy(out.raw() + (to_planar ? planar : inter), src.raw() + (to_planar ? inter : planar), es);
    }
  return out;
}

}  // namespace

uint8_t round_to_uint8(double v) {
  if (!(v > 0)) return 0;  // also NaN
  if (v >= 255) return 255;
  return static_cast<uint8_t>(v + 0.5);  // v > 0: truncation of v + 0.5 rounds half away
}

Image resize_bilinear(const Image& img, int64_t out_h, int64_t out_w) {
  QMAP_CHECK(out_h > 0 && out_w > 0 && img.height() > 0 && img.width() > 0, "resize {}x{} -> {}x{}",
             img.height(), img.width(), out_h, out_w);
  // cv::resize copies when the size is unchanged. (An exact 2x downscale, which OpenCV sends
  // to its INTER_AREA fast path, gives the same numbers: weights are 1/2 and 1/2.)
  if (out_h == img.height() && out_w == img.width()) return img;
  return img.dtype() == DType::kUInt8 ? resize_linear<uint8_t, int32_t>(img, out_h, out_w)
                                      : resize_linear<float, float>(img, out_h, out_w);
}

std::pair<int64_t, int64_t> short_side_size(int64_t h, int64_t w, int64_t short_side) {
  // Python: int(size * long / short), true division in double then truncation.
  auto long_of = [&](int64_t lng, int64_t shrt) {
    return static_cast<int64_t>(static_cast<double>(short_side * lng) / static_cast<double>(shrt));
  };
  if (h <= w) return {short_side, long_of(w, h)};
  return {long_of(h, w), short_side};
}

Image resize_short_side(const Image& img, int64_t short_side) {
  const auto [oh, ow] = short_side_size(img.height(), img.width(), short_side);
  return resize_bilinear(img, oh, ow);
}

Result<Image> center_crop(const Image& img, int64_t crop_h, int64_t crop_w) {
  const int64_t h = img.height(), w = img.width();
  if (crop_h <= 0 || crop_w <= 0 || crop_h > h || crop_w > w)
    return error("center crop {}x{} (HxW) does not fit the image {}x{} (HxW)", crop_h, crop_w, h, w);
  const auto top = static_cast<int64_t>(std::nearbyint(static_cast<double>(h - crop_h) / 2.0));
  const auto left = static_cast<int64_t>(std::nearbyint(static_cast<double>(w - crop_w) / 2.0));
  return crop(img, top, left, crop_h, crop_w);
}

Image letterbox(const Image& img, int64_t out_h, int64_t out_w, float pad_value,
                LetterboxGeometry* geometry) {
  const int64_t h = img.height(), w = img.width();
  const double r = std::min(static_cast<double>(out_h) / static_cast<double>(h),
                            static_cast<double>(out_w) / static_cast<double>(w));
  const int64_t nw = std::max<int64_t>(1, static_cast<int64_t>(std::nearbyint(static_cast<double>(w) * r)));
  const int64_t nh = std::max<int64_t>(1, static_cast<int64_t>(std::nearbyint(static_cast<double>(h) * r)));
  const Image resized = resize_bilinear(img, std::min(nh, out_h), std::min(nw, out_w));
  // ultralytics: top = round(dh / 2 - 0.1), dh = out_h - nh: floor(dh / 2) for integer dh.
  const int64_t top = (out_h - resized.height()) / 2, left = (out_w - resized.width()) / 2;
  const int64_t c = img.channels();
  Image out;
  out.color = img.color;
  out.pixels = Tensor::uninitialized(img.dtype(), {out_h, out_w, c});
  if (img.dtype() == DType::kUInt8) {
    auto d = out.pixels.data<uint8_t>();
    std::fill(d.begin(), d.end(), round_to_uint8(pad_value));
  } else {
    auto d = out.pixels.data<float>();
    std::fill(d.begin(), d.end(), pad_value);
  }
  const size_t es = dtype_size(img.dtype());
  const size_t row = static_cast<size_t>(resized.width() * c) * es;
  for (int64_t y = 0; y < resized.height(); ++y)
    std::memcpy(out.pixels.raw() + static_cast<size_t>(((top + y) * out_w + left) * c) * es,
                resized.pixels.raw() + static_cast<size_t>(y) * row, row);
  if (geometry != nullptr) *geometry = {r, resized.height(), resized.width(), top, left};
  return out;
}

Tensor hwc_to_chw(const Tensor& hwc) {
  QMAP_CHECK(hwc.rank() == 3, "hwc_to_chw on {}", dims_str(hwc.dims()));
  const int64_t h = hwc.dims()[0], w = hwc.dims()[1], c = hwc.dims()[2];
  return swap_pixel_channel_order(hwc, {c, h, w}, h * w, c, true);
}

Tensor chw_to_hwc(const Tensor& chw) {
  QMAP_CHECK(chw.rank() == 3, "chw_to_hwc on {}", dims_str(chw.dims()));
  const int64_t c = chw.dims()[0], h = chw.dims()[1], w = chw.dims()[2];
  return swap_pixel_channel_order(chw, {h, w, c}, h * w, c, false);
}

Result<Image> convert_color(const Image& img, ColorType to, ColorRange range) {
  const ColorType from = img.color;
  if (from == to) return img;
  if (is_rgb_like(from) && is_rgb_like(to)) return permute_channels(img, {2, 1, 0}, to);
  if (from == ColorType::kGray && is_rgb_like(to)) return permute_channels(img, {0, 0, 0}, to);
  if (from == ColorType::kGray && to == ColorType::kYuv444)
    return convert_color(permute_channels(img, {0, 0, 0}, ColorType::kRgb), to, range);
  const bool bgr_in = from == ColorType::kBgr, bgr_out = to == ColorType::kBgr;
  ColorMap cm;
  if (is_rgb_like(from) && to == ColorType::kGray) {
    cm.m = {reorder(color::kRgbToGray, bgr_in)};
    cm.out_off = {0};
  } else if (is_rgb_like(from) && to == ColorType::kYuv444) {
    const color::Mat3& m = color::rgb_to_yuv(range);
    cm.m = {reorder(m[0], bgr_in), reorder(m[1], bgr_in), reorder(m[2], bgr_in)};
    const color::Vec3& off = color::yuv_offset(range);
    cm.out_off = {off[0], off[1], off[2]};
  } else if (from == ColorType::kYuv444 && is_rgb_like(to)) {
    const color::Mat3& m = color::yuv_to_rgb(range);
    cm.m = bgr_out ? std::vector<color::Vec3>{m[2], m[1], m[0]} : std::vector<color::Vec3>{m[0], m[1], m[2]};
    cm.in_off = color::yuv_offset(range);
    cm.out_off = {0, 0, 0};
  } else if (from == ColorType::kYuv444 && to == ColorType::kGray) {
    // Gray is the luma: Y itself in full range; (Y - 16) * 255 / 219 in video range (the Y
    // row of yuv_to_rgb, whose chroma terms cancel for R + G + B weights).
    const double g = color::yuv_to_rgb(range)[0][0];
    cm.m = {color::Vec3{g, 0, 0}};
    cm.in_off = color::yuv_offset(range);
    cm.out_off = {0};
  } else {
    return error("cannot convert {} pixels to {}", color_type_name(from), color_type_name(to));
  }
  if (img.channels() != 3)
    return error("cannot convert {} pixels with {} channels to {}", color_type_name(from),
                 img.channels(), color_type_name(to));
  return map_color(img, cm, to);
}

Image to_uint8(const Image& img) {
  if (img.dtype() == DType::kUInt8) return img;
  Image out;
  out.color = img.color;
  out.pixels = Tensor::uninitialized(DType::kUInt8, img.pixels.dims());
  auto s = img.pixels.data<float>();
  auto d = out.pixels.data<uint8_t>();
  for (size_t i = 0; i < s.size(); ++i) d[i] = round_to_uint8(s[i]);
  return out;
}

Image to_float32(const Image& img) {
  if (img.dtype() == DType::kFloat32) return img;
  Image out;
  out.color = img.color;
  out.pixels = cast_tensor(img.pixels, DType::kFloat32);
  return out;
}

Image scale_pixels(const Image& img, float factor) {
  Image f = to_float32(img);
  Image out;
  out.color = img.color;
  out.pixels = Tensor::uninitialized(DType::kFloat32, img.pixels.dims());
  auto s = f.pixels.data<float>();
  auto d = out.pixels.data<float>();
  for (size_t i = 0; i < s.size(); ++i) d[i] = s[i] * factor;
  return out;
}

Result<Nv12Image> to_nv12(const Image& yuv444) {
  if (yuv444.color != ColorType::kYuv444)
    return error("nv12: input is {}, expected yuv444", color_type_name(yuv444.color));
  const int64_t h = yuv444.height(), w = yuv444.width();
  if (h % 2 != 0 || w % 2 != 0)
    return error("nv12: image size {}x{} (HxW) is odd: 4:2:0 chroma needs an even height and width",
                 h, w);
  const Image u8 = to_uint8(yuv444);
  const uint8_t* s = u8.pixels.data<uint8_t>().data();
  Nv12Image out;
  out.height = h;
  out.width = w;
  out.data = Tensor::uninitialized(DType::kUInt8, {h * 3 / 2, w});
  uint8_t* y_plane = out.data.data<uint8_t>().data();
  uint8_t* uv_plane = y_plane + h * w;
  for (int64_t p = 0; p < h * w; ++p) y_plane[p] = s[p * 3];
  for (int64_t by = 0; by < h / 2; ++by) {
    for (int64_t bx = 0; bx < w / 2; ++bx) {
      for (int64_t k = 1; k <= 2; ++k) {
        auto at = [&](int64_t y, int64_t x) { return int32_t{s[(y * w + x) * 3 + k]}; };
        const int32_t sum = at(2 * by, 2 * bx) + at(2 * by, 2 * bx + 1) + at(2 * by + 1, 2 * bx) +
                            at(2 * by + 1, 2 * bx + 1);
        uv_plane[by * w + bx * 2 + (k - 1)] = static_cast<uint8_t>((sum + 2) >> 2);
      }
    }
  }
  return out;
}

Image nv12_to_yuv444(const Nv12Image& nv12) {
  Image out;
  out.color = ColorType::kYuv444;
  out.pixels = Tensor::uninitialized(DType::kUInt8, {nv12.height, nv12.width, 3});
  nv12_to_yuv444_hwc(nv12.data.data<uint8_t>().data(), nv12.height, nv12.width, out.pixels.data<uint8_t>().data());
  return out;
}

}  // namespace qmap
