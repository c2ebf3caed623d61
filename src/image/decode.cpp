// JPEG / PNG / BMP decoding into uint8 HWC images. libjpeg and libpng report errors by
// calling an error handler that must not return; both handlers here longjmp back to the
// decode function. The frames that call setjmp hold only trivially destructible locals
// (buffers live in the caller's frame), so the jump skips no destructor.
#include "image/decode.h"

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include <jpeglib.h>
#include <jerror.h>  // JWRN_JPEG_EOF (after jpeglib.h, which it needs)
#include <png.h>

#include "core/file_io.h"

namespace qmap {

namespace {

Status too_large(const std::string& name, uint64_t w, uint64_t h, uint64_t max_pixels) {
  return error("image '{}': size {}x{} (WxH) exceeds the limit of {} pixels", name, w, h,
               max_pixels);
}

Image make_image(std::vector<uint8_t>&& buf, int64_t h, int64_t w, int64_t c) {
  Image img;
  img.pixels = Tensor::uninitialized(DType::kUInt8, {h, w, c});
  std::memcpy(img.pixels.raw(), buf.data(), buf.size());
  img.color = c == 1 ? ColorType::kGray : ColorType::kRgb;
  return img;
}

// ---------------------------------------------------------------- JPEG (libjpeg-turbo)

struct JpegError {
  jpeg_error_mgr mgr;    // first member: libjpeg hands back a pointer to it
  jmp_buf jump;
  bool truncated;        // libjpeg only warns (JWRN_JPEG_EOF) and pads with gray
  char message[JMSG_LENGTH_MAX];
};

void jpeg_on_error(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

// Warnings (level -1) are ignored as PIL and OpenCV do ("extraneous bytes before marker"),
// except a premature end of data: PIL refuses such files ("image file is truncated"), and a
// gray-padded image would silently bias calibration.
void jpeg_on_message(j_common_ptr cinfo, int level) {
  auto* err = reinterpret_cast<JpegError*>(cinfo->err);
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) err->truncated = true;
}

struct DecodeInfo {
  int width = 0, height = 0, channels = 0;
  bool unsupported_color = false;
  bool oversize = false;
};

// Returns false with err->message set on a libjpeg error.
bool jpeg_decode_raw(const unsigned char* data, size_t size, uint64_t max_pixels, JpegError* err,
                     DecodeInfo* out, std::vector<uint8_t>* pixels) {
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&err->mgr);
  err->mgr.error_exit = jpeg_on_error;
  err->mgr.emit_message = jpeg_on_message;
  err->truncated = false;
  if (setjmp(err->jump)) {
    jpeg_destroy_decompress(&cinfo);
    return false;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, static_cast<unsigned long>(size));
  jpeg_read_header(&cinfo, TRUE);
  // Defaults kept on purpose: JDCT_ISLOW and do_fancy_upsampling = TRUE are what PIL and
  // OpenCV use, so pixels match the Python pipelines users compare with.
  if (cinfo.jpeg_color_space == JCS_GRAYSCALE) {
    cinfo.out_color_space = JCS_GRAYSCALE;
  } else if (cinfo.jpeg_color_space == JCS_YCbCr || cinfo.jpeg_color_space == JCS_RGB) {
    cinfo.out_color_space = JCS_RGB;
  } else {
    out->unsupported_color = true;  // CMYK / YCCK
    jpeg_destroy_decompress(&cinfo);
    return true;
  }
  // The size is checked before jpeg_start_decompress: for a progressive file that call reads
  // the whole file into coefficient buffers sized by the header.
  jpeg_calc_output_dimensions(&cinfo);
  out->width = static_cast<int>(cinfo.output_width);
  out->height = static_cast<int>(cinfo.output_height);
  out->channels = cinfo.output_components;
  if (uint64_t{cinfo.output_width} * cinfo.output_height > max_pixels) {
    out->oversize = true;
    jpeg_destroy_decompress(&cinfo);
    return true;
  }
  jpeg_start_decompress(&cinfo);
  const size_t row_bytes = size_t{cinfo.output_width} * static_cast<size_t>(cinfo.output_components);
  pixels->resize(row_bytes * cinfo.output_height);
  // A truncated file is refused (below), so decoding stops at the end of its data instead of
  // padding a header-sized image with gray rows: a 1 KB file declaring 16384 x 16384 pixels
  // costs a header parse, not seconds of decoding.
  while (cinfo.output_scanline < cinfo.output_height && !err->truncated) {
    JSAMPROW row = pixels->data() + row_bytes * cinfo.output_scanline;
    jpeg_read_scanlines(&cinfo, &row, 1);
  }
  if (err->truncated) {
    jpeg_destroy_decompress(&cinfo);
    return true;
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return true;
}

Result<Image> decode_jpeg(std::string_view bytes, const std::string& name, uint64_t max_pixels) {
  JpegError err;
  DecodeInfo out;
  std::vector<uint8_t> pixels;
  if (!jpeg_decode_raw(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), max_pixels,
                       &err, &out, &pixels)) {
    return error("image '{}': JPEG decode failed: {}", name, err.message);
  }
  if (out.unsupported_color)
    return error("image '{}': CMYK/YCCK JPEG is not supported (RGB, YCbCr or gray)", name);
  if (out.oversize) return too_large(name, out.width, out.height, max_pixels);
  if (err.truncated) return error("image '{}': truncated JPEG (premature end of data)", name);
  return make_image(std::move(pixels), out.height, out.width, out.channels);
}

// ---------------------------------------------------------------- PNG (libpng)

struct PngReader {
  const unsigned char* data;
  size_t size;
  size_t pos;
  char message[256];
};

void png_on_error(png_structp png, png_const_charp msg) {
  auto* r = static_cast<PngReader*>(png_get_error_ptr(png));
  std::snprintf(r->message, sizeof r->message, "%s", msg);
  png_longjmp(png, 1);
}

void png_on_warning(png_structp, png_const_charp) {}

void png_read_from_memory(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<PngReader*>(png_get_io_ptr(png));
  if (n > r->size - r->pos) png_error(png, "truncated (file ends inside the image data)");
  std::memcpy(out, r->data + r->pos, n);
  r->pos += n;
}

bool png_decode_raw(PngReader* r, uint64_t max_pixels, DecodeInfo* out, std::vector<uint8_t>* pixels,
                    std::vector<png_bytep>* rows) {
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, r, png_on_error, png_on_warning);
  if (png == nullptr) {
    std::snprintf(r->message, sizeof r->message, "cannot create the PNG reader");
    return false;
  }
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    std::snprintf(r->message, sizeof r->message, "cannot create the PNG reader");
    return false;
  }
  if (setjmp(png_jmpbuf(png))) {
    png_destroy_read_struct(&png, &info, nullptr);
    return false;
  }
  png_set_read_fn(png, r, png_read_from_memory);
  png_read_info(png, info);
  const png_uint_32 w = png_get_image_width(png, info);
  const png_uint_32 h = png_get_image_height(png, info);
  out->width = static_cast<int>(w);
  out->height = static_cast<int>(h);
  if (uint64_t{w} * h > max_pixels) {
    out->oversize = true;
    png_destroy_read_struct(&png, &info, nullptr);
    return true;
  }
  // Palette -> RGB, gray < 8 bits -> 8 bits, tRNS -> alpha (then dropped below).
  png_set_expand(png);
  // 16-bit samples: keep the high byte (v >> 8), as OpenCV's imread does for 8-bit output.
  png_set_strip_16(png);
  png_set_strip_alpha(png);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  out->channels = png_get_channels(png, info);
  const size_t row_bytes = png_get_rowbytes(png, info);
  pixels->resize(row_bytes * h);
  rows->resize(h);
  for (png_uint_32 y = 0; y < h; ++y) (*rows)[y] = pixels->data() + row_bytes * y;
  png_read_image(png, rows->data());
  png_read_end(png, nullptr);
  png_destroy_read_struct(&png, &info, nullptr);
  return true;
}

