// runtime_model_from_qdq_graph (see runtime_model.h).
#include "quant/runtime_model.h"

#include "config/makertbin_config.h"
#include "quant/lower.h"
#include "runtime/model_impl.h"

namespace qmap {

namespace {

// The input specs of the YAML makertbin stored in the graph (the model type is not stored:
// the YAML names either onnx_model or caffe_model, so the ONNX reading is tried first).
Result<std::vector<InputSpec>> stored_input_specs(const Graph& g, const std::string& name) {
  auto it = g.metadata.find(kMetadataYamlKey);
  if (it == g.metadata.end()) return std::vector<InputSpec>{};
  return parse_stored_input_specs(it->second, name + " (metadata " + kMetadataYamlKey + ")");
}

}  // namespace

Result<rt::Model> runtime_model_from_qdq_graph(const Graph& qdq, const std::string& name) {
  QMAP_ASSIGN_OR_RETURN(std::vector<InputSpec> specs, stored_input_specs(qdq, name));
  QMAP_ASSIGN_OR_RETURN(IntProgram prog, lower_qdq_graph(qdq));
  std::vector<rt::InputFormat> formats(prog.inputs.size());
  for (size_t i = 0; i < prog.inputs.size(); ++i)
    for (const InputSpec& s : specs)
      if (s.name == prog.tensors[static_cast<size_t>(prog.inputs[i])].name)
        formats[i] = rt::input_format_of(s.type_rt, s.layout_rt);
  // The kernels a .bin would load with (QMAP_ISA, else the best the CPU has).
  QMAP_ASSIGN_OR_RETURN(kernels::Isa isa, rt::select_isa(""));
  return rt::model_from_program(std::move(prog), formats, name, nullptr, {}, isa);
}

}  // namespace qmap
