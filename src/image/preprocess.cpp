// `qmap preprocess` pipeline: option checks, the per-image transform chain and the folder
// loop with atomic writes.
#include "image/preprocess.h"

#include <cmath>
#include <filesystem>
#include <map>

#include "core/file_io.h"
#include "image/decode.h"
#include "image/file_list.h"
#include "image/transform.h"

namespace qmap {

namespace {

constexpr const char* kStage = "preprocess";

Status check_size(const char* option, int64_t h, int64_t w) {
  if (h < 0 || w < 0 || (h == 0) != (w == 0))
    return error("{}: {} {}x{}: height and width must both be positive", kStage, option, h, w);
  return ok_status();
}

}  // namespace

Status validate_preprocess_options(const PreprocessOptions& opt) {
  if (opt.input_dir.empty()) return error("{}: --input-dir is required", kStage);
  if (opt.output_dir.empty()) return error("{}: --output-dir is required", kStage);
  if (opt.short_side < 0) return error("{}: --short-side-resize {}: must be positive", kStage, opt.short_side);
  QMAP_RETURN_IF_ERROR(check_size("--resize", opt.resize_h, opt.resize_w));
  QMAP_RETURN_IF_ERROR(check_size("--center-crop", opt.crop_h, opt.crop_w));
  QMAP_RETURN_IF_ERROR(check_size("--letterbox", opt.letterbox_h, opt.letterbox_w));
  if (opt.color == ColorType::kFeaturemap)
    return error("{}: --color featuremap: allowed values are rgb, bgr, gray, yuv444, nv12", kStage);
  if (opt.dtype != DType::kUInt8 && opt.dtype != DType::kFloat32)
    return error("{}: --dtype {}: allowed values are uint8 and float32", kStage, dtype_name(opt.dtype));
  if (opt.scale && opt.dtype != DType::kFloat32)
    return error("{}: --scale {} needs --dtype float32 (scaled pixels are not uint8)", kStage, *opt.scale);
  if (opt.scale && !(std::isfinite(*opt.scale)))
    return error("{}: --scale {}: must be a finite number", kStage, *opt.scale);
  if (opt.color == ColorType::kNv12 && opt.dtype != DType::kUInt8)
    return error("{}: --color nv12 with --dtype float32: nv12 is a uint8 format", kStage);
  return ok_status();
}

std::string preprocess_output_name(const std::string& image_name, DType dtype) {
  return file_stem(image_name) + (dtype == DType::kFloat32 ? "_f32.bin" : ".bin");
}

Result<Tensor> preprocess_image(const Image& decoded, const PreprocessOptions& opt) {
  QMAP_ASSIGN_OR_RETURN(Image img, convert_color(decoded, ColorType::kRgb));
  if (opt.short_side > 0) {
    // A thin image grows along its long side: 1 x 100000 to a short side of 256 would be
    // 256 x 25600000. The result must fit the decoder's pixel limit too.
    const auto [oh, ow] = short_side_size(img.height(), img.width(), opt.short_side);
    if (static_cast<double>(oh) * static_cast<double>(ow) > static_cast<double>(kMaxImagePixels))
      return error("{}: --short-side-resize {} of a {}x{} (HxW) image gives {}x{}, more than {} pixels", kStage,
                   opt.short_side, img.height(), img.width(), oh, ow, kMaxImagePixels);
    img = resize_short_side(img, opt.short_side);
  }
  if (opt.resize_h > 0) img = resize_bilinear(img, opt.resize_h, opt.resize_w);
  if (opt.crop_h > 0) {
    QMAP_ASSIGN_OR_RETURN(img, center_crop(img, opt.crop_h, opt.crop_w));
  }
  if (opt.letterbox_h > 0) img = letterbox(img, opt.letterbox_h, opt.letterbox_w, opt.pad_value);
  if (opt.color == ColorType::kNv12) {
    // uint8 yuv444 (rounded once), then 4:2:0.
    QMAP_ASSIGN_OR_RETURN(Image yuv, convert_color(img, ColorType::kYuv444, opt.range));
    QMAP_ASSIGN_OR_RETURN(Nv12Image nv, to_nv12(yuv));
    return nv.data;
  }
  // Colors are converted from the uint8 pixels; uint8 output rounds once (round_to_uint8),
  // float32 output keeps the unrounded values.
  QMAP_ASSIGN_OR_RETURN(img, convert_color(opt.dtype == DType::kFloat32 ? to_float32(img) : img,
                                           opt.color, opt.range));
  if (opt.scale) img = scale_pixels(img, *opt.scale);
  img = opt.dtype == DType::kFloat32 ? to_float32(img) : to_uint8(img);
  return opt.layout == Layout::kNCHW ? hwc_to_chw(img.pixels) : img.pixels;
}

Result<PreprocessSummary> preprocess_directory(const PreprocessOptions& opt, Logger* log,
                                               const std::function<void(size_t, size_t)>& progress) {
  QMAP_RETURN_IF_ERROR(validate_preprocess_options(opt));
  auto listed = list_data_files(opt.input_dir, true);
  if (!listed.ok()) return listed.status().with_context(fmt::format("{}: ", kStage));
  std::vector<std::string> names = std::move(*listed);
  if (names.empty())
    return error("{}: folder '{}' has no JPEG/PNG/BMP images (.jpg/.jpeg/.png/.bmp)", kStage, opt.input_dir);
  if (opt.limit > 0 && names.size() > opt.limit) names.resize(opt.limit);
  // Two images with one stem (a.jpg, a.png) would write the same file.
  std::map<std::string, std::string> by_output;
  for (const std::string& n : names) {
    const std::string out = preprocess_output_name(n, opt.dtype);
    if (auto [it, fresh] = by_output.emplace(out, n); !fresh)
      return error("{}: images '{}' and '{}' in '{}' would both be written to '{}': rename one", kStage,
                   it->second, n, opt.input_dir, out);
  }
  std::error_code ec;
  std::filesystem::create_directories(opt.output_dir, ec);
  if (ec || !std::filesystem::is_directory(opt.output_dir))
    return error("{}: output folder '{}': cannot create: {}", kStage, opt.output_dir,
                 ec ? ec.message() : "exists and is not a folder");

  PreprocessSummary summary;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string path = (std::filesystem::path(opt.input_dir) / names[i]).string();
    Result<Tensor> out = [&]() -> Result<Tensor> {
      QMAP_ASSIGN_OR_RETURN(Image img, read_image(path));
      auto t = preprocess_image(img, opt);
      if (!t.ok()) return t.status().with_context(fmt::format("image '{}': ", path));
      return t;
    }();
    if (!out.ok()) {
      if (!opt.skip_bad) return out.status().with_context(fmt::format("{}: ", kStage));
      summary.skipped.push_back(out.status().message());
      if (log) log->warn("{}: skipping: {}", kStage, out.status().message());
    } else {
      const std::string dst = (std::filesystem::path(opt.output_dir) / preprocess_output_name(names[i], opt.dtype)).string();
      // Tensor bytes are the host's (little-endian) row-major order: numpy's tofile format.
      QMAP_RETURN_IF_ERROR(write_file_atomic(
          dst, std::string_view(reinterpret_cast<const char*>(out->raw()), out->nbytes())));
      summary.written.push_back(dst);
    }
    if (progress) progress(i + 1, names.size());
  }
  return summary;
}

}  // namespace qmap
