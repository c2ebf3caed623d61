// Reads hb_mapper's makertbin YAML schema into MakertbinConfig (see makertbin_config.h and
// docs/yaml.md). Errors read
//   config '<file>': key '<section.key>' (line N): <value>: <rule>
// and name the input ("input 'data'") for the `;`-separated per-input keys.
#include "config/makertbin_config.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/file_io.h"
#include "core/name_table.h"
#include "core/text.h"
#include "target/target_spec.h"

namespace qmap {

namespace fs = std::filesystem;

namespace {

constexpr NameTable<ModelType, 2> kModelTypes = {{{ModelType::kOnnx, "onnx"}, {ModelType::kCaffe, "caffe"}}};
constexpr NameTable<CalibrationType, 7> kCalibrationTypes = {{
    {CalibrationType::kDefault, "default"}, {CalibrationType::kMix, "mix"}, {CalibrationType::kKl, "kl"},
    {CalibrationType::kMax, "max"}, {CalibrationType::kMse, "mse"}, {CalibrationType::kLoad, "load"},
    {CalibrationType::kSkip, "skip"}}};
constexpr NameTable<CompileMode, 3> kCompileModes = {{
    {CompileMode::kLatency, "latency"}, {CompileMode::kBandwidth, "bandwidth"}, {CompileMode::kBalance, "balance"}}};
constexpr NameTable<InputSource, 3> kInputSources = {{
    {InputSource::kDdr, "ddr"}, {InputSource::kPyramid, "pyramid"}, {InputSource::kResizer, "resizer"}}};
// hb_mapper spells the levels debug/info/warn; warning and error are accepted as well.
constexpr NameTable<LogLevel, 5> kLogLevels = {{
    {LogLevel::kDebug, "debug"}, {LogLevel::kInfo, "info"}, {LogLevel::kWarning, "warn"},
    {LogLevel::kWarning, "warning"}, {LogLevel::kError, "error"}}};
constexpr NameTable<int, 4> kOptimizeLevels = {{{0, "O0"}, {1, "O1"}, {2, "O2"}, {3, "O3"}}};
constexpr NameTable<bool, 2> kCalDataTypes = {{{false, "uint8"}, {true, "float32"}}};
// node_info `ON` values; BPU is hb_mapper's name for the NPU.
constexpr NameTable<bool, 3> kNodePlacements = {{{true, "NPU"}, {true, "BPU"}, {false, "CPU"}}};

constexpr NameTable<ColorType, 5> kTrainTypes = {{
    {ColorType::kRgb, "rgb"}, {ColorType::kBgr, "bgr"}, {ColorType::kYuv444, "yuv444"},
    {ColorType::kGray, "gray"}, {ColorType::kFeaturemap, "featuremap"}}};
constexpr NameTable<ColorType, 6> kRuntimeTypes = {{
    {ColorType::kRgb, "rgb"}, {ColorType::kBgr, "bgr"}, {ColorType::kYuv444, "yuv444"},
    {ColorType::kNv12, "nv12"}, {ColorType::kGray, "gray"}, {ColorType::kFeaturemap, "featuremap"}}};
constexpr NameTable<Layout, 2> kLayouts = {{{Layout::kNCHW, "NCHW"}, {Layout::kNHWC, "NHWC"}}};
constexpr NameTable<ColorRange, 2> kRanges = {{
    {ColorRange::kRegular, "regular"}, {ColorRange::kBt601Video, "bt601_video"}}};
constexpr NameTable<NormType, 4> kNormTypes = {{
    {NormType::kMeanAndScale, "data_mean_and_scale"}, {NormType::kMean, "data_mean"},
    {NormType::kScale, "data_scale"}, {NormType::kNone, "no_preprocess"}}};

// The training types each runtime type can be converted into by the preprocess node
// (hb_mapper's conversion table, without the rt yuv444/nv12 -> train gray row: the NPU
// preprocess node takes full color planes).
std::vector<ColorType> train_types_for(ColorType rt) {
  switch (rt) {
    case ColorType::kRgb:
    case ColorType::kBgr: return {ColorType::kRgb, ColorType::kBgr};
    case ColorType::kYuv444:
    case ColorType::kNv12: return {ColorType::kYuv444, ColorType::kRgb, ColorType::kBgr};
    case ColorType::kGray: return {ColorType::kGray};
    case ColorType::kFeaturemap: return {ColorType::kFeaturemap};
  }
  return {};
}

// ---------------------------------------------------------------------------------------
// The schema: the keys of each section. `unsupported` keys are hb_mapper keys qmap knows
// but cannot honour; they are rejected with the reason instead of "unknown key".

struct UnsupportedKey {
  const char* key;
  const char* reason;
};

struct SectionSchema {
  const char* name;
  std::vector<std::string> keys;
  std::vector<UnsupportedKey> unsupported;
};

const std::vector<SectionSchema>& schema() {
  static const std::vector<SectionSchema> kSchema = {
      {"model_parameters",
       {"onnx_model", "prototxt", "caffe_model", "march", "output_model_file_prefix", "working_dir",
        "layer_out_dump", "log_level", "output_nodes", "remove_node_type", "node_info", "enable_vpu"},
       {{"remove_node_name", "qmap removes boundary nodes by type only (remove_node_type)"},
        {"set_node_data_type", "qmap takes int16 per node: node_info {node: {OutputType: int16}}"},
        {"debug_mode", "use layer_out_dump: True to keep per-layer outputs"}}},
      {"input_parameters",
       {"input_name", "input_shape", "input_type_train", "input_layout_train", "input_type_rt",
        "input_layout_rt", "input_space_and_range", "norm_type", "mean_value", "scale_value", "std_value",
        "input_batch", "separate_batch"},
       {{"separate_name", "it names the inputs of separate_batch, which qmap does not support (give the batch in "
                          "input_shape)"}}},
      {"calibration_parameters",
       {"cal_data_dir", "cal_data_type", "preprocess_on", "calibration_type", "max_percentile", "per_channel",
        "run_on_cpu", "run_on_npu", "run_on_bpu", "optimization", "bias_correction", "accuracy_budget",
        "accuracy_budget_precision", "adaround", "cross_layer_equalization", "range_search"},
       {{"quant_config", "qmap reads no JSON quantization rules; use node_info, run_on_cpu and optimization"}}},
      {"compiler_parameters",
       {"compile_mode", "balance_factor", "debug", "optimize_level", "core_num", "jobs", "max_time_per_fc",
        "advice", "input_source", "hbdk3_compatible_mode", "extra_params", "prepack"},
       {{"ability_entry", "qmap has no ability entry points"}}},
      {"custom_op", {"custom_op_method", "op_register_files", "custom_op_dir"}, {}},
  };
  return kSchema;
}

// hb_mapper optimization tokens qmap recognises but cannot honour.
constexpr UnsupportedKey kUnsupportedOptimizations[] = {
    {"set_all_nodes_int16", "qmap takes int16 per node: node_info {node: {OutputType: int16}}, or accuracy_budget"},
    {"set_model_output_int16", "qmap's NPU outputs that are model outputs leave in float from the int32 accumulator"},
    {"set_Softmax_input_int8", "Softmax runs in float on the CPU"},
    {"set_Softmax_output_int8", "Softmax runs in float on the CPU"},
    {"set_Softmax_input_int16", "Softmax runs in float on the CPU"},
    {"set_Softmax_output_int16", "Softmax runs in float on the CPU"},
    {"asymmetric", "qmap activations are symmetric (zero point 0)"},
};
constexpr const char* kModelOutputInt8 = "set_model_output_int8";
constexpr const char* kBiasCorrection = "bias_correction";
constexpr const char* kAdaRound = "adaround";

// hb_mapper templates write None or '' for "use the default"; YAML writes null or ~.
bool is_none(std::string_view item) {
  item = trim(item);
  return item.empty() || item == "None" || item == "none" || item == "null" || item == "~";
}

// A key of a section: its value node (null when absent) and where it is.
struct Field {
  std::string path;  // "input_parameters.mean_value"
  YAML::Node value;  // undefined/null when absent
  int line = -1;     // 1-based line of the key; -1 when absent

