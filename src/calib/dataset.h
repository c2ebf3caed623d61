// Calibration data reader (hb_mapper's cal_data_dir / cal_data_type / preprocess_on): one
// folder per model input, sample i = the i-th file (sorted by name) of every folder.
//
// Files are either raw binaries as numpy's tofile writes them (row-major, little-endian,
// no header; shape = the input's input_shape in its training layout; uint8 or float32), or,
// with preprocess_on for image inputs, JPEG/PNG/BMP images that are decoded, resized to the
// input's H x W (OpenCV INTER_LINEAR) and converted to the training color type and layout.
//
// Samples come in two forms:
//  - training: float32 in the training type and layout (0..255 pixel units for images, raw
//    values for featuremaps): what the model before the preprocess node consumes;
//  - runtime: what the converted models take at run time: uint8 in input_type_rt /
//    input_layout_rt (nv12 as yuv444 after real 4:2:0 subsampling), featuremaps unchanged.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "config/input_spec.h"
#include "core/status.h"
#include "ir/tensor.h"

namespace qmap {

// Element type of raw calibration files. kAuto: float32 when the folder name or the file
// stem ends in "_f32" (`qmap preprocess --dtype float32` writes <stem>_f32.bin), else uint8.
enum class CalDataType { kAuto, kUInt8, kFloat32 };

// "" -> kAuto, "uint8", "float32"; anything else is an error naming the value.
Result<CalDataType> parse_cal_data_type(const std::string& s);

// Height and width of an image input from input_shape ([N, C, H, W] or [N, H, W, C] per
// layout_train); errors name the input, the shape and the rule.
struct ImageSize {
  int64_t height = 0, width = 0;
};
Result<ImageSize> image_input_size(const InputSpec& spec);

// Converts one training-type sample (rgb/bgr/gray/yuv444 in layout_train, float32 0..255 or
// uint8; dims = input_shape) to the runtime input of the converted models: color type_rt
// (BT.601 in spec.range), uint8 (round half away from zero, clamp 0..255), layout_rt; nv12
// goes through to_nv12 and back (nearest upsampling) and is returned as yuv444, so
// calibration sees the chroma loss the device has. Featuremap inputs are returned unchanged.
Result<Tensor> training_to_runtime(const Tensor& train_sample, const InputSpec& spec);

// An image file as a training sample (decode -> resize to H x W -> training color/layout,
// float32; input_shape must have N = 1).
Result<Tensor> load_image_as_training(const std::string& path, const InputSpec& spec);

// An image file as the runtime input (decode -> resize -> training_to_runtime), for infer
// and eval. Errors name the file.
Result<Tensor> load_image_as_runtime_input(const std::string& path, const InputSpec& spec);

class CalibDataset {
 public:
  // specs[k] reads dirs[k]; data_types is empty (all auto) or one entry per input ("",
  // "uint8", "float32"). Lists and checks everything that can be checked without reading the
  // files: folders exist and are not empty, counts agree, raw file sizes are exact.
  static Result<CalibDataset> open(const std::vector<InputSpec>& specs,
                                   const std::vector<std::string>& dirs,
                                   const std::vector<std::string>& data_types, bool preprocess_on);

  size_t size() const { return num_samples_; }
  size_t num_inputs() const { return inputs_.size(); }

  // Sample i, one tensor per input. Loaded on demand; const and free of shared mutable state,
  // so several threads may load different (or the same) samples at once.
  Result<std::vector<Tensor>> load_training(size_t i) const;
  Result<std::vector<Tensor>> load_runtime(size_t i) const;

  // File name of sample i of the first input (for logs and tables).
  std::string sample_name(size_t i) const;
  // Full path of sample i of input k.
  std::string sample_path(size_t i, size_t input) const;

 private:
  struct InputFiles {
    InputSpec spec;
    std::string dir;
    bool images = false;                 // decode images (preprocess_on) vs raw binaries
    std::vector<std::string> names;      // sorted
    std::vector<DType> dtypes;           // raw files: per file, kUInt8 or kFloat32
  };
  Result<Tensor> load_one(const InputFiles& in, size_t i) const;

  std::vector<InputFiles> inputs_;
  size_t num_samples_ = 0;
};

}  // namespace qmap
