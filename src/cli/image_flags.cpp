// Parsing of the image flags of infer and eval (and the size syntax of preprocess).
#include "cli/image_flags.h"

#include <CLI/CLI.hpp>

#include "cli/common.h"

namespace qmap::cli {

Status parse_hw(const char* stage, const std::string& option, const std::string& text, int64_t* h, int64_t* w) {
  if (text.empty()) return ok_status();
  auto dims = parse_shape(text);
  if (!dims.ok() || dims->size() > 2)
    return error("{}: {} '{}': expected HEIGHTxWIDTH (e.g. 224x224) or one size", stage, option, text);
  *h = dims->front();
  *w = dims->back();
  return ok_status();
}

void add_image_flags(CLI::App* cmd, ImageFlags* f) {
  cmd->add_option("--short-side-resize", f->short_side, "resize the short side to N first, keeping the aspect");
  cmd->add_option("--resize", f->resize, "resize to HEIGHTxWIDTH (OpenCV INTER_LINEAR)");
  cmd->add_option("--center-crop", f->center_crop, "center crop HEIGHTxWIDTH or N");
  cmd->add_option("--letterbox", f->letterbox, "YOLO letterbox to HEIGHTxWIDTH (keep aspect, pad)");
  cmd->add_option("--pad-value", f->pad_value, "letterbox border value")->default_val(114);
  cmd->add_option("--color", f->color, "plain float models: image color rgb|bgr|gray|yuv444")->default_val("rgb");
  cmd->add_option("--layout", f->layout, "plain float models: input layout NCHW|NHWC")->default_val("NCHW");
  cmd->add_option("--mean", f->mean, "plain float models: mean per channel (0..255 units), e.g. 123.675,116.28,103.53")
      ->delimiter(',');
  cmd->add_option("--scale", f->scale, "plain float models: scale per channel, e.g. 0.017125,0.017507,0.017429")
      ->delimiter(',');
}

Result<ImageInputOptions> to_image_input_options(const char* stage, const ImageFlags& f) {
  ImageInputOptions o;
  if (f.short_side < 0) return error("{}: --short-side-resize {}: must be positive", stage, f.short_side);
  o.transforms.short_side = f.short_side;
  QMAP_RETURN_IF_ERROR(parse_hw(stage, "--resize", f.resize, &o.transforms.resize_h, &o.transforms.resize_w));
  QMAP_RETURN_IF_ERROR(parse_hw(stage, "--center-crop", f.center_crop, &o.transforms.crop_h, &o.transforms.crop_w));
  QMAP_RETURN_IF_ERROR(parse_hw(stage, "--letterbox", f.letterbox, &o.transforms.letterbox_h, &o.transforms.letterbox_w));
  o.transforms.pad_value = f.pad_value;
  const auto color = parse_color_type(f.color);
  if (!color || *color == ColorType::kFeaturemap || *color == ColorType::kNv12)
    return error("{}: --color '{}': allowed values are rgb, bgr, gray, yuv444", stage, f.color);
  o.color = *color;
  const auto layout = parse_layout(f.layout);
  if (!layout) return error("{}: --layout '{}': allowed values are NCHW and NHWC", stage, f.layout);
  o.layout = *layout;
  o.mean = f.mean;
  o.scale = f.scale;
  return o;
}

}  // namespace qmap::cli