Result<Image> decode_png(std::string_view bytes, const std::string& name, uint64_t max_pixels) {
  PngReader r{reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), 0, {}};
  DecodeInfo out;
  std::vector<uint8_t> pixels;
  std::vector<png_bytep> rows;
  if (!png_decode_raw(&r, max_pixels, &out, &pixels, &rows))
    return error("image '{}': PNG decode failed: {}", name, r.message);
  if (out.oversize) return too_large(name, out.width, out.height, max_pixels);
  if (out.channels != 1 && out.channels != 3)
    return error("image '{}': PNG with {} channels after expansion (1 or 3 expected)", name,
                 out.channels);
  return make_image(std::move(pixels), out.height, out.width, out.channels);
}

// ---------------------------------------------------------------- BMP (own reader)

uint32_t le32(std::string_view b, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(b[at + static_cast<size_t>(i)]);
  return v;
}
uint16_t le16(std::string_view b, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(b[at]) | (static_cast<uint8_t>(b[at + 1]) << 8));
}

// Windows BMP: BITMAPFILEHEADER (14 bytes) + BITMAPINFOHEADER (40 bytes) or a later V4/V5
// header. Uncompressed (BI_RGB) 24-bit BGR or 32-bit BGRX, or BI_BITFIELDS with the standard
// 32-bit masks. Rows are padded to 4 bytes; a positive height means bottom-up rows.
Result<Image> decode_bmp(std::string_view b, const std::string& name, uint64_t max_pixels) {
  if (b.size() < 14 + 40) return error("image '{}': truncated BMP header ({} bytes)", name, b.size());
  const uint32_t offset = le32(b, 10);
  const uint32_t header = le32(b, 14);
  if (header < 40)
    return error("image '{}': unsupported BMP header size {} (40 or more: BITMAPINFOHEADER)", name,
                 header);
  const int32_t w = static_cast<int32_t>(le32(b, 18));
  const int32_t h_signed = static_cast<int32_t>(le32(b, 22));
  const uint16_t bpp = le16(b, 28);
  const uint32_t compression = le32(b, 30);
  if (w <= 0 || h_signed == 0 || h_signed == INT32_MIN)
    return error("image '{}': invalid BMP size {}x{} (WxH)", name, w, h_signed);
  const bool top_down = h_signed < 0;
  const int64_t h = top_down ? -static_cast<int64_t>(h_signed) : h_signed;
  if (uint64_t(w) * uint64_t(h) > max_pixels) return too_large(name, uint64_t(w), uint64_t(h), max_pixels);
  if (bpp != 24 && bpp != 32)
    return error("image '{}': unsupported BMP with {} bits per pixel (24 or 32 supported)", name, bpp);
  constexpr uint32_t kBiRgb = 0, kBiBitfields = 3;
  if (compression == kBiBitfields && bpp == 32) {
    // Masks follow the 40-byte header (or sit inside a V4/V5 header at the same offset).
    if (b.size() < 14 + 40 + 12)
      return error("image '{}': truncated BMP header ({} bytes)", name, b.size());
    const uint32_t rm = le32(b, 54), gm = le32(b, 58), bm = le32(b, 62);
    if (rm != 0x00FF0000u || gm != 0x0000FF00u || bm != 0x000000FFu)
      return error("image '{}': unsupported BMP bit fields R={:#x} G={:#x} B={:#x} (only 8-bit BGRX)",
                   name, rm, gm, bm);
  } else if (compression != kBiRgb) {
    return error("image '{}': unsupported BMP compression {} (only uncompressed BI_RGB)", name,
                 compression);
  }
  const uint64_t bytes_pp = bpp / 8;
  const uint64_t stride = (uint64_t(w) * bytes_pp + 3) / 4 * 4;
  const uint64_t need = uint64_t(offset) + stride * uint64_t(h);
  if (offset < 14 + header || need > b.size())
    return error("image '{}': truncated BMP: pixel data needs {} bytes, file has {}", name, need,
                 b.size());
  Image img;
  img.pixels = Tensor::uninitialized(DType::kUInt8, {h, w, 3});
  img.color = ColorType::kRgb;
  uint8_t* dst = reinterpret_cast<uint8_t*>(img.pixels.raw());
  for (int64_t y = 0; y < h; ++y) {
    const int64_t src_row = top_down ? y : h - 1 - y;
    const auto* src = reinterpret_cast<const uint8_t*>(b.data()) + offset + stride * uint64_t(src_row);
    for (int64_t x = 0; x < w; ++x) {
      const uint8_t* p = src + bytes_pp * uint64_t(x);
      uint8_t* q = dst + (y * w + x) * 3;
      q[0] = p[2];  // stored B, G, R
      q[1] = p[1];
      q[2] = p[0];
    }
  }
  return img;
}

}  // namespace

