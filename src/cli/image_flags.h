// Image flags shared by the subcommands that read images: the geometric transforms of
// `qmap preprocess` (--short-side-resize, --resize, --center-crop, --letterbox, --pad-value)
// and, for infer/eval on a plain float model, --color/--layout/--mean/--scale.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "session/image_input.h"

namespace CLI {
class App;
}

namespace qmap::cli {

// "224x320" (height x width) or "224" (square) -> (h, w); empty text leaves them unchanged.
// Errors read "<stage>: <option> '<text>': expected HEIGHTxWIDTH ...".
Status parse_hw(const char* stage, const std::string& option, const std::string& text, int64_t* h, int64_t* w);

struct ImageFlags {
  int64_t short_side = 0;
  std::string resize, center_crop, letterbox;
  float pad_value = 114.f;
  std::string color = "rgb", layout = "NCHW";
  std::vector<float> mean, scale;
};

// Adds the options to `cmd`, writing into *flags (which must outlive the parse).
void add_image_flags(CLI::App* cmd, ImageFlags* flags);

// The options as an ImageInputOptions; errors name the option, the value and the rule.
Result<ImageInputOptions> to_image_input_options(const char* stage, const ImageFlags& flags);

}  // namespace qmap::cli
