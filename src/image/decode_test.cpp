// Decoding tests: images generated in the test (JPEG by libjpeg, PNG by libpng, BMP by hand),
// lossless formats compared exactly, JPEG within a lossy tolerance; corrupt files name the
// file and the reason.
#include "image/decode.h"

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>

#include "core/file_io.h"
#include "image/test_image_writers.h"

namespace qmap {
namespace {

using testing::encode_bmp;
using testing::encode_jpeg;
using testing::encode_png;
using testing::random_image;

std::vector<uint8_t> bytes_of(const Image& img) {
  auto s = img.pixels.data<uint8_t>();
  return {s.begin(), s.end()};
}

TEST(ImageDecode, DetectsFormatByMagicNotName) {
  const Image img = random_image(4, 6, 3, 1);
  EXPECT_EQ(detect_image_format(encode_jpeg(img)), ImageFormat::kJpeg);
  EXPECT_EQ(detect_image_format(encode_png(img)), ImageFormat::kPng);
  EXPECT_EQ(detect_image_format(encode_bmp(img)), ImageFormat::kBmp);
  EXPECT_EQ(detect_image_format("GIF89a"), ImageFormat::kUnknown);
  // A PNG named .jpg decodes as PNG.
  auto r = decode_image(encode_png(img), "photo.jpg");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(bytes_of(*r), bytes_of(img));
}

TEST(ImageDecode, PngRgbGrayAlphaAnd16BitExact) {
  for (uint32_t seed : {1u, 2u}) {
    const Image rgb = random_image(5, 7, 3, seed);
    const Image gray = random_image(6, 3, 1, seed);
    auto a = decode_image(encode_png(rgb), "rgb.png");
    ASSERT_TRUE(a.ok()) << a.status().message();
    EXPECT_EQ(a->color, ColorType::kRgb);
    EXPECT_EQ(a->pixels.dims(), (Dims{5, 7, 3}));
    EXPECT_EQ(bytes_of(*a), bytes_of(rgb)) << "seed " << seed;
    auto g = decode_image(encode_png(gray), "gray.png");
    ASSERT_TRUE(g.ok());
    EXPECT_EQ(g->color, ColorType::kGray);
    EXPECT_EQ(bytes_of(*g), bytes_of(gray)) << "seed " << seed;
    // Alpha dropped.
    auto ra = decode_image(encode_png(rgb, 8, true), "rgba.png");
    ASSERT_TRUE(ra.ok());
    EXPECT_EQ(bytes_of(*ra), bytes_of(rgb)) << "seed " << seed;
    auto ga = decode_image(encode_png(gray, 8, true), "ga.png");
    ASSERT_TRUE(ga.ok());
    EXPECT_EQ(ga->channels(), 1);
    EXPECT_EQ(bytes_of(*ga), bytes_of(gray)) << "seed " << seed;
    // 16-bit: the high byte is kept whatever the low byte (0xFF would round up if scaled).
    auto r16 = decode_image(encode_png(rgb, 16, false, 0xFF), "rgb16.png");
    ASSERT_TRUE(r16.ok()) << r16.status().message();
    EXPECT_EQ(bytes_of(*r16), bytes_of(rgb)) << "seed " << seed;
  }
}

TEST(ImageDecode, BmpBottomUpTopDown24And32BitExact) {
  // Width 5 makes 24-bit rows need 1 byte of padding (15 -> 16).
  const Image img = random_image(3, 5, 3, 7);
  for (int bpp : {24, 32}) {
    for (bool top_down : {false, true}) {
      auto r = decode_image(encode_bmp(img, bpp, top_down), "x.bmp");
      ASSERT_TRUE(r.ok()) << r.status().message();
      EXPECT_EQ(bytes_of(*r), bytes_of(img)) << "bpp " << bpp << " top_down " << top_down;
    }
  }
}

TEST(ImageDecode, JpegCloseToSourceAndGrayStaysGray) {
  const Image img = random_image(16, 24, 3, 3);
  auto r = decode_image(encode_jpeg(img, 100), "q100.jpg");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->pixels.dims(), (Dims{16, 24, 3}));
  // Quality 100 with 4:2:0 chroma: the per-pixel chroma noise is averaged away, so the
  // error is bounded by the noise amplitude (20), and is much smaller on average.
  const auto a = bytes_of(*r), b = bytes_of(img);
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::abs(int(a[i]) - int(b[i]));
  EXPECT_LT(sum / double(a.size()), 8.0);
  auto g = decode_image(encode_jpeg(random_image(8, 8, 1, 4)), "g.jpg");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ(g->color, ColorType::kGray);
  EXPECT_EQ(g->channels(), 1);
}

// A 4x6 RGB JPEG (4:2:0, quality 90) written by PIL 9.4, and the pixels PIL decodes from
// it (Image.open(...).convert("RGB")): the decoder must match PIL byte for byte.
constexpr char kPilJpeg[] =
    "\xff\xd8\xff\xe0\x00\x10\x4a\x46\x49\x46\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xdb\x00\x43\x00\x03\x02\x02\x03\x02\x02\x03"
    "\x03\x03\x03\x04\x03\x03\x04\x05\x08\x05\x05\x04\x04\x05\x0a\x07\x07\x06\x08\x0c\x0a\x0c\x0c\x0b\x0a\x0b\x0b\x0d\x0e\x12\x10\x0d"
    "\x0e\x11\x0e\x0b\x0b\x10\x16\x10\x11\x13\x14\x15\x15\x15\x0c\x0f\x17\x18\x16\x14\x18\x12\x14\x15\x14\xff\xdb\x00\x43\x01\x03\x04"
    "\x04\x05\x04\x05\x09\x05\x05\x09\x14\x0d\x0b\x0d\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14"
    "\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\x14\xff\xc0"
    "\x00\x11\x08\x00\x04\x00\x06\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xc4\x00\x1f\x00\x00\x01\x05\x01\x01\x01\x01\x01\x01\x00"
    "\x00\x00\x00\x00\x00\x00\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\xff\xc4\x00\xb5\x10\x00\x02\x01\x03\x03\x02\x04\x03\x05"
    "\x05\x04\x04\x00\x00\x01\x7d\x01\x02\x03\x00\x04\x11\x05\x12\x21\x31\x41\x06\x13\x51\x61\x07\x22\x71\x14\x32\x81\x91\xa1\x08\x23"
    "\x42\xb1\xc1\x15\x52\xd1\xf0\x24\x33\x62\x72\x82\x09\x0a\x16\x17\x18\x19\x1a\x25\x26\x27\x28\x29\x2a\x34\x35\x36\x37\x38\x39\x3a"
    "\x43\x44\x45\x46\x47\x48\x49\x4a\x53\x54\x55\x56\x57\x58\x59\x5a\x63\x64\x65\x66\x67\x68\x69\x6a\x73\x74\x75\x76\x77\x78\x79\x7a"
    "\x83\x84\x85\x86\x87\x88\x89\x8a\x92\x93\x94\x95\x96\x97\x98\x99\x9a\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xb2\xb3\xb4\xb5\xb6\xb7"
    "\xb8\xb9\xba\xc2\xc3\xc4\xc5\xc6\xc7\xc8\xc9\xca\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xe1\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xf1"
    "\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9\xfa\xff\xc4\x00\x1f\x01\x00\x03\x01\x01\x01\x01\x01\x01\x01\x01\x01\x00\x00\x00\x00\x00\x00\x01"
    "\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\xff\xc4\x00\xb5\x11\x00\x02\x01\x02\x04\x04\x03\x04\x07\x05\x04\x04\x00\x01\x02\x77\x00"
    "\x01\x02\x03\x11\x04\x05\x21\x31\x06\x12\x41\x51\x07\x61\x71\x13\x22\x32\x81\x08\x14\x42\x91\xa1\xb1\xc1\x09\x23\x33\x52\xf0\x15"
    "\x62\x72\xd1\x0a\x16\x24\x34\xe1\x25\xf1\x17\x18\x19\x1a\x26\x27\x28\x29\x2a\x35\x36\x37\x38\x39\x3a\x43\x44\x45\x46\x47\x48\x49"
    "\x4a\x53\x54\x55\x56\x57\x58\x59\x5a\x63\x64\x65\x66\x67\x68\x69\x6a\x73\x74\x75\x76\x77\x78\x79\x7a\x82\x83\x84\x85\x86\x87\x88"
    "\x89\x8a\x92\x93\x94\x95\x96\x97\x98\x99\x9a\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xb2\xb3\xb4\xb5\xb6\xb7\xb8\xb9\xba\xc2\xc3\xc4"
    "\xc5\xc6\xc7\xc8\xc9\xca\xd2\xd3\xd4\xd5\xd6\xd7\xd8\xd9\xda\xe2\xe3\xe4\xe5\xe6\xe7\xe8\xe9\xea\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9"
    "\xfa\xff\xda\x00\x0c\x03\x01\x00\x02\x11\x03\x11\x00\x3f\x00\xc6\xf8\xc1\x6f\xa7\xdc\xfc\x42\xd6\xb4\xdb\xed\x1b\x4b\xd5\x6d\x4c"
    "\x50\xdd\x63\x51\xb2\x8e\xe0\x87\x5b\xab\xfb\x71\x82\xc0\xe0\x6c\x81\x4e\x07\xf1\x3b\x9e\xfc\x14\x51\x5f\x25\x8a\xa9\x3a\x52\x8c"
    "\x69\xb6\x97\x2c\x76\xd3\x64\x92\xfb\x92\x49\x79\x24\x8f\x72\x85\x1a\x53\xa7\x17\x38\xa7\xee\xc3\xa2\xfe\x48\x9f\xff\xd9";
const std::vector<uint8_t> kPilPixels = {141, 209, 74, 131, 165, 91, 144, 107, 158, 75, 34, 90, 102, 117, 60, 0, 38, 0, 142, 199, 86, 157, 181, 119, 117, 74, 119, 160, 110, 161, 186, 191, 150, 125, 155, 67, 156, 192, 120, 162, 166, 129, 155, 98, 130, 142, 77, 117, 148, 128, 117, 126, 130, 93, 187, 211, 161, 125, 119, 93, 231, 167, 193, 66, 0, 27, 139, 109, 111, 112, 102, 90};

TEST(ImageDecode, JpegMatchesPilBytes) {
  auto r = decode_image(std::string_view(kPilJpeg, 702), "pil.jpg");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->pixels.dims(), (Dims{4, 6, 3}));
  EXPECT_EQ(bytes_of(*r), kPilPixels);
}

