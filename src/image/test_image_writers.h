// Test-only image encoders (JPEG via libjpeg, PNG via libpng, BMP by hand) so decode,
// dataset and preprocess tests generate their own files instead of reading shared data.
// Header-only on purpose: nothing outside *_test.cpp includes it.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <jpeglib.h>
#include <png.h>

#include "image/image.h"

namespace qmap::testing {

// Fixed-seed random uint8 HWC image: a smooth gradient (40..250) plus noise of +-20.
inline Image random_image(int64_t h, int64_t w, int64_t c, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(-20, 20);
  Image img;
  img.color = c == 1 ? ColorType::kGray : ColorType::kRgb;
  img.pixels = Tensor(DType::kUInt8, {h, w, c});
  auto d = img.pixels.data<uint8_t>();
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t k = 0; k < c; ++k) {
        const int base = static_cast<int>(40 + x * 150 / w + y * 50 / h + k * 10);
        d[static_cast<size_t>((y * w + x) * c + k)] =
            static_cast<uint8_t>(std::clamp(base + noise(rng), 0, 255));
      }
  return img;
}

inline std::string encode_jpeg(const Image& img, int quality = 95) {
  jpeg_compress_struct cinfo;
  jpeg_error_mgr jerr;
  cinfo.err = jpeg_std_error(&jerr);
  jpeg_create_compress(&cinfo);
  unsigned char* buf = nullptr;
  unsigned long size = 0;
  jpeg_mem_dest(&cinfo, &buf, &size);
  cinfo.image_width = static_cast<JDIMENSION>(img.width());
  cinfo.image_height = static_cast<JDIMENSION>(img.height());
  cinfo.input_components = static_cast<int>(img.channels());
  cinfo.in_color_space = img.channels() == 1 ? JCS_GRAYSCALE : JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  const auto* px = img.pixels.data<uint8_t>().data();
  while (cinfo.next_scanline < cinfo.image_height) {
    JSAMPROW row = const_cast<JSAMPROW>(px + cinfo.next_scanline * img.width() * img.channels());
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::string out(reinterpret_cast<char*>(buf), size);
  std::free(buf);
  return out;
}

// PNG of a uint8 image; bit_depth 16 writes each sample as v * 257 + extra_low (low byte).
inline std::string encode_png(const Image& img, int bit_depth = 8, bool add_alpha = false,
                              uint8_t extra_low = 0) {
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  std::string out;
  png_set_write_fn(
      png, &out,
      [](png_structp p, png_bytep data, png_size_t n) {
        static_cast<std::string*>(png_get_io_ptr(p))->append(reinterpret_cast<char*>(data), n);
      },
      [](png_structp) {});
  const int64_t c = img.channels(), oc = c + (add_alpha ? 1 : 0);
  const int color = c == 1 ? (add_alpha ? PNG_COLOR_TYPE_GRAY_ALPHA : PNG_COLOR_TYPE_GRAY)
                           : (add_alpha ? PNG_COLOR_TYPE_RGBA : PNG_COLOR_TYPE_RGB);
  png_set_IHDR(png, info, static_cast<png_uint_32>(img.width()), static_cast<png_uint_32>(img.height()),
               bit_depth, color, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  png_write_info(png, info);
  const auto* px = img.pixels.data<uint8_t>().data();
  const size_t bps = bit_depth == 16 ? 2 : 1;
  std::vector<uint8_t> row(static_cast<size_t>(img.width() * oc) * bps);
  for (int64_t y = 0; y < img.height(); ++y) {
    size_t o = 0;
    for (int64_t x = 0; x < img.width(); ++x) {
      for (int64_t k = 0; k < oc; ++k) {
        const uint8_t v = k < c ? px[(y * img.width() + x) * c + k] : uint8_t{200};
        row[o++] = v;
        if (bps == 2) row[o++] = extra_low;  // big-endian: high byte first
      }
    }
    png_write_row(png, row.data());
  }
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return out;
}

// Uncompressed BMP (BITMAPINFOHEADER) of an RGB uint8 image, 24 or 32 bits per pixel.
inline std::string encode_bmp(const Image& img, int bpp = 24, bool top_down = false) {
  const int64_t w = img.width(), h = img.height(), bytes_pp = bpp / 8;
  const int64_t stride = (w * bytes_pp + 3) / 4 * 4;
  std::string out(static_cast<size_t>(54 + stride * h), '\0');
  auto put32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) out[at + size_t(i)] = static_cast<char>((v >> (8 * i)) & 0xFF);
  };
  out[0] = 'B';
  out[1] = 'M';
  put32(2, static_cast<uint32_t>(out.size()));
  put32(10, 54);
  put32(14, 40);
  put32(18, static_cast<uint32_t>(w));
  put32(22, static_cast<uint32_t>(top_down ? -h : h));
  out[26] = 1;
  out[28] = static_cast<char>(bpp);
  const auto* px = img.pixels.data<uint8_t>().data();
  for (int64_t y = 0; y < h; ++y) {
    const int64_t row = top_down ? y : h - 1 - y;
    for (int64_t x = 0; x < w; ++x) {
      char* q = out.data() + 54 + row * stride + x * bytes_pp;
      const uint8_t* p = px + (y * w + x) * 3;
      q[0] = static_cast<char>(p[2]);
      q[1] = static_cast<char>(p[1]);
      q[2] = static_cast<char>(p[0]);
      if (bytes_pp == 4) q[3] = static_cast<char>(0xFF);
    }
  }
  return out;
}

}  // namespace qmap::testing
