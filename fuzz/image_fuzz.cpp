// libFuzzer harness: image bytes -> decode_image (JPEG, PNG, BMP by signature) -> the
// preprocess chain. Input = one option byte + the image file: bits 0-2 the output color
// (rgb, bgr, gray, yuv444, nv12), bit 3 the layout, bit 4 float32, bit 5 a short-side resize
// to 10, bit 6 a center crop to 6x8, bit 7 a letterbox to 12x10 (all small: the point is
// the decoders and the edge cases of the transforms, not big images). Images over 2^16
// pixels (256 x 256) are refused from the header, as libjpeg-turbo's own fuzzers refuse big
// ones: the default cap (2^28) lets a 1 KB file ask for seconds of decoding and converting,
// which libFuzzer would spend on a few inputs instead of millions (at 2^20 the corpus drifted
// to megapixel images and ran 250 inputs a second).
#include "fuzz/fuzz_util.h"
#include "image/decode.h"
#include "image/preprocess.h"
#include "image/transform.h"

namespace {
constexpr uint64_t kMaxPixels = uint64_t{1} << 16;
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t o = data[0];
  auto img = qmap::decode_image(qmap::fuzz::as_text(data + 1, size - 1), "fuzz_image", kMaxPixels);
  if (!img.ok()) return 0;
  static constexpr qmap::ColorType kColors[] = {qmap::ColorType::kRgb, qmap::ColorType::kBgr, qmap::ColorType::kGray,
                                                qmap::ColorType::kYuv444, qmap::ColorType::kNv12};
  qmap::PreprocessOptions opt;
  opt.input_dir = opt.output_dir = "/fuzz";
  opt.color = kColors[(o & 7) % 5];
  opt.layout = (o & 8) ? qmap::Layout::kNHWC : qmap::Layout::kNCHW;
  opt.dtype = (o & 16) && opt.color != qmap::ColorType::kNv12 ? qmap::DType::kFloat32 : qmap::DType::kUInt8;
  // A thin image grows along its long side when its short side becomes 10 (1 x 2^16 gives
  // 10 x 655360): preprocess_image's own test checks the output cap; here the resize is left
  // out beyond the harness's pixel cap, for the same reason as the decode cap.
  const auto [sh, sw] = qmap::short_side_size(img->height(), img->width(), 10);
  if ((o & 32) && static_cast<uint64_t>(sh * sw) <= kMaxPixels) opt.short_side = 10;
  if (o & 64) opt.crop_h = 6, opt.crop_w = 8;
  if (o & 128) opt.letterbox_h = 12, opt.letterbox_w = 10;
  if (!(o & (32 | 64 | 128))) opt.resize_h = 7, opt.resize_w = 9;
  if (!qmap::validate_preprocess_options(opt).ok()) std::abort();  // the options above are all valid
  (void)qmap::preprocess_image(*img, opt);
  return 0;
}