  bool present() const { return line >= 0; }
  bool given() const {
    if (!present() || !value.IsDefined() || value.IsNull()) return false;
    return !value.IsScalar() || !is_none(value.Scalar());
  }
};

// Messages are one line even when a value spans lines (an unclosed quote swallows the
// lines after it): line breaks are shown as \\n.
std::string one_line(const std::string& s) {
  std::string out;
  for (const char c : s) {
    if (c == '\n') out += "\\n";
    else if (c != '\r') out += c;
  }
  return out;
}

// The whole of `s` as a finite number (from_chars: locale-independent, "1e-3" and "0.5").
std::optional<double> to_number(std::string_view s) {
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::string quoted_items(const std::vector<std::string>& items) {
  return fmt::format("'{}'", fmt::join(items, "; "));
}

class ConfigReader {
 public:
  ConfigReader(std::string source, ModelType model_type) : source_(std::move(source)) {
    cfg_.source = source_;
    cfg_.model_type = model_type;
    base_dir_ = fs::path(source_).parent_path();
  }

  Result<MakertbinConfig> read(std::string_view text);

 private:
  // --- messages ---
  Status fail(const std::string& path, int line, const std::string& what) const {
    if (line >= 0) return error("config '{}': key '{}' (line {}): {}", source_, path, line, one_line(what));
    return error("config '{}': key '{}': {}", source_, path, one_line(what));
  }
  Status fail(const Field& f, const std::string& what) const { return fail(f.path, f.line, what); }
  Status missing(const std::string& path, const std::string& rule) const {
    return error("config '{}': missing key '{}': {}", source_, path, one_line(rule));
  }
  // A per-input key with `got` entries (`shown`) where the config has `n` inputs.
  Status count_error(const Field& f, size_t got, const std::string& shown, size_t n) const {
    return fail(f, fmt::format("{} {} {} for {} input{} ({}): give one value per input, separated by ';'", got,
                               got == 1 ? "value" : "values", shown, n, n == 1 ? "" : "s", count_source_));
  }
  void warn(const Field& f, const std::string& what) {
    cfg_.warnings.push_back(
        fmt::format("config '{}': key '{}' (line {}): {}", source_, f.path, f.line, one_line(what)));
  }
  // An hb_mapper key that qmap reads and validates but that changes nothing in its outputs.
  void no_effect(const Field& f, const std::string& why) {
    const std::string shown = f.value.IsScalar() ? fmt::format("'{}'", std::string(trim(f.value.Scalar()))) : "given";
    cfg_.notes.push_back(fmt::format("config '{}': key '{}' (line {}): {}: no effect in qmap: {}", source_, f.path,
                                     f.line, one_line(shown), why));
  }

  // --- structure ---
  Status check_root(const YAML::Node& root);
  Status check_section_keys(const YAML::Node& section, const SectionSchema& section_schema);
  Field field(const std::string& section, const std::string& key) const;
  // The section's map; a null node when absent. (Never root_[name]: on a const node
  // yaml-cpp returns an invalid node that throws when used.)
  YAML::Node section_node(const std::string& name) const;

  // --- typed values ---
  Result<std::string> text(const Field& f) const;
  Result<bool> boolean(const Field& f) const;
  Result<AutoMode> auto_mode(const Field& f) const;  // auto, or a boolean (True: kOn)
  Result<int64_t> integer(const Field& f, int64_t lo, int64_t hi, const std::string& rule) const;
  Result<double> number(const Field& f) const;
  template <typename E, size_t N>
  Result<E> choice(const Field& f, const std::string& value, const NameTable<E, N>& table,
                   const std::string& context = "") const;
  // A list value: a scalar split on `sep` (hb_mapper's "a; b") or a YAML list of scalars.
  Result<std::vector<std::string>> items(const Field& f, char sep = ';') const;
  // Per-input number lists: "123 116 103; 128", a YAML list of numbers (one input), or a
  // YAML list with one entry per input. `seps` separate numbers inside one input's value.
  Result<std::vector<std::vector<double>>> per_input_numbers(const Field& f, std::string_view seps) const;
  Result<std::vector<double>> numbers_of(const Field& f, const std::string& item, std::string_view seps) const;
  std::string resolve(const std::string& path) const;
  // A trailing ';' of a per-input value closes the list (hb_mapper writes 'a;b;' and
  // 'no_preprocess;no_preprocess;'). `list` then has one empty entry more than the `n`
  // inputs: drop it. Any other count is left for the count check to report.
  static bool ends_with_separator(const Field& f) {
    return f.given() && f.value.IsScalar() && trim(f.value.Scalar()).ends_with(';');
  }
  template <typename T>
  static void close_list(const Field& f, std::vector<T>& list, size_t n) {
    if (list.size() == n + 1 && list.back().empty() && ends_with_separator(f)) list.pop_back();
  }

  // --- sections ---
  Status read_model();
  Status read_inputs();
  Status read_input(size_t i, const std::map<std::string, std::vector<std::string>>& per_input,
                    const std::vector<std::vector<double>>& shapes, const std::vector<std::vector<double>>& means,
                    const std::vector<std::vector<double>>& scales, InputSpec& spec);
  Status read_calibration();
  Status read_node_lists();
  Status read_compiler();
  Status read_custom_op();
  std::string input_label(size_t i) const {
    const std::string& name = cfg_.inputs[i].name;
    return name.empty() ? fmt::format("input #{}", i + 1) : fmt::format("input '{}'", name);
  }

  std::string source_;
  fs::path base_dir_;
  YAML::Node root_;
  MakertbinConfig cfg_;
  std::string count_source_;  // where the input count comes from: "input_name 'a; b'"
  const char* scale_key_ = "scale_value";  // the key the scales came from: scale_value or std_value
};

// ---------------------------------------------------------------------------------------
// Structure

Status ConfigReader::check_root(const YAML::Node& root) {
  if (!root.IsMap()) return error("config '{}': must be a YAML map of sections (model_parameters, ...)", source_);
  std::vector<std::string> names;
  for (const SectionSchema& s : schema()) names.emplace_back(s.name);
  std::set<std::string> seen;
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    const int line = kv.first.Mark().line + 1;
    if (!seen.insert(key).second) return fail(key, line, "duplicate section");
    const auto it = std::find(names.begin(), names.end(), key);
    if (it == names.end()) {
      const std::optional<std::string> near = closest_name(key, names);
      return fail(key, line,
                  near ? fmt::format("unknown section: did you mean '{}'?", *near)
                       : fmt::format("unknown section: allowed sections are {}", fmt::join(names, ", ")));
    }
    if (!kv.second.IsNull()) {
      const SectionSchema& s = *std::find_if(schema().begin(), schema().end(),
                                             [&](const SectionSchema& x) { return key == x.name; });
      QMAP_RETURN_IF_ERROR(check_section_keys(kv.second, s));
    }
  }
  return ok_status();
}

Status ConfigReader::check_section_keys(const YAML::Node& section, const SectionSchema& section_schema) {
  const SectionSchema& own = section_schema;
  const std::string name = own.name;
  if (!section.IsMap())
    return fail(name, section.Mark().line + 1, "must be a map of keys (key: value lines indented under it)");
  std::set<std::string> seen;
  for (const auto& kv : section) {
    const int line = kv.first.Mark().line + 1;
    if (!kv.first.IsScalar()) return fail(name, line, "keys must be plain names");
    const std::string key = kv.first.Scalar();
    const std::string path = name + "." + key;
    if (!seen.insert(key).second) return fail(path, line, "duplicate key");
    if (std::find(own.keys.begin(), own.keys.end(), key) != own.keys.end()) continue;
    for (const UnsupportedKey& u : own.unsupported)
      if (key == u.key) return fail(path, line, fmt::format("not supported by qmap: {}", u.reason));
    // A typo of a key of this section, or a key put under the wrong section?
    if (const std::optional<std::string> near = closest_name(key, own.keys))
      return fail(path, line, fmt::format("unknown key: did you mean '{}'?", *near));
    for (const SectionSchema& other : schema())
      if (std::find(other.keys.begin(), other.keys.end(), key) != other.keys.end())
        return fail(path, line, fmt::format("unknown key in {}: '{}' belongs in {}", name, key, other.name));
    return fail(path, line, fmt::format("unknown key: allowed keys are {}", fmt::join(own.keys, ", ")));
  }
  return ok_status();
}

Field ConfigReader::field(const std::string& section, const std::string& key) const {
  Field f;
  f.path = section + "." + key;
  const YAML::Node s = section_node(section);
  if (!s.IsMap()) return f;
  for (const auto& kv : s) {
    if (kv.first.Scalar() == key) {
      f.value = kv.second;
      f.line = kv.first.Mark().line + 1;
      break;
    }
  }
  return f;
}

YAML::Node ConfigReader::section_node(const std::string& name) const {
  for (const auto& kv : root_)
    if (kv.first.Scalar() == name) return kv.second;
  return YAML::Node(YAML::NodeType::Null);
}

// ---------------------------------------------------------------------------------------
// Typed values

Result<std::string> ConfigReader::text(const Field& f) const {
  if (!f.value.IsScalar()) return fail(f, "must be a single value, not a list or a map");
  return std::string(trim(f.value.Scalar()));
}

Result<bool> ConfigReader::boolean(const Field& f) const {
  QMAP_ASSIGN_OR_RETURN(const std::string s, text(f));
  // YAML 1.1 booleans (True/False, yes/no, on/off) as hb_mapper's Python loader reads them,
  // also when quoted, plus 1/0.
  static const char* const kTrue[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "1"};
  static const char* const kFalse[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "0"};
  for (const char* t : kTrue)
    if (s == t) return true;
  for (const char* t : kFalse)
    if (s == t) return false;
  return fail(f, fmt::format("'{}' is not a boolean: use True or False", s));
}

Result<AutoMode> ConfigReader::auto_mode(const Field& f) const {
  QMAP_ASSIGN_OR_RETURN(const std::string v, text(f));
  if (v == "auto") return AutoMode::kAuto;
  auto b = boolean(f);
  if (!b.ok()) return fail(f, fmt::format("'{}': use auto, True or False", v));
  return *b ? AutoMode::kOn : AutoMode::kOff;
}

Result<int64_t> ConfigReader::integer(const Field& f, int64_t lo, int64_t hi, const std::string& rule) const {
  QMAP_ASSIGN_OR_RETURN(const std::string s, text(f));
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return fail(f, fmt::format("'{}' is not an integer", s));
  if (v < lo || v > hi) return fail(f, fmt::format("{}: {}", v, rule));
  return v;
}

Result<double> ConfigReader::number(const Field& f) const {
  QMAP_ASSIGN_OR_RETURN(const std::string s, text(f));
  const std::optional<double> v = to_number(s);
  if (!v) return fail(f, fmt::format("'{}' is not a finite number", s));
  return *v;
}

template <typename E, size_t N>
Result<E> ConfigReader::choice(const Field& f, const std::string& value, const NameTable<E, N>& table,
                               const std::string& context) const {
  if (const std::optional<E> v = parse_name(table, value)) return *v;
  std::vector<std::string> names;
  for (const auto& [e, name] : table) names.emplace_back(name);
  const std::optional<std::string> near = closest_name(value, names);
  return fail(f, fmt::format("{}'{}' is not allowed: allowed values are {}{}", context, value, names_list(table),
                             near ? fmt::format(" (did you mean '{}'?)", *near) : ""));
}

Result<std::vector<std::string>> ConfigReader::items(const Field& f, char sep) const {
  if (!f.given()) return std::vector<std::string>{};
  if (f.value.IsScalar()) return split_trimmed(f.value.Scalar(), sep);
  if (!f.value.IsSequence()) return fail(f, "must be a value or a list of values, not a map");
  std::vector<std::string> out;
  for (size_t i = 0; i < f.value.size(); ++i) {
    if (!f.value[i].IsScalar())
      return fail(f.path + fmt::format("[{}]", i), f.value[i].Mark().line + 1, "must be a single value");
    out.emplace_back(trim(f.value[i].Scalar()));
  }
  return out;
}

Result<std::vector<double>> ConfigReader::numbers_of(const Field& f, const std::string& item,
                                                     std::string_view seps) const {
  std::vector<double> out;
  if (is_none(item)) return out;
  for (const std::string& tok : split_tokens(item, seps)) {
    const std::optional<double> v = to_number(tok);
    if (!v) return fail(f, fmt::format("'{}' in '{}' is not a finite number", tok, item));
    out.push_back(*v);
  }
  return out;
}

Result<std::vector<std::vector<double>>> ConfigReader::per_input_numbers(const Field& f,
                                                                          std::string_view seps) const {
  std::vector<std::vector<double>> out;
  if (!f.given()) return out;
  if (f.value.IsSequence()) {
    // [123.675, 116.28, 103.53] is one input's values; [[1, 3, 224, 224], "1x3x8x8"] one
    // entry per input.
    const bool flat = std::all_of(f.value.begin(), f.value.end(), [&](const YAML::Node& n) {
      return n.IsScalar() && split_tokens(n.Scalar(), seps).size() == 1;
    });
    if (flat) {
      std::vector<double> one;
      for (const YAML::Node& n : f.value) {
        QMAP_ASSIGN_OR_RETURN(std::vector<double> v, numbers_of(f, n.Scalar(), seps));
        one.insert(one.end(), v.begin(), v.end());
      }
      out.push_back(std::move(one));
      return out;
    }
    for (const YAML::Node& n : f.value) {
      std::string item;
      if (n.IsScalar()) {
        item = n.Scalar();
      } else if (n.IsSequence()) {
        for (const YAML::Node& x : n) {
          if (!x.IsScalar()) return fail(f, "must be numbers, a list of numbers or one list per input");
          item += x.Scalar() + " ";
        }
      } else {
        return fail(f, "must be numbers, a list of numbers or one list per input");
      }
      QMAP_ASSIGN_OR_RETURN(std::vector<double> v, numbers_of(f, item, seps));
      out.push_back(std::move(v));
    }
    return out;
  }
  QMAP_ASSIGN_OR_RETURN(const std::string s, text(f));
  for (const std::string& item : split_trimmed(s, ';')) {
    QMAP_ASSIGN_OR_RETURN(std::vector<double> v, numbers_of(f, item, seps));
    out.push_back(std::move(v));
  }
  return out;
}

std::string ConfigReader::resolve(const std::string& path) const {
  const fs::path p(path);
  if (p.is_absolute() || base_dir_.empty()) return p.lexically_normal().string();
  return (base_dir_ / p).lexically_normal().string();
}

// ---------------------------------------------------------------------------------------
// model_parameters

Status ConfigReader::read_model() {
  const std::string kSec = "model_parameters";
  ModelParameters& m = cfg_.model;
  const bool onnx = cfg_.model_type == ModelType::kOnnx;
  const auto read_path = [&](const char* key, bool wanted, std::string& out) -> Status {
    const Field f = field(kSec, key);
    if (!f.given()) {
      if (wanted)
        return missing(f.path, fmt::format("required with --model-type {}", model_type_name(cfg_.model_type)));
      return ok_status();
    }
    QMAP_ASSIGN_OR_RETURN(const std::string s, text(f));
    if (!wanted)
      return fail(f, fmt::format("'{}': applies to --model-type {}, not {}", s, onnx ? "caffe" : "onnx",
                                 model_type_name(cfg_.model_type)));
    out = resolve(s);
    return ok_status();
  };
  QMAP_RETURN_IF_ERROR(read_path("onnx_model", onnx, m.onnx_model));
  QMAP_RETURN_IF_ERROR(read_path("prototxt", !onnx, m.prototxt));
  QMAP_RETURN_IF_ERROR(read_path("caffe_model", !onnx, m.caffe_model));

  const Field march = field(kSec, "march");
  if (!march.given()) return missing(march.path, "the target to build for, e.g. march: generic");
  QMAP_ASSIGN_OR_RETURN(const std::string march_s, text(march));
  const std::vector<std::string> builtin = embedded_target_names();
  if (march_s.ends_with(".yaml") || march_s.ends_with(".yml") || march_s.find('/') != std::string::npos) {
    m.march = resolve(march_s);
  } else if (std::find(builtin.begin(), builtin.end(), march_s) != builtin.end()) {
    m.march = march_s;
  } else {
    return fail(march, fmt::format("'{}' is not a qmap target: built-in targets are {}; or give the path of "
                                   "a target .yaml file (docs/targets.md)",
                                   march_s, fmt::join(builtin, ", ")));
  }

  if (const Field f = field(kSec, "output_model_file_prefix"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(m.output_model_file_prefix, text(f));
    if (m.output_model_file_prefix.find_first_of("/\\") != std::string::npos ||
        m.output_model_file_prefix == "." || m.output_model_file_prefix == "..")
      return fail(f, fmt::format("'{}' must be a file name prefix without a directory part (the files go to "
                                 "working_dir)",
                                 m.output_model_file_prefix));
  }
  m.working_dir = resolve("model_output");
  if (const Field f = field(kSec, "working_dir"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(const std::string s, text(f));
    m.working_dir = resolve(s);
  }
  if (const Field f = field(kSec, "layer_out_dump"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(m.layer_out_dump, boolean(f));
  }
  if (const Field f = field(kSec, "log_level"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(const std::string s, text(f));
    QMAP_ASSIGN_OR_RETURN(m.log_level, choice(f, s, kLogLevels));
  }
  if (const Field f = field(kSec, "enable_vpu"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(const bool vpu, boolean(f));
    if (vpu)
      return fail(f, "True: not supported by qmap: it has no vision processing unit; image conversion and "
                     "normalization run in the NPU's preprocess node (input_type_rt, norm_type)");
  }
  for (const auto& [key, out] : {std::pair{"output_nodes", &m.output_nodes},
                                 std::pair{"remove_node_type", &m.remove_node_type}}) {
    const Field f = field(kSec, key);
    QMAP_ASSIGN_OR_RETURN(std::vector<std::string> list, items(f));
    for (std::string& s : list)
      if (!is_none(s)) out->push_back(std::move(s));
  }
  return ok_status();
}

// ---------------------------------------------------------------------------------------
// input_parameters

// Keys read as `;`-separated per-input text.
constexpr const char* kPerInputTextKeys[] = {"input_name",         "input_type_rt",   "input_type_train",
                                             "input_layout_train", "input_layout_rt", "input_space_and_range",
                                             "norm_type"};

Status ConfigReader::read_inputs() {
  const std::string kSec = "input_parameters";
  std::map<std::string, std::vector<std::string>> per_input;
  for (const char* key : kPerInputTextKeys) {
    QMAP_ASSIGN_OR_RETURN(per_input[key], items(field(kSec, key)));
  }
  for (const char* key : {"input_type_rt", "input_type_train"})
    if (per_input[key].empty())
      return missing(kSec + "." + key, "one value per input (separated by ';'), e.g. rgb or featuremap");

  if (const Field f = field(kSec, "input_batch"); f.given()) {
    QMAP_RETURN_IF_ERROR(integer(f, 1, 1, "not supported by qmap: only 1; give the batch in input_shape instead")
                             .status());
  }
  QMAP_ASSIGN_OR_RETURN(auto shapes, per_input_numbers(field(kSec, "input_shape"), "x,"));
  QMAP_ASSIGN_OR_RETURN(auto means, per_input_numbers(field(kSec, "mean_value"), ","));
  QMAP_ASSIGN_OR_RETURN(auto scales, per_input_numbers(field(kSec, "scale_value"), ","));
  QMAP_ASSIGN_OR_RETURN(auto stds, per_input_numbers(field(kSec, "std_value"), ","));
  if (const Field f = field(kSec, "separate_batch"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(const bool separate, boolean(f));
    if (separate)
      return fail(f, "True: not supported by qmap: a batch is one input tensor (give the batch in input_shape)");
  }
  if (const Field f = field(kSec, "std_value"); f.given() && field(kSec, "scale_value").given())
    return fail(f, "give scale_value or std_value, not both (std_value is the divisor: scale = 1 / std)");

  // The input count comes from input_name, else from input_type_rt; every other per-input
  // key must have exactly that many entries. hb_mapper's configs end the count key with a
  // ';' ('data;', 'a;b;'): that closes the list, it adds no input.
  const char* count_key = per_input["input_name"].empty() ? "input_type_rt" : "input_name";
  std::vector<std::string>& count_items = per_input[count_key];
  if (count_items.size() > 1 && count_items.back().empty() && ends_with_separator(field(kSec, count_key)))
    count_items.pop_back();
  const size_t n = count_items.size();
  for (const char* key : kPerInputTextKeys) close_list(field(kSec, key), per_input[key], n);
  close_list(field(kSec, "input_shape"), shapes, n);
  close_list(field(kSec, "mean_value"), means, n);
  close_list(field(kSec, "scale_value"), scales, n);
  close_list(field(kSec, "std_value"), stds, n);
  count_source_ = fmt::format("{} {}", count_key, quoted_items(count_items));
  const auto check_count = [&](const char* key, size_t got, const std::string& shown) -> Status {
    return got == 0 || got == n ? ok_status() : count_error(field(kSec, key), got, shown, n);
  };
  for (const char* key : kPerInputTextKeys)
    QMAP_RETURN_IF_ERROR(check_count(key, per_input[key].size(), quoted_items(per_input[key])));
  const auto shown_numbers = [](const std::vector<std::vector<double>>& v) {
    std::vector<std::string> parts;
    for (const auto& x : v) parts.push_back(fmt::format("{}", fmt::join(x, " ")));
    return quoted_items(parts);
  };
  QMAP_RETURN_IF_ERROR(check_count("input_shape", shapes.size(), shown_numbers(shapes)));
  QMAP_RETURN_IF_ERROR(check_count("mean_value", means.size(), shown_numbers(means)));
  QMAP_RETURN_IF_ERROR(check_count("scale_value", scales.size(), shown_numbers(scales)));
  QMAP_RETURN_IF_ERROR(check_count("std_value", stds.size(), shown_numbers(stds)));
  // std_value (hb_mapper's newer spelling) divides where scale_value multiplies; read_input
  // inverts it. Only one of the two is given (checked above).
  const bool use_std = !stds.empty();
  if (use_std) scales = std::move(stds);
  scale_key_ = use_std ? "std_value" : "scale_value";

  cfg_.inputs.resize(n);
  const std::vector<std::string>& names = per_input["input_name"];
  std::set<std::string> seen;
  for (size_t i = 0; i < names.size(); ++i) {
    const Field f = field(kSec, "input_name");
    if (is_none(names[i])) return fail(f, fmt::format("input #{} has no name: name every input when there are several", i + 1));
    if (!seen.insert(names[i]).second) return fail(f, fmt::format("'{}' is named twice", names[i]));
    cfg_.inputs[i].name = names[i];
  }
  if (n > 1 && names.empty())
    return missing(kSec + ".input_name", fmt::format("{} inputs need their names, separated by ';'", n));
  for (size_t i = 0; i < n; ++i) QMAP_RETURN_IF_ERROR(read_input(i, per_input, shapes, means, scales, cfg_.inputs[i]));
  return ok_status();
}

Status ConfigReader::read_input(size_t i, const std::map<std::string, std::vector<std::string>>& per_input,
                                const std::vector<std::vector<double>>& shapes,
                                const std::vector<std::vector<double>>& means,
                                const std::vector<std::vector<double>>& scales, InputSpec& spec) {
  const std::string kSec = "input_parameters";
  const std::string label = input_label(i);
  const std::string ctx = label + ": ";
  // The i-th entry of a per-input key, "" when the key is absent or says None.
  const auto item = [&](const char* key) -> std::string {
    const std::vector<std::string>& v = per_input.at(key);
    return v.empty() || is_none(v[i]) ? std::string() : v[i];
  };

  const Field f_rt = field(kSec, "input_type_rt");
  const Field f_train = field(kSec, "input_type_train");
  if (item("input_type_rt").empty()) return fail(f_rt, ctx + "no value: one of " + names_list(kRuntimeTypes));
  if (item("input_type_train").empty())
    return fail(f_train, ctx + "no value: one of " + names_list(kTrainTypes));
  QMAP_ASSIGN_OR_RETURN(spec.type_rt, choice(f_rt, item("input_type_rt"), kRuntimeTypes, ctx));
  QMAP_ASSIGN_OR_RETURN(spec.type_train, choice(f_train, item("input_type_train"), kTrainTypes, ctx));
  const std::vector<ColorType> allowed = train_types_for(spec.type_rt);
  if (std::find(allowed.begin(), allowed.end(), spec.type_train) == allowed.end()) {
    std::vector<std::string> names;
    for (ColorType t : allowed) names.emplace_back(color_type_name(t));
    return fail(f_train, fmt::format("{}'{}' cannot be produced from input_type_rt '{}': with input_type_rt {} "
                                     "the training type must be {}",
                                     ctx, color_type_name(spec.type_train), color_type_name(spec.type_rt),
                                     color_type_name(spec.type_rt), fmt::join(names, " or ")));
  }
  const bool image = spec.is_image();

  // Layouts. Image inputs must say how the model was trained; featuremap inputs are fed
  // as the model takes them (NCHW unless said otherwise, layout_rt = layout_train).
  const Field f_lt = field(kSec, "input_layout_train");
  if (!item("input_layout_train").empty()) {
    QMAP_ASSIGN_OR_RETURN(spec.layout_train, choice(f_lt, item("input_layout_train"), kLayouts, ctx));
  } else if (image) {
    return missing(f_lt.path, fmt::format("{} is an image input ({}): give its training layout, NCHW or NHWC", label,
                                          color_type_name(spec.type_rt)));
  }
  spec.layout_rt = spec.layout_train;
  const Field f_lr = field(kSec, "input_layout_rt");
  if (!item("input_layout_rt").empty()) {
    QMAP_ASSIGN_OR_RETURN(const Layout rt, choice(f_lr, item("input_layout_rt"), kLayouts, ctx));
    // hb_mapper accepts a layout beside nv12 (many published configs write NCHW or NHWC
    // there) and ignores it: nv12 is a Y plane and an interleaved UV plane, whatever the
    // model's layout. Its yuv444 stand-in in the ONNX models is NHWC (set below).
    if (spec.type_rt == ColorType::kNv12)
      warn(f_lr, fmt::format("{}'{}' ignored: nv12 has no layout (a Y plane, then interleaved UV); the "
                             "yuv444 stand-in in the ONNX models is NHWC",
                             ctx, layout_name(rt)));
    if (!image && rt != spec.layout_train)
      return fail(f_lr, fmt::format("{}'{}': a featuremap input is fed in its training layout '{}' (no "
                                    "preprocess node transposes it)",
                                    ctx, layout_name(rt), layout_name(spec.layout_train)));
    spec.layout_rt = rt;
  }
  if (spec.type_rt == ColorType::kNv12) spec.layout_rt = Layout::kNHWC;

  const Field f_range = field(kSec, "input_space_and_range");
  if (!item("input_space_and_range").empty()) {
    QMAP_ASSIGN_OR_RETURN(spec.range, choice(f_range, item("input_space_and_range"), kRanges, ctx));
    if (spec.range == ColorRange::kBt601Video && spec.type_rt != ColorType::kNv12 &&
        spec.type_rt != ColorType::kYuv444)
      return fail(f_range, fmt::format("{}'bt601_video' applies to input_type_rt nv12 or yuv444, not '{}'", ctx,
                                       color_type_name(spec.type_rt)));
  }

  // Normalization: (x - mean) * scale per channel of the training type.
  const Field f_norm = field(kSec, "norm_type");
  if (!item("norm_type").empty()) {
    QMAP_ASSIGN_OR_RETURN(spec.norm, choice(f_norm, item("norm_type"), kNormTypes, ctx));
  }
  if (!image && spec.norm != NormType::kNone)
    return fail(f_norm, fmt::format("{}'{}' applies to image inputs only; a featuremap input gets no preprocess "
                                    "node: use no_preprocess and normalize the data yourself",
                                    ctx, norm_type_name(spec.norm)));
  const bool wants_mean = spec.norm == NormType::kMean || spec.norm == NormType::kMeanAndScale;
  const bool wants_scale = spec.norm == NormType::kScale || spec.norm == NormType::kMeanAndScale;
  const int channels = color_channels(spec.type_train);
  const auto read_values = [&](const char* key, const std::vector<std::vector<double>>& all, bool wanted,
                               std::vector<float>& out) -> Status {
    const Field f = field(kSec, key);
    const std::vector<double> v = all.empty() ? std::vector<double>{} : all[i];
    if (!wanted) {
      if (!v.empty())
        warn(f, fmt::format("{}ignored: norm_type '{}' does not use it", ctx, norm_type_name(spec.norm)));
      return ok_status();
    }
    if (v.empty())
      return missing(f.path, fmt::format("{} has norm_type '{}', which needs it", label, norm_type_name(spec.norm)));
    if (v.size() != 1 && v.size() != static_cast<size_t>(channels))
      return fail(f, fmt::format("{}{} values '{}': give 1 value or {} (one per channel of input_type_train {})",
                                 ctx, v.size(), fmt::join(v, " "), channels, color_type_name(spec.type_train)));
    const bool is_std = std::string_view(key) == "std_value";
    for (double x : v) {
      if (std::string_view(key) == "scale_value" && x == 0)
        return fail(f, fmt::format("{}'{}': a scale of 0 erases the input", ctx, fmt::join(v, " ")));
      if (is_std && x == 0)
        return fail(f, fmt::format("{}'{}': a std of 0 divides by zero (scale = 1 / std)", ctx, fmt::join(v, " ")));
      const double value = is_std ? 1.0 / x : x;
      if (std::fabs(value) > std::numeric_limits<float>::max())
        return fail(f, fmt::format("{}{} does not fit a float32{}", ctx, x, is_std ? " as 1 / std" : ""));
      out.push_back(static_cast<float>(value));
    }
    return ok_status();
  };
  QMAP_RETURN_IF_ERROR(read_values("mean_value", means, wants_mean, spec.mean));
  QMAP_RETURN_IF_ERROR(read_values(scale_key_, scales, wants_scale, spec.scale));

  // Shape, in layout_train. Empty: taken from the model.
  const Field f_shape = field(kSec, "input_shape");
  const std::vector<double> shape = shapes.empty() ? std::vector<double>{} : shapes[i];
  if (shape.empty()) return ok_status();
  const std::string shown = fmt::format("{}", fmt::join(shape, "x"));
  for (double d : shape) {
    if (d < 1 || d != std::floor(d) || d > 1e12)
      return fail(f_shape, fmt::format("{}'{}': every dimension must be a positive integer", ctx, shown));
    spec.shape.push_back(static_cast<int64_t>(d));
  }
  if (!image) return ok_status();
  if (spec.shape.size() != 4)
    return fail(f_shape, fmt::format("{}'{}' has {} dimensions: an image input is 4-D ({})", ctx, shown,
                                     spec.shape.size(), layout_name(spec.layout_train)));
  const bool nchw = spec.layout_train == Layout::kNCHW;
  const int64_t c = spec.shape[nchw ? 1 : 3];
  const int64_t h = spec.shape[nchw ? 2 : 1];
  const int64_t w = spec.shape[nchw ? 3 : 2];
  if (c != channels)
    return fail(f_shape, fmt::format("{}'{}' has {} channels in layout {}: input_type_train {} has {}", ctx, shown,
                                     c, layout_name(spec.layout_train), color_type_name(spec.type_train), channels));
  if (spec.type_rt == ColorType::kNv12 && (h % 2 != 0 || w % 2 != 0))
    return fail(f_shape, fmt::format("{}'{}': nv12 needs an even height and width (chroma is subsampled 2x2), "
                                     "got {}x{}",
                                     ctx, shown, h, w));
  return ok_status();
}

// ---------------------------------------------------------------------------------------
// calibration_parameters

Status ConfigReader::read_calibration() {
  const std::string kSec = "calibration_parameters";
  CalibrationParameters& c = cfg_.calibration;
  const size_t n = cfg_.inputs.size();

  const Field f_type = field(kSec, "calibration_type");
  if (f_type.given()) {
    QMAP_ASSIGN_OR_RETURN(const std::string s, text(f_type));
    if (s == "percentile")
      return fail(f_type, "'percentile' is not a calibration_type: write calibration_type: max with "
                          "max_percentile: 0.99995 (hb_mapper's spelling of the percentile method)");
    QMAP_ASSIGN_OR_RETURN(c.type, choice(f_type, s, kCalibrationTypes));
  }
  const bool needs_data = c.type != CalibrationType::kLoad && c.type != CalibrationType::kSkip;

  const Field f_pre = field(kSec, "preprocess_on");
  if (f_pre.given()) {
    QMAP_ASSIGN_OR_RETURN(c.preprocess_on, boolean(f_pre));
  }
  const Field f_dir = field(kSec, "cal_data_dir");
  QMAP_ASSIGN_OR_RETURN(std::vector<std::string> dirs, items(f_dir));
  if (!needs_data) {
    if (!dirs.empty())
      warn(f_dir, fmt::format("ignored: calibration_type {} reads no calibration data", calibration_type_name(c.type)));
  } else {
    if (dirs.empty())
      return missing(f_dir.path, fmt::format("calibration_type {} needs calibration data: one directory per input, "
                                             "separated by ';'",
                                             calibration_type_name(c.type)));
    close_list(f_dir, dirs, n);
    if (dirs.size() != n) return count_error(f_dir, dirs.size(), quoted_items(dirs), n);
    for (size_t i = 0; i < n; ++i) {
      if (is_none(dirs[i])) return fail(f_dir, fmt::format("{}: no directory", input_label(i)));
      c.cal_data_dirs.push_back(resolve(dirs[i]));
      if (c.preprocess_on && !cfg_.inputs[i].is_image())
        return fail(f_pre, fmt::format("True: {} is a featuremap input; images can only calibrate image inputs "
                                       "(give raw float32 files and preprocess_on: False)",
                                       input_label(i)));
    }
  }

  const Field f_dtype = field(kSec, "cal_data_type");
  QMAP_ASSIGN_OR_RETURN(std::vector<std::string> dtypes, items(f_dtype));
  if (!dtypes.empty() && needs_data) {
    if (c.preprocess_on) {
      warn(f_dtype, "ignored: preprocess_on reads images, not raw binaries");
    } else {
      close_list(f_dtype, dtypes, n);
      if (dtypes.size() != n) return count_error(f_dtype, dtypes.size(), quoted_items(dtypes), n);
      for (size_t i = 0; i < n; ++i) {
        if (is_none(dtypes[i])) {
          c.cal_data_types.emplace_back();
          continue;
        }
        QMAP_RETURN_IF_ERROR(choice(f_dtype, dtypes[i], kCalDataTypes, input_label(i) + ": ").status());
        c.cal_data_types.push_back(dtypes[i]);
      }
    }
  }

  const Field f_pct = field(kSec, "max_percentile");
  if (f_pct.given()) {
    QMAP_ASSIGN_OR_RETURN(const double p, number(f_pct));
    if (!(p > 0 && p <= 1)) return fail(f_pct, fmt::format("{}: must be in (0, 1], e.g. 0.99995", p));
    if (c.type != CalibrationType::kMax && c.type != CalibrationType::kDefault && c.type != CalibrationType::kMix)
      return fail(f_pct, fmt::format("{}: applies to calibration_type max (the percentile method), default or mix, "
                                     "not {}",
                                     p, calibration_type_name(c.type)));
    c.max_percentile = static_cast<float>(p);
  }
  if (const Field f = field(kSec, "per_channel"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(c.per_channel, boolean(f));
  }
  const Field f_bc = field(kSec, "bias_correction");
  if (f_bc.given()) {
    QMAP_ASSIGN_OR_RETURN(c.bias_correction, auto_mode(f_bc));
  }
  if (const Field f = field(kSec, "range_search"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(c.range_search, auto_mode(f));
    if (c.range_search == AutoMode::kOn && c.type != CalibrationType::kDefault)
      return fail(f, fmt::format("True: applies to calibration_type default (it steps along the thresholds of the "
                                 "methods default compares), not {}",
                                 calibration_type_name(c.type)));
  }

  const Field f_adaround = field(kSec, "adaround");
  if (f_adaround.given()) {
    QMAP_ASSIGN_OR_RETURN(c.adaround, boolean(f_adaround));
  }

  const Field f_cle = field(kSec, "cross_layer_equalization");
  if (f_cle.given()) {
    QMAP_ASSIGN_OR_RETURN(c.cross_layer_equalization, boolean(f_cle));
    // The loaded thresholds are the QAT model's activations; equalizing rescales channels.
    if (c.cross_layer_equalization && c.type == CalibrationType::kLoad)
      return fail(f_cle, "True: calibration_type load takes the activations' thresholds from the QAT model, and "
                         "cross-layer equalization rescales those activations' channels");
  }

  const Field f_budget = field(kSec, "accuracy_budget");
  if (f_budget.given()) {
    QMAP_ASSIGN_OR_RETURN(const double b, number(f_budget));
    if (!(b > 0 && b < 1))
      return fail(f_budget, fmt::format("{}: the least mean output cosine against the float model, in (0, 1), e.g. "
                                        "0.999",
                                        b));
    if (!needs_data)
      return fail(f_budget, fmt::format("{}: needs calibration data (cal_data_dir) to measure the output cosine on, "
                                        "and calibration_type {} has none",
                                        b, calibration_type_name(c.type)));
    c.accuracy_budget = b;
  }
  const Field f_bprec = field(kSec, "accuracy_budget_precision");
  if (f_bprec.given()) {
    QMAP_ASSIGN_OR_RETURN(const std::string v, text(f_bprec));
    if (v == "int16") c.accuracy_budget_int16 = true;
    else if (v == "float") c.accuracy_budget_int16 = false;
    else return fail(f_bprec, fmt::format("'{}': int16 (int16 outputs on the NPU where a node can have one, else "
                                          "float on the CPU) or float",
                                          v));
    if (!c.accuracy_budget)
      return fail(f_bprec, fmt::format("'{}': applies to accuracy_budget, which is not set", v));
  }

  const Field f_opt = field(kSec, "optimization");
  QMAP_ASSIGN_OR_RETURN(std::vector<std::string> opts, items(f_opt, ','));
  std::vector<std::string> known = {kModelOutputInt8, kBiasCorrection, kAdaRound};
  for (const UnsupportedKey& u : kUnsupportedOptimizations) known.emplace_back(u.key);
  for (const std::string& o : opts) {
    if (is_none(o)) continue;
    if (o == kModelOutputInt8) {
      c.model_output_int8 = true;
      continue;
    }
    if (o == kAdaRound) {
      if (f_adaround.given() && !c.adaround)
        return fail(f_opt, "'adaround' contradicts calibration_parameters.adaround: False");
      c.adaround = true;
      continue;
    }
    if (o == kBiasCorrection) {
      if (c.bias_correction == AutoMode::kOff)
        return fail(f_opt, "'bias_correction' contradicts calibration_parameters.bias_correction: False");
      c.bias_correction = AutoMode::kOn;
      continue;
    }
    const auto* u = std::find_if(std::begin(kUnsupportedOptimizations), std::end(kUnsupportedOptimizations),
                                 [&](const UnsupportedKey& x) { return o == x.key; });
    if (u != std::end(kUnsupportedOptimizations))
      return fail(f_opt, fmt::format("'{}' is not supported by qmap: {}", o, u->reason));
    const std::optional<std::string> near = closest_name(o, known);
    return fail(f_opt, fmt::format("'{}' is not a known optimization: qmap supports {}, {}, {}{}", o, kModelOutputInt8,
                                   kBiasCorrection, kAdaRound,
                                   near ? fmt::format(" (did you mean '{}'?)", *near) : ""));
  }
  if (c.adaround && !needs_data)
    return fail(f_adaround.given() ? f_adaround : f_opt,
                fmt::format("'adaround' needs calibration data (cal_data_dir) to round the weights on, and "
                            "calibration_type {} has none",
                            calibration_type_name(c.type)));
  return read_node_lists();
}

// run_on_cpu, run_on_npu (alias run_on_bpu) and model_parameters.node_info's ON.
Status ConfigReader::read_node_lists() {
  CalibrationParameters& c = cfg_.calibration;
  std::map<std::string, std::pair<bool, Field>> placed;  // node -> (on NPU, where it was said)
  const auto place = [&](const std::string& node, bool npu, const Field& f) -> Status {
    const auto [it, inserted] = placed.try_emplace(node, npu, f);
    if (inserted) {
      (npu ? c.run_on_npu : c.run_on_cpu).push_back(node);
      return ok_status();
    }
    if (it->second.first == npu) return ok_status();  // said twice, same place
    const Field& first = it->second.second;
    return fail(f, fmt::format("node '{}' is put on the {} here and on the {} by '{}' (line {})", node,
                               npu ? "NPU" : "CPU", npu ? "CPU" : "NPU", first.path, first.line));
  };
  for (const auto& [key, npu] : {std::pair{"run_on_cpu", false}, std::pair{"run_on_npu", true},
                                 std::pair{"run_on_bpu", true}}) {
    const Field f = field("calibration_parameters", key);
    QMAP_ASSIGN_OR_RETURN(const std::vector<std::string> nodes, items(f));
    for (const std::string& node : nodes)
      if (!is_none(node)) QMAP_RETURN_IF_ERROR(place(node, npu, f));
  }

  // node_info: {node: {ON: BPU|NPU|CPU, InputType: int8, OutputType: int8|int16}}.
  const Field f_info = field("model_parameters", "node_info");
  if (!f_info.given()) return ok_status();
  if (!f_info.value.IsMap()) return fail(f_info, "must be a map: {node name: {ON: NPU or CPU}}");
  for (const auto& kv : f_info.value) {
    const std::string node = kv.first.Scalar();
    Field entry{f_info.path + "." + node, kv.second, kv.first.Mark().line + 1};
    if (!kv.second.IsMap()) return fail(entry, "must be a map such as {ON: CPU}");
    for (const auto& attr : kv.second) {
      const std::string a = attr.first.Scalar();
      const Field f{entry.path + "." + a, attr.second, attr.first.Mark().line + 1};
      QMAP_ASSIGN_OR_RETURN(const std::string v, text(f));
      if (a == "ON") {
        QMAP_ASSIGN_OR_RETURN(const bool npu, choice(f, v, kNodePlacements));
        QMAP_RETURN_IF_ERROR(place(node, npu, f));
      } else if (a == "OutputType") {
        if (v == "int16") {
          if (std::find(c.int16_outputs.begin(), c.int16_outputs.end(), node) == c.int16_outputs.end())
            c.int16_outputs.push_back(node);
        } else if (v != "int8") {
          return fail(f, fmt::format("'{}' is not supported by qmap: an output is int8 or int16", v));
        }
      } else if (a == "InputType") {
        if (v == "int16")
          return fail(f, "'int16': qmap makes a unit's output int16, not one reader's input: give OutputType: int16 "
                         "to the node that produces this input");
        if (v != "int8") return fail(f, fmt::format("'{}' is not supported by qmap: an input is int8", v));
      } else {
        return fail(f, "unknown node_info attribute: allowed are ON, InputType, OutputType");
      }
    }
  }
  return ok_status();
}

// ---------------------------------------------------------------------------------------
// compiler_parameters

Status ConfigReader::read_compiler() {
  const std::string kSec = "compiler_parameters";
  CompilerParameters& c = cfg_.compiler;
  if (const Field f = field(kSec, "compile_mode"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(const std::string s, text(f));
    QMAP_ASSIGN_OR_RETURN(c.compile_mode, choice(f, s, kCompileModes));
    no_effect(f, "qmap's code generator has one schedule, the same .bin for latency, bandwidth and balance");
  }
  if (const Field f = field(kSec, "balance_factor"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(const int64_t v, integer(f, 0, 100, "must be in 0..100 (0 = bandwidth, 100 = latency)"));
    if (c.compile_mode != CompileMode::kBalance)
      warn(f, fmt::format("ignored: applies to compile_mode balance, not {}", compile_mode_name(c.compile_mode)));
    c.balance_factor = static_cast<int>(v);
    if (c.compile_mode == CompileMode::kBalance) no_effect(f, "it weighs compile_mode balance, which has none");
  }
  if (const Field f = field(kSec, "debug"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(c.debug, boolean(f));
    no_effect(f, "qmap's code generator has no debug mode; `qmap perf` and `qmap info` read any .bin");
  }
  if (const Field f = field(kSec, "optimize_level"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(const std::string s, text(f));
    QMAP_ASSIGN_OR_RETURN(c.optimize_level, choice(f, s, kOptimizeLevels));
    no_effect(f, "qmap's code generator has one optimization level");
  }
  if (const Field f = field(kSec, "core_num"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(const int64_t v, integer(f, 1, 64, "must be in 1..64"));
    c.core_num = static_cast<int>(v);
    no_effect(f, "the .bin is not split over NPU cores; qmap's runtime spreads work over CPU threads");
  }
  if (const Field f = field(kSec, "jobs"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(const int64_t v, integer(f, 1, 1024, "must be in 1..1024 (leave it out for one job "
                                                                "per hardware thread)"));
    c.jobs = static_cast<int>(v);
  }
  if (const Field f = field(kSec, "max_time_per_fc"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(c.max_time_per_fc,
                          integer(f, 0, 4294967295LL, "must be 0 (no limit) or 1000..4294967295 microseconds"));
    if (c.max_time_per_fc != 0 && c.max_time_per_fc < 1000)
      return fail(f, fmt::format("{}: must be 0 (no limit) or 1000..4294967295 microseconds", c.max_time_per_fc));
    no_effect(f, "qmap's runtime runs a model to the end; it has no pre-emption between function calls");
  }
  if (const Field f = field(kSec, "advice"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(c.advice, number(f));
    if (c.advice < 0) return fail(f, fmt::format("{}: must be >= 0 microseconds (0 = off)", c.advice));
    no_effect(f, "`qmap perf` reports every layer's estimated time instead");
  }
  // `none` (or an empty value) is an absent value to the other keys; here it means no ISA.
  if (const Field f = field(kSec, "prepack"); f.present() && !f.given()) c.prepack.clear();
  if (const Field f = field(kSec, "prepack"); f.given()) {
    QMAP_ASSIGN_OR_RETURN(std::vector<std::string> names, items(f, ','));
    c.prepack.clear();
    const std::vector<kernels::Isa> have = kernels::host_isas();
    std::string have_text;
    for (kernels::Isa i : have) have_text += std::string(have_text.empty() ? "" : ", ") + kernels::isa_name(i);
    for (const std::string& name : names) {
      if (names.size() == 1 && name == "host") {
        c.prepack = {kernels::best_host_isa()};
        break;
      }
      kernels::Isa isa{};
      std::string err;
      if (name != "avx2" && name != "avxvnni" && name != "avx512vnni")
        return fail(f, fmt::format("'{}': not an ISA with packed kernels (avx2, avxvnni, avx512vnni), nor host or none",
                                   name));
      if (!kernels::parse_isa(name, &isa, &err))
        return fail(f, fmt::format("'{}': this CPU has no {} ({}), and packing runs that ISA's kernel code: run "
                                   "makertbin on a machine that has it, or leave {} out",
                                   name, name, have_text, name));
      if (std::find(c.prepack.begin(), c.prepack.end(), isa) == c.prepack.end()) c.prepack.push_back(isa);
    }
  }
  if (const Field f = field(kSec, "hbdk3_compatible_mode"); f.given()) {
    QMAP_RETURN_IF_ERROR(boolean(f).status());
    no_effect(f, "it selects an older Horizon compiler's output format; qmap writes its own .bin");
  }
  if (const Field f = field(kSec, "extra_params"); f.given()) {
    if (!f.value.IsMap()) return fail(f, "must be a map of compiler options");
    no_effect(f, "these are options of Horizon's compiler, which qmap does not run");
  }
  const Field f_src = field(kSec, "input_source");
  if (!f_src.given()) return ok_status();
  if (!f_src.value.IsMap()) return fail(f_src, "must be a map {input name: ddr, pyramid or resizer}");
  for (const auto& kv : f_src.value) {
    const std::string name = kv.first.Scalar();
    const Field f{f_src.path + "." + name, kv.second, kv.first.Mark().line + 1};
    const auto it = std::find_if(cfg_.inputs.begin(), cfg_.inputs.end(), [&](const InputSpec& s) {
      return s.name == name || (cfg_.inputs.size() == 1 && s.name.empty());
    });
    if (it == cfg_.inputs.end()) {
      std::vector<std::string> names;
      for (const InputSpec& s : cfg_.inputs) names.push_back(s.name);
      return fail(f, fmt::format("'{}' is not an input of input_parameters.input_name ({})", name,
                                 fmt::join(names, ", ")));
    }
    QMAP_ASSIGN_OR_RETURN(const std::string v, text(f));
    QMAP_ASSIGN_OR_RETURN(const InputSource src, choice(f, v, kInputSources));
    if (src != InputSource::kDdr && it->type_rt != ColorType::kNv12 && it->type_rt != ColorType::kGray)
      return fail(f, fmt::format("'{}' delivers nv12 or gray images, but input_type_rt is {}", v,
                                 color_type_name(it->type_rt)));
    c.input_source[name] = src;
  }
  no_effect(f_src, "qmap's runtime takes every input from a buffer the application passes");
  return ok_status();
}

// hb_mapper's custom_op section: plugins to load (docs/custom-op.md). custom_op_method is
// `register` (hb_mapper's only method); each op_register_files entry is a plugin library,
// relative to custom_op_dir (itself relative to the YAML; default: the YAML's directory).
Status ConfigReader::read_custom_op() {
  const std::string kSec = "custom_op";
  const Field method = field(kSec, "custom_op_method");
  const Field files = field(kSec, "op_register_files");
  const Field dir = field(kSec, "custom_op_dir");
  if (!method.given() && !files.given() && !dir.given()) return ok_status();  // absent or an empty template section
  if (method.given()) {
    QMAP_ASSIGN_OR_RETURN(const std::string m, text(method));
    if (m != "register") return fail(method, fmt::format("'{}' is not allowed: allowed values are register", m));
  }
  QMAP_ASSIGN_OR_RETURN(std::vector<std::string> libs, items(files));
  std::erase_if(libs, [](const std::string& s) { return s.empty(); });
  if (libs.empty())
    return missing(files.path, "the plugin libraries (.so) that define the custom ops, e.g. [libmyops.so]");
  fs::path base = base_dir_;
  if (dir.given()) {
    QMAP_ASSIGN_OR_RETURN(const std::string d, text(dir));
    base = fs::path(resolve(d));
  }
  for (const std::string& lib : libs) {
    const fs::path p(lib);
    cfg_.custom_op_libs.push_back(p.is_absolute() ? p.string() : (base / p).lexically_normal().string());
  }
  return ok_status();
}

Result<MakertbinConfig> ConfigReader::read(std::string_view text) {
  cfg_.yaml_text = std::string(text);
  try {
    root_ = YAML::Load(cfg_.yaml_text);
  } catch (const YAML::Exception& e) {
    return error("config '{}': line {}: invalid YAML: {}", source_, e.mark.line + 1, e.msg);
  }
  // The readers check node kinds before converting, so yaml-cpp should not throw; if it
  // does on some input we did not foresee, it is still an error about the config, not a crash.
  try {
    QMAP_RETURN_IF_ERROR(check_root(root_));
    if (!section_node("model_parameters").IsMap())
      return missing("model_parameters", "the section naming the model and the march");
    if (!section_node("input_parameters").IsMap())
      return missing("input_parameters", "the section describing the model inputs");
    QMAP_RETURN_IF_ERROR(read_model());
    QMAP_RETURN_IF_ERROR(read_inputs());
    QMAP_RETURN_IF_ERROR(read_calibration());
    QMAP_RETURN_IF_ERROR(read_compiler());
    QMAP_RETURN_IF_ERROR(read_custom_op());
  } catch (const YAML::Exception& e) {
    return error("config '{}': line {}: unreadable value: {}", source_, e.mark.line + 1, e.msg);
  }
  return std::move(cfg_);
}

}  // namespace

const char* model_type_name(ModelType t) { return name_of(kModelTypes, t); }
std::optional<ModelType> parse_model_type(const std::string& s) { return parse_name(kModelTypes, s); }
const char* calibration_type_name(CalibrationType t) { return name_of(kCalibrationTypes, t); }
const char* compile_mode_name(CompileMode m) { return name_of(kCompileModes, m); }
const char* input_source_name(InputSource s) { return name_of(kInputSources, s); }

Result<MakertbinConfig> parse_makertbin_config(std::string_view yaml_text, const std::string& source_name,
                                               ModelType model_type) {
  return ConfigReader(source_name, model_type).read(yaml_text);
}

Status check_config_paths(const MakertbinConfig& config) {
  std::error_code ec;
  const auto check = [&](const char* key, const std::string& path, bool directory) -> Status {
    if (path.empty()) return ok_status();
    if (!fs::exists(path, ec))
      return error("config '{}': key '{}': '{}' does not exist", config.source, key, path);
    if (directory != fs::is_directory(path, ec))
      return error("config '{}': key '{}': '{}' is {}, expected a {}", config.source, key, path,
                   directory ? "a file" : "a directory", directory ? "directory" : "file");
    return ok_status();
  };
  QMAP_RETURN_IF_ERROR(check("model_parameters.onnx_model", config.model.onnx_model, false));
  QMAP_RETURN_IF_ERROR(check("model_parameters.prototxt", config.model.prototxt, false));
  QMAP_RETURN_IF_ERROR(check("model_parameters.caffe_model", config.model.caffe_model, false));
  const std::vector<std::string> builtin = embedded_target_names();
  if (std::find(builtin.begin(), builtin.end(), config.model.march) == builtin.end())
    QMAP_RETURN_IF_ERROR(check("model_parameters.march", config.model.march, false));
  for (const std::string& dir : config.calibration.cal_data_dirs)
    QMAP_RETURN_IF_ERROR(check("calibration_parameters.cal_data_dir", dir, true));
  for (const std::string& lib : config.custom_op_libs)
    QMAP_RETURN_IF_ERROR(check("custom_op.op_register_files", lib, false));
  return ok_status();
}

Result<MakertbinConfig> load_makertbin_config(const std::string& path, ModelType model_type) {
  Result<std::string> text = read_file(path);
  if (!text.ok()) return text.status().with_context("config: ");
  QMAP_ASSIGN_OR_RETURN(MakertbinConfig cfg, parse_makertbin_config(*text, path, model_type));
  QMAP_RETURN_IF_ERROR(check_config_paths(cfg));
  return cfg;
}

Result<std::vector<InputSpec>> parse_stored_input_specs(std::string_view yaml_text, const std::string& source) {
  auto cfg = parse_makertbin_config(yaml_text, source, ModelType::kOnnx);
  if (!cfg.ok()) {
    auto caffe = parse_makertbin_config(yaml_text, source, ModelType::kCaffe);
    if (!caffe.ok()) return cfg.status();
    return std::move(caffe->inputs);
  }
  return std::move(cfg->inputs);
}

}  // namespace qmap
