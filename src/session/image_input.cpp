// Image and raw-file inputs for a Session: spec selection, the image chain (reusing
// `qmap preprocess` and the calibration reader's conversions) and the float normalization.
#include "session/image_input.h"

#include <cstring>

#include "calib/dataset.h"
#include "core/file_io.h"

namespace qmap {

namespace {

constexpr const char* kStage = "input";

// (x - mean[c]) * scale[c] in float32 over a [1, C, H, W] or [1, H, W, C] tensor, as the
// preprocess node computes it (passes/preprocess.h).
Result<Tensor> normalize(const Tensor& train, const InputSpec& spec) {
  const bool use_mean = spec.norm == NormType::kMeanAndScale || spec.norm == NormType::kMean;
  const bool use_scale = spec.norm == NormType::kMeanAndScale || spec.norm == NormType::kScale;
  if (!use_mean && !use_scale) return train;
  const bool nchw = spec.layout_train == Layout::kNCHW;
  const Dims& d = train.dims();
  const int64_t c = nchw ? d[1] : d[3];
  const int64_t plane = nchw ? d[2] * d[3] : 1;  // elements between two channels (NCHW) ...
  const auto per_channel = [&](const char* what, const std::vector<float>& v) -> Status {
    if (v.size() != 1 && static_cast<int64_t>(v.size()) != c)
      return error("{}: input '{}': {} has {} values: one, or one per channel ({})", kStage, spec.name, what,
                   v.size(), c);
    return ok_status();
  };
  if (use_mean) QMAP_RETURN_IF_ERROR(per_channel("mean", spec.mean));
  if (use_scale) QMAP_RETURN_IF_ERROR(per_channel("scale", spec.scale));
  Tensor out = train.clone();
  auto x = out.data<float>();
  for (size_t i = 0; i < x.size(); ++i) {
    const size_t ch = nchw ? (i / static_cast<size_t>(plane)) % static_cast<size_t>(c) : i % static_cast<size_t>(c);
    const float m = use_mean ? spec.mean[spec.mean.size() == 1 ? 0 : ch] : 0.f;
    const float s = use_scale ? spec.scale[spec.scale.size() == 1 ? 0 : ch] : 1.f;
    x[i] = (x[i] - m) * s;
  }
  return out;
}

}  // namespace

std::vector<InputSpec> input_specs_for(const Session& session, const std::vector<InputSpec>& config_specs,
                                       const ImageInputOptions& opt) {
  if (!session.input_specs().empty()) return session.input_specs();
  if (!config_specs.empty()) return match_input_specs(config_specs, session.inputs());
  std::vector<InputSpec> out;
  for (const IoInfo& io : session.inputs()) {
    InputSpec spec;
    spec.name = io.name;
    spec.shape = io.dims;
    if (io.dims.size() == 4) {
      spec.type_train = spec.type_rt = opt.color;
      spec.layout_train = spec.layout_rt = opt.layout;
      spec.mean = opt.mean;
      spec.scale = opt.scale;
      spec.norm = opt.mean.empty() ? (opt.scale.empty() ? NormType::kNone : NormType::kScale)
                                   : (opt.scale.empty() ? NormType::kMean : NormType::kMeanAndScale);
    }
    out.push_back(std::move(spec));
  }
  return out;
}

Result<Tensor> image_to_model_input(const Image& decoded, const InputSpec& spec, const IoInfo& io,
                                    const ImageInputOptions& opt) {
  if (!spec.is_image())
    return error("{}: input '{}' ({} {}) is a featuremap, not an image: give it as a raw file (--input)", kStage,
                 io.name, dtype_name(io.dtype), dims_str(io.dims));
  if (io.dtype != DType::kUInt8 && io.dtype != DType::kFloat32)
    return error("{}: input '{}' is {}: an image feeds uint8 or float32 inputs", kStage, io.name,
                 dtype_name(io.dtype));
  auto size = image_input_size(spec);
  if (!size.ok()) return size.status().with_context(fmt::format("{}: ", kStage));
  if (spec.shape[0] != 1)
    return error("{}: input '{}': shape {} has batch {}: an image is one sample (batch 1)", kStage, io.name,
                 dims_str(spec.shape), spec.shape[0]);
  // 1. The geometric steps on uint8 RGB pixels, exactly as `qmap preprocess` runs them.
  PreprocessOptions geo = opt.transforms;
  geo.color = ColorType::kRgb;
  geo.dtype = DType::kUInt8;
  geo.layout = Layout::kNHWC;
  geo.scale.reset();
  QMAP_ASSIGN_OR_RETURN(Tensor hwc, preprocess_image(decoded, geo));
  // 2. To the input's H x W, then the training color in float and the training layout
  //    (the calibration reader's load_image_as_training).
  PreprocessOptions train_opt;
  train_opt.resize_h = size->height;
  train_opt.resize_w = size->width;
  train_opt.color = spec.type_train;
  train_opt.range = spec.range;
  train_opt.dtype = DType::kFloat32;
  train_opt.layout = spec.layout_train;
  QMAP_ASSIGN_OR_RETURN(Tensor train, preprocess_image(Image{hwc, ColorType::kRgb}, train_opt));
  train = train.reshaped(spec.shape);
  // 3. The form the model takes.
  Tensor input;
  if (io.dtype == DType::kUInt8) {
    auto rt = training_to_runtime(train, spec);
    if (!rt.ok()) return rt.status().with_context(fmt::format("{}: ", kStage));
    input = std::move(*rt);
  } else {
    QMAP_ASSIGN_OR_RETURN(input, normalize(train, spec));
  }
  QMAP_RETURN_IF_ERROR(check_input(input, io));
  return input;
}

Result<Tensor> read_raw_input(const std::string& path, const IoInfo& io) {
  for (int64_t d : io.dims)
    if (d <= 0)
      return error("{}: input '{}' has a dynamic shape {}: a raw file needs a fixed shape", kStage, io.name,
                   dims_str(io.dims));
  QMAP_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  Tensor t = Tensor::uninitialized(io.dtype, io.dims);
  if (bytes.size() != t.nbytes())
    return error("{}: file '{}': {} bytes, input '{}' takes {} ({} {})", kStage, path, bytes.size(), io.name,
                 t.nbytes(), dims_str(io.dims), dtype_name(io.dtype));
  // numpy's tofile writes host order; qmap runs on little-endian hosts.
  std::memcpy(t.raw(), bytes.data(), bytes.size());
  return t;
}

}  // namespace qmap