ImageFormat detect_image_format(std::string_view b) {
  auto starts = [&](std::string_view magic) { return b.substr(0, magic.size()) == magic; };
  if (starts("\xFF\xD8\xFF")) return ImageFormat::kJpeg;
  if (starts("\x89PNG\r\n\x1A\n")) return ImageFormat::kPng;
  if (starts("BM")) return ImageFormat::kBmp;
  return ImageFormat::kUnknown;
}

Result<Image> decode_image(std::string_view bytes, const std::string& name, uint64_t max_pixels) {
  switch (detect_image_format(bytes)) {
    case ImageFormat::kJpeg: return decode_jpeg(bytes, name, max_pixels);
    case ImageFormat::kPng: return decode_png(bytes, name, max_pixels);
    case ImageFormat::kBmp: return decode_bmp(bytes, name, max_pixels);
    case ImageFormat::kUnknown: break;
  }
  std::string head;
  for (size_t i = 0; i < bytes.size() && i < 4; ++i)
    head += fmt::format("{}{:02X}", i ? " " : "", static_cast<uint8_t>(bytes[i]));
  if (bytes.empty()) head = "empty file";
  return error("image '{}': not a JPEG/PNG/BMP file (first bytes: {})", name, head);
}

Result<Image> read_image(const std::string& path) {
  QMAP_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  return decode_image(bytes, path);
}

}  // namespace qmap
