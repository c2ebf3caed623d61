// `qmap preprocess`: a folder of images -> calibration binaries (one raw numpy-tofile file per
// image). The work is image/preprocess.h; this file parses the options and prints progress.
#include <unistd.h>

#include <cstdio>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/image_flags.h"
#include "image/preprocess.h"

namespace qmap::cli {

namespace {

struct PreprocessArgs {
  std::string input_dir, output_dir;
  int64_t short_side = 0;
  std::string resize, center_crop, letterbox;
  float pad_value = 114.f;
  std::string color = "rgb", layout = "NCHW", dtype = "uint8", range = "regular";
  std::optional<float> scale;
  size_t limit = 0;
  bool skip_bad = false;
};

Result<PreprocessOptions> to_options(const PreprocessArgs& a) {
  PreprocessOptions o;
  o.input_dir = a.input_dir;
  o.output_dir = a.output_dir;
  o.short_side = a.short_side;
  QMAP_RETURN_IF_ERROR(parse_hw("preprocess", "--resize", a.resize, &o.resize_h, &o.resize_w));
  QMAP_RETURN_IF_ERROR(parse_hw("preprocess", "--center-crop", a.center_crop, &o.crop_h, &o.crop_w));
  QMAP_RETURN_IF_ERROR(parse_hw("preprocess", "--letterbox", a.letterbox, &o.letterbox_h, &o.letterbox_w));
  o.pad_value = a.pad_value;
  const auto color = parse_color_type(a.color);
  if (!color || *color == ColorType::kFeaturemap)
    return error("preprocess: --color '{}': allowed values are rgb, bgr, gray, yuv444, nv12", a.color);
  o.color = *color;
  const auto layout = parse_layout(a.layout);
  if (!layout) return error("preprocess: --layout '{}': allowed values are NCHW and NHWC", a.layout);
  o.layout = *layout;
  const auto range = parse_color_range(a.range);
  if (!range) return error("preprocess: --range '{}': allowed values are regular and bt601_video", a.range);
  o.range = *range;
  if (a.dtype == "uint8") {
    o.dtype = DType::kUInt8;
  } else if (a.dtype == "float32") {
    o.dtype = DType::kFloat32;
  } else {
    return error("preprocess: --dtype '{}': allowed values are uint8 and float32", a.dtype);
  }
  o.scale = a.scale;
  o.limit = a.limit;
  o.skip_bad = a.skip_bad;
  return o;
}

}  // namespace

void register_preprocess(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand(
      "preprocess",
      "Turn a folder of images into calibration binaries (numpy tofile). Order: short-side resize, "
      "resize, center crop, letterbox, color, scale, dtype, layout (docs/preprocess.md)");
  auto a = std::make_shared<PreprocessArgs>();
  cmd->add_option("--input-dir", a->input_dir, "folder of JPEG/PNG/BMP images")->required();
  cmd->add_option("--output-dir", a->output_dir, "folder for <stem>.bin / <stem>_f32.bin")->required();
  cmd->add_option("--short-side-resize", a->short_side, "resize the short side to N, keeping the aspect");
  cmd->add_option("--resize", a->resize, "resize to HEIGHTxWIDTH (OpenCV INTER_LINEAR)");
  cmd->add_option("--center-crop", a->center_crop, "center crop HEIGHTxWIDTH or N");
  cmd->add_option("--letterbox", a->letterbox, "YOLO letterbox to HEIGHTxWIDTH (keep aspect, pad)");
  cmd->add_option("--pad-value", a->pad_value, "letterbox border value")->default_val(114);
  cmd->add_option("--color", a->color, "rgb|bgr|gray|yuv444|nv12")->default_val("rgb");
  cmd->add_option("--range", a->range, "yuv444/nv12 range: regular (full) | bt601_video")->default_val("regular");
  cmd->add_option("--layout", a->layout, "NCHW|NHWC (nv12: always the NV12 buffer)")->default_val("NCHW");
  cmd->add_option("--dtype", a->dtype, "uint8|float32")->default_val("uint8");
  cmd->add_option("--scale", a->scale, "multiply pixels (e.g. 0.0039215686), float32 only");
  cmd->add_option("--limit", a->limit, "only the first N images (sorted by name)");
  cmd->add_flag("--skip-bad", a->skip_bad, "warn about undecodable images instead of failing");
  cmd->callback([run, a] {
    *run = [a] {
      Logger log(stderr, LogLevel::kInfo);
      auto opt = to_options(*a);
      if (!opt.ok()) return fail(opt.status());
      const bool tty = ::isatty(::fileno(stderr)) != 0;
      auto progress = [tty](size_t done, size_t total) {
        if (tty) std::fprintf(stderr, "\rpreprocess: %zu/%zu images", done, total);
        if (tty && done == total) std::fputc('\n', stderr);
      };
      auto summary = preprocess_directory(*opt, &log, progress);
      if (!summary.ok()) {
        if (tty) std::fputc('\n', stderr);
        return fail(summary.status());
      }
      log.info("preprocess: wrote {} files to '{}'{}", summary->written.size(), opt->output_dir,
               summary->skipped.empty() ? "" : fmt::format(", skipped {} bad images", summary->skipped.size()));
      return 0;
    };
  });
}

}  // namespace qmap::cli
