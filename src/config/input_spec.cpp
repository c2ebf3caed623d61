// Names of the InputSpec enums as hb_mapper's YAML spells them.
#include "config/input_spec.h"

#include "core/name_table.h"

namespace qmap {

namespace {

constexpr NameTable<ColorType, 6> kColorTypes = {{
    {ColorType::kRgb, "rgb"}, {ColorType::kBgr, "bgr"}, {ColorType::kYuv444, "yuv444"},
    {ColorType::kNv12, "nv12"}, {ColorType::kGray, "gray"}, {ColorType::kFeaturemap, "featuremap"}}};
constexpr NameTable<Layout, 2> kLayouts = {{
    {Layout::kNCHW, "NCHW"}, {Layout::kNHWC, "NHWC"}}};
constexpr NameTable<ColorRange, 2> kRanges = {{
    {ColorRange::kRegular, "regular"}, {ColorRange::kBt601Video, "bt601_video"}}};
constexpr NameTable<NormType, 4> kNormTypes = {{
    {NormType::kMeanAndScale, "data_mean_and_scale"}, {NormType::kMean, "data_mean"},
    {NormType::kScale, "data_scale"}, {NormType::kNone, "no_preprocess"}}};

}  // namespace

const char* color_type_name(ColorType t) { return name_of(kColorTypes, t); }
const char* layout_name(Layout l) { return name_of(kLayouts, l); }
const char* color_range_name(ColorRange r) { return name_of(kRanges, r); }
const char* norm_type_name(NormType n) { return name_of(kNormTypes, n); }
std::optional<ColorType> parse_color_type(const std::string& s) { return parse_name(kColorTypes, s); }
std::optional<Layout> parse_layout(const std::string& s) { return parse_name(kLayouts, s); }
std::optional<ColorRange> parse_color_range(const std::string& s) { return parse_name(kRanges, s); }
std::optional<NormType> parse_norm_type(const std::string& s) { return parse_name(kNormTypes, s); }

int color_channels(ColorType t) {
  switch (t) {
    case ColorType::kGray: return 1;
    case ColorType::kFeaturemap: return -1;
    default: return 3;
  }
}

}  // namespace qmap
