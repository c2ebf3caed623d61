// `qmap preprocess` as a library: turn a folder of images into calibration binaries, one raw
// file per image as numpy's tofile writes them (row-major, little-endian, no header), named
// <stem>.bin (uint8) or <stem>_f32.bin (float32) so the calibration reader infers the type.
//
// Transforms run in this fixed order (each optional step only when requested):
//   decode (RGB, gray replicated) -> short-side resize -> resize -> center crop -> letterbox
//   -> color (rgb/bgr/gray/yuv444/nv12) -> scale -> dtype -> layout.
// docs/preprocess.md gives the numerics of each step.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/input_spec.h"
#include "core/log.h"
#include "core/status.h"
#include "image/image.h"

namespace qmap {

struct PreprocessOptions {
  std::string input_dir;
  std::string output_dir;
  int64_t short_side = 0;                  // 0: off
  int64_t resize_h = 0, resize_w = 0;      // 0: off
  int64_t crop_h = 0, crop_w = 0;          // 0: off
  int64_t letterbox_h = 0, letterbox_w = 0;  // 0: off
  float pad_value = 114.f;                 // letterbox border
  ColorType color = ColorType::kRgb;       // rgb, bgr, gray, yuv444, nv12
  ColorRange range = ColorRange::kRegular; // BT.601 range for yuv444 / nv12
  Layout layout = Layout::kNCHW;           // ignored for nv12 (always the NV12 buffer)
  DType dtype = DType::kUInt8;             // kUInt8 or kFloat32
  std::optional<float> scale;              // multiply (float32 output only)
  size_t limit = 0;                        // 0: every image
  bool skip_bad = false;                   // warn about undecodable images instead of failing
};

// Checks option combinations; errors name the option, the value and the rule.
Status validate_preprocess_options(const PreprocessOptions& opt);

// The transform chain on one decoded image. Returns the array written to the file: {C, H, W}
// (NCHW) or {H, W, C} (NHWC), or {H * 3 / 2, W} for nv12.
Result<Tensor> preprocess_image(const Image& decoded, const PreprocessOptions& opt);

// "dog.jpg" -> "dog.bin" (uint8) or "dog_f32.bin" (float32).
std::string preprocess_output_name(const std::string& image_name, DType dtype);

struct PreprocessSummary {
  std::vector<std::string> written;  // output paths, in input order
  std::vector<std::string> skipped;  // with skip_bad: the error of each skipped image
};

// Runs the chain over input_dir's images (.jpg/.jpeg/.png/.bmp, sorted by name, first `limit`),
// writing each output atomically into output_dir (created if missing). `progress(done, total)`
// is called after each image. An image that does not decode is an error naming it, or with
// skip_bad a warning on `log`.
Result<PreprocessSummary> preprocess_directory(const PreprocessOptions& opt, Logger* log,
                                               const std::function<void(size_t, size_t)>& progress = {});

}  // namespace qmap
