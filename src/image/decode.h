// Image file decoding: JPEG (libjpeg-turbo, default islow IDCT and fancy upsampling, as
// PIL and OpenCV decode), PNG (libpng) and uncompressed 24/32-bit BMP (own reader). The
// format is detected from the first bytes, never from the file name.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "image/image.h"

namespace qmap {

enum class ImageFormat { kUnknown, kJpeg, kPng, kBmp };

// Format from the magic bytes: FF D8 FF (JPEG), 89 'P' 'N' 'G' (PNG), 'B' 'M' (BMP).
ImageFormat detect_image_format(std::string_view bytes);

// Decodes an in-memory file to a uint8 HWC image: RGB for color images, gray (C = 1) for
// grayscale JPEG/PNG. PNG: palette and <8-bit gray expanded, 16-bit reduced to 8 by keeping
// the high byte (as OpenCV's imread does), alpha dropped. EXIF orientation is not applied
// (as PIL.Image.open). `name` is used in error messages only ("image 'name': truncated").
// Larger images are refused from the header, before anything is allocated: 2^28 pixels
// (16384 x 16384) x 3 bytes is 768 MiB, far beyond any calibration image, and a corrupt header
// must not exhaust memory. `max_pixels` lowers the cap (the fuzz harness uses 2^16, so
// its time goes to the decoders' logic, not to big images, as libjpeg-turbo's fuzzers cap theirs).
inline constexpr uint64_t kMaxImagePixels = uint64_t{1} << 28;
Result<Image> decode_image(std::string_view bytes, const std::string& name,
                           uint64_t max_pixels = kMaxImagePixels);

// Reads and decodes a file; errors name the path.
Result<Image> read_image(const std::string& path);

}  // namespace qmap
