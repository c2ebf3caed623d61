// MakertbinConfig: the YAML config of `qmap makertbin`, in hb_mapper's schema
// (model_parameters, input_parameters, calibration_parameters, compiler_parameters,
// custom_op) so an existing hb_mapper config works after changing `march`.
// docs/yaml.md documents every key, its default and its allowed values; keep it in step.
//
// Parsing validates everything that can be checked without the model: YAML types, enum
// values, per-input counts (`;`-separated keys), mean/scale channel counts, impossible
// combinations (train gray with rt rgb, ...). Every error is one line naming the config
// file, the full key path (`input_parameters.input_type_rt`), its line, the value and the
// rule. Checks that need the model (input names and shapes exist, nodes named in
// run_on_cpu/output_nodes exist) are the caller's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/input_spec.h"
#include "core/log.h"
#include "core/status.h"
#include "kernels/isa.h"
#include "import/import_model.h"

namespace qmap {

// `--model-type` of makertbin and checker: ModelType (import/import_model.h).
const char* model_type_name(ModelType t);  // "onnx", "caffe"
std::optional<ModelType> parse_model_type(const std::string& s);

// calibration_parameters.calibration_type. The percentile method is kMax with
// max_percentile set (hb_mapper's spelling; there is no `percentile` value).
enum class CalibrationType { kDefault, kMix, kKl, kMax, kMse, kLoad, kSkip };
const char* calibration_type_name(CalibrationType t);  // "default", "kl", ...

// compiler_parameters.compile_mode.
enum class CompileMode { kLatency, kBandwidth, kBalance };
const char* compile_mode_name(CompileMode m);

// compiler_parameters.input_source: where the runtime input buffer comes from.
enum class InputSource { kDdr, kPyramid, kResizer };
const char* input_source_name(InputSource s);

struct ModelParameters {
  // Paths are resolved against the YAML file's directory (absolute paths are kept).
  std::string onnx_model;   // --model-type onnx
  std::string prototxt;     // --model-type caffe
  std::string caffe_model;  // --model-type caffe
  // A built-in target name (`generic`) or the resolved path of a target .yaml file.
  std::string march;
  std::string output_model_file_prefix = "model";  // a file name, no directory part
  std::string working_dir;  // resolved; default "<yaml dir>/model_output"
  bool layer_out_dump = false;
  LogLevel log_level = LogLevel::kInfo;  // level of makertbin.log's console copy
  std::vector<std::string> output_nodes;      // node or value names made graph outputs
  std::vector<std::string> remove_node_type;  // op types removed at the model boundary
};

// A switch that may also be left to makertbin: auto decides per model on held-out calibration
// samples (bias_correction, range_search).
enum class AutoMode { kAuto, kOn, kOff };

struct CalibrationParameters {
  // One entry per input (same order as MakertbinConfig::inputs); empty when
  // calibration_type is load or skip. Resolved paths.
  std::vector<std::string> cal_data_dirs;
  // One entry per input when given: "uint8" or "float32". Empty vector (key not given):
  // the data reader decides per input from an `_f32` suffix of the directory/file names,
  // as hb_mapper does.
  std::vector<std::string> cal_data_types;
  bool preprocess_on = false;  // cal_data_dir holds images (JPEG/PNG/BMP), not raw binaries
  CalibrationType type = CalibrationType::kDefault;
  // In (0, 1]. With kMax: the percentile method. With kDefault/kMix: the percentile
  // candidate they try (default 0.99995 when unset).
  std::optional<float> max_percentile;
  bool per_channel = true;  // false: per-tensor weight scales
  // Node names forced onto the CPU / the NPU (run_on_npu also read as run_on_bpu, and
  // from model_parameters.node_info's `ON`). Disjoint, in file order, no duplicates.
  std::vector<std::string> run_on_cpu;
  std::vector<std::string> run_on_npu;
  // model_parameters.node_info's `OutputType: int16`, in file order, no duplicates: units
  // whose output activation is int16 (QuantizeOptions::int16_outputs, at max |v| over the
  // calibration data), as hb_mapper's node_info sets a node's output type.
  std::vector<std::string> int16_outputs;
  // optimization: set_model_output_int8 — requantize NPU graph outputs to int8 instead of
  // the default high-precision (int32 accumulator) float output.
  bool model_output_int8 = false;
  // bias_correction (qmap's key; hb_mapper's `optimization: bias_correction` token means
  // kOn): empirical layer-wise bias correction after the thresholds are chosen
  // (quant/bias_correction.h). kAuto (the default) keeps it when it raises the output cosine
  // on held-out calibration samples; kOn always; kOff never. Needs calibration data; never
  // with calibration_type load or skip.
  AutoMode bias_correction = AutoMode::kAuto;
  // range_search (qmap's key): after calibration_type default has chosen a method, each
  // 8-bit activation's threshold may step to the next lower or higher threshold another
  // method found for it, where that raises the output cosine on the search samples
  // (calib/range_search.h). kAuto (the default) keeps the moves when they raise the output
  // cosine on held-out calibration samples as well; kOn always; kOff never. Only with
  // calibration_type default.
  AutoMode range_search = AutoMode::kAuto;
  // accuracy_budget (qmap's key): the least mean output cosine against the float model, on
  // the calibration samples the method search scores, in (0, 1). When the quantized model
  // falls short, makertbin keeps the fewest most sensitive nodes in float on the CPU until it
  // holds (calib/mixed_precision.h). Unset: every node the march supports is quantized.
  std::optional<double> accuracy_budget;
  // accuracy_budget_precision (qmap's key): what the budget moves a node to. int16 (the
  // default): an int16 output on the NPU where the node can have one (Conv/Gemm/MatMul/Add whose
  // readers take int16), else float on the CPU; float: float on the CPU for every node.
  bool accuracy_budget_int16 = true;
  // adaround (qmap's key; the `optimization: adaround` token means True): adaptive rounding of
  // the NPU layers' weights on calibration samples (quant/adaround.h) before bias correction.
  // Off by default (it costs 25 s on ResNet-50 for output-cosine gains that top-1 on the dev
  // sets does not resolve: docs/accuracy.md). Needs calibration data.
  bool adaround = false;
  // cross_layer_equalization (qmap's key): the float pass equalize_cross_layer (passes.h) on
  // the optimized model before calibration, so consecutive convolutions' channel ranges are
  // balanced. Off by default (docs/accuracy.md, "Cross-layer equalization"). Not with
  // calibration_type load.
  bool cross_layer_equalization = false;
};

// Read and validated so that hb_mapper configs work unchanged. Only `jobs` changes what qmap
// does; the others have no effect on its outputs and are listed in MakertbinConfig::notes.
struct CompilerParameters {
  CompileMode compile_mode = CompileMode::kLatency;
  int balance_factor = 50;   // 0..100, only with compile_mode balance (0 = bandwidth, 100 = latency)
  bool debug = false;
  int optimize_level = 0;    // O0..O3
  int core_num = 1;          // >= 1
  int jobs = 0;              // worker threads; 0 = one per hardware thread
  int64_t max_time_per_fc = 0;  // microseconds per function call; 0 = no limit
  double advice = 0;         // microseconds; report ops slower than this; 0 = off
  std::map<std::string, InputSource> input_source;  // input name -> source (default ddr)
  // A qmap addition: the ISAs whose packed convolution weights the .bin stores (PACKED,
  // docs/format.md), so that a load on one of them adopts them instead of packing. Default
  // (`host`): the best ISA of the machine running makertbin; `none`: no packed weights.
  std::vector<kernels::Isa> prepack = {kernels::best_host_isa()};
};

struct MakertbinConfig {
  std::string source;     // the config path as given (for messages)
  std::string yaml_text;  // the raw YAML, stored in makertbin's outputs
  ModelType model_type = ModelType::kOnnx;

