// Session: opening a model of any stage, its input/output description, the qmap metadata
// turned back into InputSpecs, and input checks shared by every backend.
#include "session/session.h"

#include <cctype>
#include <filesystem>

#include "config/makertbin_config.h"
#include "import/import_model.h"
#include "ops/custom/custom_op.h"
#include "session/backends.h"

namespace qmap {

namespace {

constexpr const char* kStage = "session";

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext;
}

std::vector<IoInfo> io_infos(const Graph& g, const std::vector<ValueId>& ids) {
  std::vector<IoInfo> out;
  for (ValueId id : ids) {
    const Value& v = g.value(id);
    out.push_back({v.name, v.dtype, v.dims.value_or(Dims{})});
  }
  return out;
}

// The InputSpecs of a model qmap built, from the YAML in its metadata, completed from the
// model (a lone unnamed input, shapes left to the model) and ordered as the model's inputs.
// Paths in the YAML are not checked: the model may have been moved since.
Result<std::vector<InputSpec>> specs_from_metadata(const Graph& g, const std::vector<IoInfo>& inputs,
                                                   const std::string& path) {
  const auto it = g.metadata.find(kMetadataYamlKey);
  if (it == g.metadata.end()) return std::vector<InputSpec>{};
  auto specs = parse_stored_input_specs(it->second, path + ":" + kMetadataYamlKey);
  if (!specs.ok()) return specs.status().with_context(fmt::format("{}: model '{}': qmap metadata: ", kStage, path));
  return match_input_specs(std::move(*specs), inputs);
}

Result<std::unique_ptr<Session>> open_onnx(const std::string& path, const std::vector<std::string>& custom_op_libs) {
  QMAP_ASSIGN_OR_RETURN(const CustomOpSet custom_ops, CustomOpSet::load(custom_op_libs));
  QMAP_ASSIGN_OR_RETURN(Graph g, import_model(ModelType::kOnnx, {.model = path}, {.custom_ops = &custom_ops}));
  std::vector<IoInfo> inputs = io_infos(g, g.inputs);
  std::vector<IoInfo> outputs = io_infos(g, g.outputs);
  QMAP_ASSIGN_OR_RETURN(std::vector<InputSpec> specs, specs_from_metadata(g, inputs, path));
  const bool quantized = is_qdq_graph(g);
  auto backend = quantized ? make_quantized_onnx_backend(g) : make_float_onnx_backend(g);
  if (!backend.ok()) return backend.status().with_context(fmt::format("{}: model '{}': ", kStage, path));
  return std::make_unique<Session>(path, quantized ? "quantized onnx" : "float onnx", std::move(inputs),
                                   std::move(outputs), std::move(specs), std::move(*backend));
}

Result<std::unique_ptr<Session>> open_bin(const std::string& path, int threads, bool profile,
                                          const std::vector<std::string>& custom_op_libs) {
  auto bin = open_bin_model(path, threads, profile, custom_op_libs);
  if (!bin.ok()) return bin.status().with_context(fmt::format("{}: model '{}': ", kStage, path));
  std::vector<InputSpec> specs;
  if (!bin->yaml_text.empty()) {
    auto parsed = parse_stored_input_specs(bin->yaml_text, path + ":yaml");
    if (!parsed.ok()) return parsed.status().with_context(fmt::format("{}: model '{}': qmap metadata: ", kStage, path));
    specs = match_input_specs(std::move(*parsed), bin->inputs);
  }
  return std::make_unique<Session>(path, "bin", std::move(bin->inputs), std::move(bin->outputs), std::move(specs),
                                   std::move(bin->backend));
}

}  // namespace

Session::Session(std::string path, std::string kind, std::vector<IoInfo> inputs, std::vector<IoInfo> outputs,
                 std::vector<InputSpec> input_specs, std::unique_ptr<SessionBackend> backend)
    : path_(std::move(path)),
      kind_(std::move(kind)),
      inputs_(std::move(inputs)),
      outputs_(std::move(outputs)),
      input_specs_(std::move(input_specs)),
      backend_(std::move(backend)) {}

Result<std::unique_ptr<Session>> Session::open(const std::string& path, Options options) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    return error("{}: model '{}': {}", kStage, path,
                 std::filesystem::exists(path, ec) ? "not a regular file" : "no such file");
  const std::string ext = lower_extension(path);
  if (ext == ".onnx") return open_onnx(path, options.custom_op_libs);
  if (ext == ".bin") return open_bin(path, options.threads, options.profile, options.custom_op_libs);
  return error("{}: model '{}': unknown extension '{}': expected .onnx (float or quantized) or .bin", kStage, path,
               ext);
}

std::vector<InputSpec> match_input_specs(std::vector<InputSpec> specs, const std::vector<IoInfo>& inputs) {
  if (specs.size() == 1 && specs[0].name.empty() && inputs.size() == 1) specs[0].name = inputs[0].name;
  std::vector<InputSpec> out;
  for (const IoInfo& io : inputs) {
    InputSpec spec;
    spec.name = io.name;
    for (const InputSpec& s : specs)
      if (s.name == io.name) spec = s;
    if (spec.shape.empty()) {
      const Dims& m = io.dims;
      spec.shape = m;
      if (spec.is_image() && io.dtype == DType::kUInt8 && m.size() == 4) {
        const bool rt_nchw = spec.layout_rt == Layout::kNCHW;
        const int64_t n = m[0], h = rt_nchw ? m[2] : m[1], w = rt_nchw ? m[3] : m[2];
        const int64_t c = color_channels(spec.type_train);
        spec.shape = spec.layout_train == Layout::kNCHW ? Dims{n, c, h, w} : Dims{n, h, w, c};
      }
    }
    out.push_back(std::move(spec));
  }
  return out;
}

Status check_input(const Tensor& t, const IoInfo& io) {
  if (t.dtype() != io.dtype)
    return error("{}: input '{}': dtype {}, the model takes {}", kStage, io.name, dtype_name(t.dtype()),
                 dtype_name(io.dtype));
  bool match = t.dims().size() == io.dims.size();
  for (size_t k = 0; match && k < io.dims.size(); ++k) match = io.dims[k] < 0 || io.dims[k] == t.dims()[k];
  if (!match)
    return error("{}: input '{}': shape {}, the model takes {}", kStage, io.name, dims_str(t.dims()),
                 dims_str(io.dims));
  return ok_status();
}

Result<std::vector<Tensor>> Session::run(const std::vector<Tensor>& inputs) {
  if (inputs.size() != inputs_.size())
    return error("{}: model '{}': {} inputs given, the model takes {}", kStage, path_, inputs.size(), inputs_.size());
  for (size_t i = 0; i < inputs.size(); ++i) QMAP_RETURN_IF_ERROR(check_input(inputs[i], inputs_[i]));
  auto out = backend_->run(inputs);
  if (!out.ok()) return out.status().with_context(fmt::format("{}: model '{}': ", kStage, path_));
  return out;
}

std::unique_ptr<Session> Session::clone() const {
  return std::make_unique<Session>(path_, kind_, inputs_, outputs_, input_specs_, backend_->clone());
}

}  // namespace qmap
