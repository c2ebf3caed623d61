// Calibration data reader: folder listing and checks at open, lazy per-sample loading,
// training -> runtime conversion (the device's view of an image input).
#include "calib/dataset.h"

#include <cmath>
#include <cstring>
#include <filesystem>

#include "core/file_io.h"
#include "image/decode.h"
#include "image/file_list.h"
#include "image/transform.h"

namespace qmap {

namespace {

constexpr const char* kStage = "calibration data";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string folder_name(const std::string& dir) {
  std::filesystem::path p(dir);
  if (!p.has_filename()) p = p.parent_path();  // "calib_f32/" -> "calib_f32"
  return p.filename().string();
}

std::string join_path(const std::string& dir, const std::string& name) {
  return (std::filesystem::path(dir) / name).string();
}

// Channel count and position of an image input's shape in its training layout.
struct ShapeInfo {
  int64_t n = 0, c = 0, h = 0, w = 0;
};

Result<ShapeInfo> image_shape(const InputSpec& spec) {
  const Dims& s = spec.shape;
  const bool nchw = spec.layout_train == Layout::kNCHW;
  if (s.size() != 4 || num_elements(s) <= 0)
    return error("input '{}': input_shape {}: an image input needs 4 positive dims ({})", spec.name,
                 s.empty() ? "unknown" : dims_str(s), nchw ? "NCHW" : "NHWC");
  ShapeInfo si{s[0], nchw ? s[1] : s[3], nchw ? s[2] : s[1], nchw ? s[3] : s[2]};
  const int want = color_channels(spec.type_train);
  if (si.c != want)
    return error("input '{}': input_shape {} has {} channels in layout {}: input_type_train {} has {}",
                 spec.name, dims_str(s), si.c, layout_name(spec.layout_train),
                 color_type_name(spec.type_train), want);
  return si;
}

// Batch item n of a sample in layout `layout` as an HWC image of color `color`.
Image batch_item(const Tensor& t, int64_t n, const ShapeInfo& si, Layout layout, ColorType color) {
  const size_t es = dtype_size(t.dtype());
  const size_t item = static_cast<size_t>(si.c * si.h * si.w) * es;
  Tensor one = Tensor::uninitialized(t.dtype(), layout == Layout::kNCHW ? Dims{si.c, si.h, si.w}
                                                                         : Dims{si.h, si.w, si.c});
  std::memcpy(one.raw(), t.raw() + static_cast<size_t>(n) * item, item);
  Image img;
  img.pixels = layout == Layout::kNCHW ? chw_to_hwc(one) : one;
  img.color = color;
  return img;
}

// Stacks HWC images into one [N, ...] tensor in `layout`.
Tensor stack(const std::vector<Image>& items, Layout layout) {
  const Image& f = items.front();
  const int64_t n = static_cast<int64_t>(items.size());
  Dims dims = layout == Layout::kNCHW ? Dims{n, f.channels(), f.height(), f.width()}
                                      : Dims{n, f.height(), f.width(), f.channels()};
  Tensor out = Tensor::uninitialized(f.dtype(), dims);
  const size_t item = f.pixels.nbytes();
  for (size_t k = 0; k < items.size(); ++k) {
    const Tensor t = layout == Layout::kNCHW ? hwc_to_chw(items[k].pixels) : items[k].pixels;
    std::memcpy(out.raw() + k * item, t.raw(), item);
  }
  return out;
}

Status check_finite(const Tensor& t, const std::string& path) {
  auto d = t.data<float>();
  for (size_t k = 0; k < d.size(); ++k)
    if (!std::isfinite(d[k]))
      return error("{}: file '{}': element {} is {}: calibration data must be finite", kStage, path, k, d[k]);
  return ok_status();
}

}  // namespace

Result<CalDataType> parse_cal_data_type(const std::string& s) {
  if (s.empty()) return CalDataType::kAuto;
  if (s == "uint8") return CalDataType::kUInt8;
  if (s == "float32") return CalDataType::kFloat32;
  return error("cal_data_type '{}': allowed values are uint8 and float32", s);
}

Result<ImageSize> image_input_size(const InputSpec& spec) {
  QMAP_ASSIGN_OR_RETURN(ShapeInfo si, image_shape(spec));
  return ImageSize{si.h, si.w};
}

Result<Tensor> training_to_runtime(const Tensor& train_sample, const InputSpec& spec) {
  if (!spec.is_image()) return train_sample;
  QMAP_ASSIGN_OR_RETURN(ShapeInfo si, image_shape(spec));
  if (train_sample.dims() != spec.shape)
    return error("input '{}': sample shape {} differs from input_shape {}", spec.name,
                 dims_str(train_sample.dims()), dims_str(spec.shape));
  if (train_sample.dtype() != DType::kFloat32 && train_sample.dtype() != DType::kUInt8)
    return error("input '{}': sample dtype {}: float32 or uint8 expected", spec.name,
                 dtype_name(train_sample.dtype()));
  const bool nv12 = spec.type_rt == ColorType::kNv12;
  const ColorType target = nv12 ? ColorType::kYuv444 : spec.type_rt;
  std::vector<Image> items;
  for (int64_t n = 0; n < si.n; ++n) {
    const Image img = batch_item(train_sample, n, si, spec.layout_train, spec.type_train);
    // Convert in float (no intermediate rounding), then round once to the device's uint8.
    QMAP_ASSIGN_OR_RETURN(Image conv, convert_color(to_float32(img), target, spec.range));
    Image rt = to_uint8(conv);
    if (nv12) {
      auto sub = to_nv12(rt);
      if (!sub.ok()) return sub.status().with_context(fmt::format("input '{}': ", spec.name));
      rt = nv12_to_yuv444(*sub);
    }
    items.push_back(std::move(rt));
  }
  return stack(items, spec.layout_rt);
}

Result<Tensor> load_image_as_training(const std::string& path, const InputSpec& spec) {
  QMAP_ASSIGN_OR_RETURN(ShapeInfo si, image_shape(spec));
  if (si.n != 1)
    return error("input '{}': input_shape {} has batch {}: an image file is one sample (batch 1)",
                 spec.name, dims_str(spec.shape), si.n);
  QMAP_ASSIGN_OR_RETURN(Image img, read_image(path));
  // Resize the decoded uint8 pixels (as cv2.resize on cv2.imread's output), then convert the
  // color in float so the training sample carries no extra rounding.
  const Image resized = resize_bilinear(img, si.h, si.w);
  auto conv = convert_color(to_float32(resized), spec.type_train, spec.range);
  if (!conv.ok()) return conv.status().with_context(fmt::format("image '{}': ", path));
  return stack({*conv}, spec.layout_train);
}

Result<Tensor> load_image_as_runtime_input(const std::string& path, const InputSpec& spec) {
  QMAP_ASSIGN_OR_RETURN(Tensor train, load_image_as_training(path, spec));
  auto rt = training_to_runtime(train, spec);
  if (!rt.ok()) return rt.status().with_context(fmt::format("image '{}': ", path));
  return rt;
}

Result<CalibDataset> CalibDataset::open(const std::vector<InputSpec>& specs,
                                        const std::vector<std::string>& dirs,
                                        const std::vector<std::string>& data_types,
                                        bool preprocess_on) {
  if (specs.empty()) return error("{}: the model has no inputs to calibrate", kStage);
  if (dirs.size() != specs.size())
    return error("{}: cal_data_dir has {} folders for {} model inputs: one folder per input", kStage,
                 dirs.size(), specs.size());
  if (!data_types.empty() && data_types.size() != specs.size())
    return error("{}: cal_data_type has {} entries for {} model inputs: one per input, or none", kStage,
                 data_types.size(), specs.size());
  CalibDataset ds;
  for (size_t k = 0; k < specs.size(); ++k) {
    InputFiles in;
    in.spec = specs[k];
    in.dir = dirs[k];
    in.images = preprocess_on && in.spec.is_image();
    QMAP_ASSIGN_OR_RETURN(CalDataType type,
                          parse_cal_data_type(data_types.empty() ? std::string() : data_types[k]));
    auto names = list_data_files(in.dir, in.images);
    if (!names.ok()) return names.status().with_context(fmt::format("{}: input '{}': ", kStage, in.spec.name));
    in.names = std::move(*names);
    if (in.names.empty())
      return error("{}: input '{}': folder '{}' is empty: it needs {}", kStage, in.spec.name, in.dir,
                   in.images ? "JPEG/PNG/BMP images (.jpg/.jpeg/.png/.bmp)" : "calibration files");
    if (in.images) {
      QMAP_RETURN_IF_ERROR(image_shape(in.spec).status().with_context(fmt::format("{}: ", kStage)));
    } else {
      if (in.spec.shape.empty() || num_elements(in.spec.shape) <= 0)
        return error("{}: input '{}': input_shape {} is not known: raw files need it to check sizes",
                     kStage, in.spec.name, in.spec.shape.empty() ? "(none)" : dims_str(in.spec.shape));
      const bool dir_f32 = ends_with(folder_name(in.dir), "_f32");
      for (const std::string& name : in.names) {
        const bool f32 = type == CalDataType::kFloat32 ||
                         (type == CalDataType::kAuto && (dir_f32 || ends_with(file_stem(name), "_f32")));
        const DType dt = f32 ? DType::kFloat32 : DType::kUInt8;
        in.dtypes.push_back(dt);
        const std::string path = join_path(in.dir, name);
        std::error_code ec;
        const uintmax_t actual = std::filesystem::file_size(path, ec);
        if (ec) return error("{}: file '{}': cannot read its size: {}", kStage, path, ec.message());
        const uintmax_t expected = static_cast<uintmax_t>(num_elements(in.spec.shape)) * dtype_size(dt);
        if (actual != expected) {
          std::string hint;
          if (auto head = read_file(path); head.ok() && detect_image_format(*head) != ImageFormat::kUnknown)
            hint = " (it is an image: set preprocess_on: True to decode images)";
          return error("{}: file '{}': {} bytes, expected {} ({} {} of input '{}'){}", kStage, path,
                       actual, expected, dims_str(in.spec.shape), dtype_name(dt), in.spec.name, hint);
        }
      }
    }
    ds.inputs_.push_back(std::move(in));
  }
  ds.num_samples_ = ds.inputs_[0].names.size();
  for (const InputFiles& in : ds.inputs_) {
    if (in.names.size() != ds.num_samples_) {
      std::string counts;
      for (const InputFiles& x : ds.inputs_)
        counts += fmt::format("{}'{}' ({}): {}", counts.empty() ? "" : ", ", x.dir, x.spec.name, x.names.size());
      return error("{}: the input folders hold different numbers of samples: {}: every input needs "
                   "one file per sample",
                   kStage, counts);
    }
  }
  return ds;
}

Result<Tensor> CalibDataset::load_one(const InputFiles& in, size_t i) const {
  const std::string path = join_path(in.dir, in.names[i]);
  if (in.images) {
    auto t = load_image_as_training(path, in.spec);
    if (!t.ok()) return t.status().with_context(fmt::format("{}: ", kStage));
    return t;
  }
  QMAP_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  const DType dt = in.dtypes[i];
  const size_t expected = static_cast<size_t>(num_elements(in.spec.shape)) * dtype_size(dt);
  if (bytes.size() != expected)
    return error("{}: file '{}': {} bytes, expected {} ({} {} of input '{}')", kStage, path,
                 bytes.size(), expected, dims_str(in.spec.shape), dtype_name(dt), in.spec.name);
  // numpy tofile writes the host's byte order; qmap runs on little-endian hosts (x86-64,
  // AArch64), the order numpy uses there.
  Tensor raw = Tensor::uninitialized(dt, in.spec.shape);
  std::memcpy(raw.raw(), bytes.data(), bytes.size());
  if (dt == DType::kFloat32) {
    QMAP_RETURN_IF_ERROR(check_finite(raw, path));
    return raw;
  }
  return cast_tensor(raw, DType::kFloat32);
}

Result<std::vector<Tensor>> CalibDataset::load_training(size_t i) const {
  QMAP_CHECK(i < num_samples_, "sample {} of {}", i, num_samples_);
  std::vector<Tensor> out;
  for (const InputFiles& in : inputs_) {
    QMAP_ASSIGN_OR_RETURN(Tensor t, load_one(in, i));
    out.push_back(std::move(t));
  }
  return out;
}

Result<std::vector<Tensor>> CalibDataset::load_runtime(size_t i) const {
  QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> train, load_training(i));
  for (size_t k = 0; k < inputs_.size(); ++k) {
    auto rt = training_to_runtime(train[k], inputs_[k].spec);
    if (!rt.ok())
      return rt.status().with_context(fmt::format("{}: file '{}': ", kStage, sample_path(i, k)));
    train[k] = std::move(*rt);
  }
  return train;
}

std::string CalibDataset::sample_name(size_t i) const { return inputs_.at(0).names.at(i); }

std::string CalibDataset::sample_path(size_t i, size_t input) const {
  const InputFiles& in = inputs_.at(input);
  return join_path(in.dir, in.names.at(i));
}

}  // namespace qmap