  ModelParameters model;
  // One InputSpec per input, in the order of the `;`-separated lists. A single input
  // without input_name has an empty name (the model's only input); an empty shape means
  // "take it from the model".
  std::vector<InputSpec> inputs;
  CalibrationParameters calibration;
  CompilerParameters compiler;
  // custom_op: the plugin libraries (op_register_files under custom_op_dir), resolved paths in
  // the YAML's order (docs/custom-op.md).
  std::vector<std::string> custom_op_libs;

  // Keys that were accepted but have no effect (e.g. mean_value with norm_type
  // data_scale); makertbin logs each as a warning.
  std::vector<std::string> warnings;
  // hb_mapper keys that qmap reads and validates but that change nothing in its outputs
  // (core_num, compile_mode, optimize_level, ...), one line each saying why; makertbin
  // logs them at info level. docs/yaml.md's compatibility table lists them.
  std::vector<std::string> notes;
};

// Parses and validates config text. `source_name` is the config's path: it names the file
// in errors and its directory anchors relative paths. Does not touch the file system.
Result<MakertbinConfig> parse_makertbin_config(std::string_view yaml_text, const std::string& source_name,
                                               ModelType model_type);

// Checks that the files and directories the config names exist and have the right kind
// (model files are files, cal_data_dir entries are directories, a march path exists).
Status check_config_paths(const MakertbinConfig& config);

// read_file + parse_makertbin_config + check_config_paths.
Result<MakertbinConfig> load_makertbin_config(const std::string& path, ModelType model_type);

// Keys of the model metadata (ONNX metadata_props) makertbin writes into its ONNX outputs.
inline constexpr const char* kMetadataYamlKey = "qmap_makertbin_yaml";  // the YAML, verbatim
inline constexpr const char* kMetadataVersionKey = "qmap_version";
inline constexpr const char* kMetadataMarchKey = "qmap_march";
// The nodes calibration_parameters.accuracy_budget kept in float on the CPU, ';'-separated
// (absent when it moved none): `qmap debug` re-quantizes with them.
inline constexpr const char* kMetadataBudgetCpuKey = "qmap_accuracy_budget_run_on_cpu";
// The nodes with int16 outputs (the accuracy budget's and node_info's `OutputType: int16`),
// each with its output value and that value's threshold, ';'-separated "node|value|threshold"
// (absent when none): `qmap debug` re-quantizes with them.
inline constexpr const char* kMetadataBudgetInt16Key = "qmap_accuracy_budget_int16";

// The input specs of a stored makertbin YAML (model metadata, a .bin), whatever the model
// type it was written for: the type is not stored, and the YAML names either onnx_model or
// prototxt/caffe_model, so the ONNX reading is tried first. Paths are not checked.
Result<std::vector<InputSpec>> parse_stored_input_specs(std::string_view yaml_text, const std::string& source);

}  // namespace qmap
