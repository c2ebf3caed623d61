// Turning an image file or a raw binary into a model input, for `qmap infer`, `qmap eval`
// and the Python module.
//
// An image goes through `qmap preprocess`'s geometric steps (short-side resize, resize,
// center crop, letterbox: image/preprocess.h, same code and numerics, docs/preprocess.md),
// then is resized to the input's H x W (OpenCV INTER_LINEAR on uint8 pixels) and converted
// in float to the training color type and layout, as the calibration reader does. Then:
//  - a uint8 model input (makertbin's three ONNX models and the .bin, which contain the
//    preprocess node) gets the runtime form: training_to_runtime (input_type_rt, rounded
//    once to uint8, input_layout_rt; nv12 through real 4:2:0 and back);
//  - a float32 model input (a plain float model) gets (x - mean) * scale per channel in the
//    training layout, as the YAML's norm_type (or the --mean/--scale flags) say.
#pragma once

#include <string>
#include <vector>

#include "config/input_spec.h"
#include "core/status.h"
#include "image/image.h"
#include "image/preprocess.h"
#include "session/session.h"

namespace qmap {

struct ImageInputOptions {
  // Geometric steps applied first, in `qmap preprocess`'s order; only short_side, resize_*,
  // crop_*, letterbox_* and pad_value are read.
  PreprocessOptions transforms;
  // For a model without qmap metadata and without --config: the input is an image in
  // `color` and `layout` (pixels 0..255), normalized as (x - mean) * scale when the input is
  // float32. mean / scale: one value or one per channel; empty: 0 / 1.
  ColorType color = ColorType::kRgb;
  Layout layout = Layout::kNCHW;
  std::vector<float> mean;
  std::vector<float> scale;
};

// One complete InputSpec per model input, in session.inputs() order, from (first found) the
// model's qmap metadata, `config_specs` (the input_parameters of a --config YAML), or the
// flags in `opt` (every 4-D input is an image in opt.color / opt.layout).
std::vector<InputSpec> input_specs_for(const Session& session, const std::vector<InputSpec>& config_specs,
                                       const ImageInputOptions& opt);

// A decoded image as the tensor for model input `io` described by `spec` (see the header
// comment). Errors name the input and the rule: a featuremap input, a batch other than 1,
// a shape the model does not take.
Result<Tensor> image_to_model_input(const Image& decoded, const InputSpec& spec, const IoInfo& io,
                                    const ImageInputOptions& opt);

// A raw binary (numpy tofile: row-major, little-endian, no header) read as input `io`'s
// dtype and dims. Errors name the file, its size and the expected size.
Result<Tensor> read_raw_input(const std::string& path, const IoInfo& io);

}  // namespace qmap