TEST(ImageDecode, CorruptFilesNameFileAndReason) {
  const Image img = random_image(16, 16, 3, 5);
  const std::string png = encode_png(img), bmp = encode_bmp(img);
  // Large enough that half the file is entropy-coded data, not tables.
  const std::string jpg = encode_jpeg(random_image(64, 64, 3, 5));

  auto r = decode_image("hello world", "notes.jpg");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "image 'notes.jpg': not a JPEG/PNG/BMP file (first bytes: 68 65 6C 6C)");
  r = decode_image("", "empty.png");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("image 'empty.png': not a JPEG/PNG/BMP file (first bytes: empty file)"),
            std::string::npos);

  r = decode_image(jpg.substr(0, jpg.size() / 2), "half.jpg");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "image 'half.jpg': truncated JPEG (premature end of data)");
  r = decode_image(jpg.substr(0, 20), "head.jpg");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("image 'head.jpg': JPEG decode failed: "), std::string::npos)
      << r.status().message();

  r = decode_image(png.substr(0, png.size() - 30), "cut.png");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("image 'cut.png': PNG decode failed: "), std::string::npos)
      << r.status().message();
  std::string bad_crc = png;
  bad_crc[20] ^= 0x55;  // inside IHDR: its CRC no longer matches
  r = decode_image(bad_crc, "crc.png");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("image 'crc.png': PNG decode failed"), std::string::npos);

  r = decode_image(bmp.substr(0, bmp.size() - 5), "cut.bmp");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "image 'cut.bmp': truncated BMP: pixel data needs 822 bytes, file has 817");
  std::string bpp8 = bmp;
  bpp8[28] = 8;
  r = decode_image(bpp8, "p.bmp");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "image 'p.bmp': unsupported BMP with 8 bits per pixel (24 or 32 supported)");
  std::string rle = bmp;
  rle[30] = 1;
  r = decode_image(rle, "rle.bmp");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unsupported BMP compression 1"), std::string::npos);
  std::string huge = bmp;
  huge[21] = 0x7F;  // width ~2^31
  r = decode_image(huge, "huge.bmp");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("exceeds the limit"), std::string::npos) << r.status().message();
}

