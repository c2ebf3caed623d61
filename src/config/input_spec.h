// InputSpec: how one model input is fed at run time and what the model was trained on,
// as hb_mapper's `input_parameters` describe it (docs/yaml.md). Shared by the YAML
// config reader (config/), the image pipeline (image/), the preprocess insertion pass
// (passes/) and the calibration data reader (calib/).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/color_format.h"

namespace qmap {

// ColorType, Layout, ColorRange: core/color_format.h (the runtime uses them too).
enum class NormType { kNone, kMeanAndScale, kMean, kScale };

const char* color_type_name(ColorType t);  // the YAML spelling: "rgb", "nv12", ...
const char* layout_name(Layout l);         // "NCHW", "NHWC"
const char* color_range_name(ColorRange r);
const char* norm_type_name(NormType n);    // "data_mean_and_scale", ..., "no_preprocess"
std::optional<ColorType> parse_color_type(const std::string& s);
std::optional<Layout> parse_layout(const std::string& s);
std::optional<ColorRange> parse_color_range(const std::string& s);
std::optional<NormType> parse_norm_type(const std::string& s);

// Number of channels of a pixel format (gray 1, the others 3; featuremap: unknown, -1).
int color_channels(ColorType t);

struct InputSpec {
  std::string name;               // graph input name
  std::vector<int64_t> shape;     // input_shape in layout_train (empty: from the model)
  ColorType type_train = ColorType::kFeaturemap;
  Layout layout_train = Layout::kNCHW;
  ColorType type_rt = ColorType::kFeaturemap;
  Layout layout_rt = Layout::kNCHW;
  ColorRange range = ColorRange::kRegular;
  NormType norm = NormType::kNone;
  // Per channel (size 1 = same for every channel, or the channel count of type_train).
  // The preprocess node computes (x - mean) * scale in the training color space.
  std::vector<float> mean;
  std::vector<float> scale;

  bool is_image() const { return type_rt != ColorType::kFeaturemap; }
};

}  // namespace qmap
