// Session backend for .bin models: the runtime library (include/qmap/runtime.h), as a
// device application uses it. One loaded Model is shared by clones; each clone has its own
// Context (arena). The Session feeds image inputs in their ONNX form, so an nv12 input
// arrives as its yuv444 tensor (the models' representation, docs/yaml.md) and is turned back
// into NV12 frames here: the yuv444 tensor came from NV12 by nearest chroma upsampling, so
// averaging each 2x2 chroma block gives those NV12 frames back exactly.
#include <cstring>

#include <qmap/runtime.h>

#include "image/transform.h"
#include "session/backends.h"

namespace qmap {

namespace {

DType dtype_of(rt::ElemType t) { return static_cast<DType>(static_cast<int>(t)); }  // both ONNX codes

class BinBackend final : public SessionBackend {
 public:
  BinBackend(rt::Model model, int threads, bool profile)
      : model_(std::move(model)), ctx_(model_, {.profile = profile, .threads = threads}), threads_(threads), profile_(profile) {}

  std::string kernels() const override { return model_.isa(); }

  Result<std::vector<Tensor>> run(const std::vector<Tensor>& inputs) override {
    try {
      for (size_t i = 0; i < inputs.size(); ++i) {
        const rt::TensorDesc& d = model_.inputs()[i];
        if (d.color == rt::ColorType::kNv12) {
          QMAP_ASSIGN_OR_RETURN(Tensor frames, nv12_frames(inputs[i], d));
          ctx_.set_input(i, frames.raw(), frames.nbytes());
        } else {
          ctx_.set_input(i, inputs[i].raw(), inputs[i].nbytes());
        }
      }
      ctx_.run();
      std::vector<Tensor> out;
      for (size_t i = 0; i < model_.outputs().size(); ++i) {
        const rt::TensorDesc& d = model_.outputs()[i];
        Tensor t(dtype_of(d.dtype), Dims(d.dims.begin(), d.dims.end()));
        const auto raw = ctx_.output_raw(i);
        if (raw.size() != t.nbytes())
          return error("runtime output '{}': {} bytes, expected {}", d.name, raw.size(), t.nbytes());
        std::memcpy(t.raw(), raw.data(), raw.size());
        out.push_back(std::move(t));
      }
      return out;
    } catch (const rt::Error& e) {
      return error("{}", e.what());
    }
  }

  std::unique_ptr<SessionBackend> clone() const override {
    return std::make_unique<BinBackend>(model_, threads_, profile_);
  }

  std::vector<StepTime> profile() const override {
    std::vector<StepTime> out;
    if (!profile_) return out;
    for (const auto& p : ctx_.profile()) out.push_back({p.node, p.kind, p.kernel, p.mean_us});
    return out;
  }

 private:
  // {N, H, W, 3} yuv444 (NHWC; nv12 has no other layout) -> N NV12 frames.
  static Result<Tensor> nv12_frames(const Tensor& yuv, const rt::TensorDesc& d) {
    const Dims& dims = yuv.dims();
    if (dims.size() != 4 || dims[3] != 3)
      return error("input '{}': nv12 models take their yuv444 form Nx H x W x3, got {}", d.name, dims_str(dims));
    const int64_t n = dims[0], h = dims[1], w = dims[2];
    Tensor frames(DType::kUInt8, {n, h * 3 / 2, w});
    const size_t frame_bytes = static_cast<size_t>(h * 3 / 2 * w), image_bytes = static_cast<size_t>(h * w * 3);
    for (int64_t b = 0; b < n; ++b) {
      Image img;
      img.color = ColorType::kYuv444;
      img.pixels = Tensor(DType::kUInt8, {h, w, 3});
      std::memcpy(img.pixels.raw(), yuv.raw() + static_cast<size_t>(b) * image_bytes, image_bytes);
      QMAP_ASSIGN_OR_RETURN(Nv12Image f, to_nv12(img));
      std::memcpy(frames.raw() + static_cast<size_t>(b) * frame_bytes, f.data.raw(), frame_bytes);
    }
    return frames;
  }

  rt::Model model_;
  rt::Context ctx_;
  int threads_ = 1;
  bool profile_ = false;
};

}  // namespace

Result<BinModel> open_bin_model(const std::string& path, int threads, bool profile,
                                const std::vector<std::string>& custom_op_libs) {
  BinModel m;
  try {
    rt::LoadOptions load;
    load.custom_op_libs = custom_op_libs;
    rt::Model model = rt::Model::load(path, load);
    for (const rt::TensorDesc& d : model.inputs())
      m.inputs.push_back({d.name, dtype_of(d.dtype), Dims(d.dims.begin(), d.dims.end())});
    for (const rt::TensorDesc& d : model.outputs())
      m.outputs.push_back({d.name, dtype_of(d.dtype), Dims(d.dims.begin(), d.dims.end())});
    // The YAML makertbin stored: the input specs (preprocessing) of infer/eval.
    m.yaml_text = model.makertbin_yaml();
    m.backend = std::make_unique<BinBackend>(std::move(model), threads, profile);
  } catch (const rt::Error& e) {
    return error("{}", e.what());
  }
  return m;
}

}  // namespace qmap