// The pixel cap applies to every format from its header, and a caller may lower it (the fuzz
// harness does); a truncated JPEG declaring a huge size is refused as truncated.
TEST(ImageDecode, PixelCapFromTheHeaderAndTruncatedHugeJpeg) {
  const Image img = random_image(40, 30, 3, 9);  // 1200 pixels
  for (const auto& [file, name] : {std::pair{encode_jpeg(img), "a.jpg"}, std::pair{encode_png(img), "a.png"},
                                   std::pair{encode_bmp(img), "a.bmp"}}) {
    auto r = decode_image(file, name, 1199);
    ASSERT_FALSE(r.ok()) << name;
    EXPECT_EQ(r.status().message(),
              std::string("image '") + name + "': size 30x40 (WxH) exceeds the limit of 1199 pixels");
    EXPECT_TRUE(decode_image(file, name, 1200).ok()) << name;
  }
  std::string jpg = encode_jpeg(random_image(64, 64, 3, 5));
  const size_t sof = jpg.find("\xFF\xC0");
  ASSERT_NE(sof, std::string::npos);
  jpg[sof + 5] = jpg[sof + 7] = '\x08';  // height and width 2048
  jpg[sof + 6] = jpg[sof + 8] = '\x00';
  auto r = decode_image(jpg.substr(0, jpg.size() / 2), "huge.jpg");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "image 'huge.jpg': truncated JPEG (premature end of data)");
}

TEST(ImageDecode, ReadImageNamesMissingPath) {
  auto r = read_image("/nonexistent/dir/x.png");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/dir/x.png"), std::string::npos);
}

}  // namespace
}  // namespace qmap
