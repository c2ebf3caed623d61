// Stand-in Session over the FloatEngine (float .onnx) and the IntSimulator (QDQ .onnx);
// see session_adapter.h. Deleted when src/session/session.h lands on main.
#include "session_adapter.h"

#include <algorithm>
#include <filesystem>

#include "config/makertbin_config.h"
#include "import/onnx/onnx_import.h"

namespace qmap {
namespace {

constexpr const char* kStage = "session";

bool has_qdq(const Graph& g) {
  return std::any_of(g.nodes.begin(), g.nodes.end(), [](const Node& n) {
    return n.op_type == "QuantizeLinear" || n.op_type == "DequantizeLinear";
  });
}

std::vector<IoInfo> io_infos(const Graph& g, const std::vector<ValueId>& ids) {
  std::vector<IoInfo> out;
  for (ValueId id : ids) {
    const Value& v = g.value(id);
    out.push_back(IoInfo{v.name, v.dtype, v.dims.value_or(Dims{})});
  }
  return out;
}

// The training-layout input_shape of an image input whose YAML left it out, from the runtime
// input the saved model takes (N, H, W in layout_rt with the channels of type_rt).
Dims training_shape_from_runtime(const InputSpec& s, const Dims& rt) {
  if (!s.is_image() || rt.size() != 4) return rt;
  const bool rt_nchw = s.layout_rt == Layout::kNCHW;
  const int64_t n = rt[0], h = rt_nchw ? rt[2] : rt[1], w = rt_nchw ? rt[3] : rt[2];
  const int64_t c = color_channels(s.type_train);
  return s.layout_train == Layout::kNCHW ? Dims{n, c, h, w} : Dims{n, h, w, c};
}

// input_parameters from the YAML makertbin stored in the model, completed like makertbin
// completes them (an unnamed single input is the model's only input).
Result<std::vector<InputSpec>> stored_input_specs(const Graph& g, const std::string& path) {
  const auto it = g.metadata.find("qmap_makertbin_yaml");
  if (it == g.metadata.end()) return std::vector<InputSpec>{};
  const std::string source = path + " (metadata qmap_makertbin_yaml)";
  // The YAML names either an ONNX model or a Caffe pair; which one is not stored separately.
  Result<MakertbinConfig> cfg = parse_makertbin_config(it->second, source, ModelType::kOnnx);
  if (!cfg.ok()) {
    Result<MakertbinConfig> caffe = parse_makertbin_config(it->second, source, ModelType::kCaffe);
    if (!caffe.ok()) return cfg.status().with_context(fmt::format("{}: ", kStage));
    cfg = std::move(caffe);
  }
  std::vector<InputSpec> specs = cfg->inputs;
  for (InputSpec& s : specs) {
    if (s.name.empty() && g.inputs.size() == 1) s.name = g.value(g.inputs[0]).name;
    const auto id = g.find_value(s.name);
    if (!id || std::find(g.inputs.begin(), g.inputs.end(), *id) == g.inputs.end())
      return error("{}: model '{}': its stored input_parameters name input '{}', which the model does not have",
                   kStage, path, s.name);
    if (s.shape.empty() && g.value(*id).dims) s.shape = training_shape_from_runtime(s, *g.value(*id).dims);
  }
  return specs;
}

}  // namespace

Result<std::unique_ptr<Session>> Session::open(const std::string& path) {
  const std::string ext = std::filesystem::path(path).extension().string();
  if (ext == ".bin")
    return error("{}: model '{}': .bin models need the qmap runtime, which this build does not include yet",
                 kStage, path);
  if (ext != ".onnx") return error("{}: model '{}': unknown model file type '{}': expected .onnx or .bin", kStage, path, ext);
  OnnxImportOptions opts;
  QMAP_ASSIGN_OR_RETURN(Graph g, import_onnx(path, opts));
  std::unique_ptr<Session> s(new Session());
  s->path_ = path;
  s->inputs_ = io_infos(g, g.inputs);
  s->outputs_ = io_infos(g, g.outputs);
  QMAP_ASSIGN_OR_RETURN(s->specs_, stored_input_specs(g, path));
  if (has_qdq(g)) {
    s->kind_ = "quantized onnx";
    QMAP_ASSIGN_OR_RETURN(IntSimulator sim, IntSimulator::create(g));
    s->int_simulator_ = std::make_unique<IntSimulator>(std::move(sim));
  } else {
    s->kind_ = "float onnx";
    QMAP_ASSIGN_OR_RETURN(FloatEngine eng, FloatEngine::create(g));
    s->float_engine_ = std::make_unique<FloatEngine>(std::move(eng));
  }
  return s;
}

Result<std::vector<Tensor>> Session::run(const std::vector<Tensor>& inputs) {
  if (inputs.size() != inputs_.size())
    return error("{}: model '{}': {} inputs given, the model takes {}", kStage, path_, inputs.size(), inputs_.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const IoInfo& io = inputs_[i];
    const Tensor& t = inputs[i];
    bool dims_ok = t.dims().size() == io.dims.size();
    for (size_t d = 0; dims_ok && d < io.dims.size(); ++d) dims_ok = io.dims[d] < 0 || io.dims[d] == t.dims()[d];
    if (t.dtype() != io.dtype || !dims_ok)
      return error("{}: input '{}': got {} {}: the model takes {} {}", kStage, io.name, dtype_name(t.dtype()),
                   dims_str(t.dims()), dtype_name(io.dtype), dims_str(io.dims));
  }
  return int_simulator_ ? int_simulator_->run(inputs) : float_engine_->run(inputs);
}

}  // namespace qmap
