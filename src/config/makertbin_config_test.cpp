// makertbin YAML config: a full valid config, defaults, hb_mapper's value spellings,
// multiple inputs, path resolution against the YAML's directory, one case per error class
// (each message must name the key, the value and the rule) and the file-system checks.
#include "config/makertbin_config.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>

namespace qmap {
namespace {

namespace fs = std::filesystem;

// MobileNetV2 as hb_mapper users write it: every key spelled the hb_mapper way.
constexpr const char* kFull = R"(# MobileNetV2, nv12 camera input
model_parameters:
  onnx_model: 'mobilenetv2.onnx'
  march: "generic"
  output_model_file_prefix: 'mobilenetv2_224x224_nv12'
  working_dir: './out'
  layer_out_dump: False
  log_level: 'debug'
  output_nodes: 'conv_10;pool'
  remove_node_type: "Quantize; Dequantize"
  node_info: {"conv_3": {'ON': 'CPU', 'InputType': 'int8'}}
input_parameters:
  input_name: 'input'
  input_type_rt: 'nv12'
  input_type_train: 'rgb'
  input_layout_train: 'NCHW'
  input_shape: '1x3x224x224'
  input_space_and_range: 'bt601_video'
  norm_type: 'data_mean_and_scale'
  mean_value: 123.675 116.28 103.53
  scale_value: '0.01712 0.0175 0.01743'
calibration_parameters:
  cal_data_dir: './calibration_data_rgb_f32'
  cal_data_type: 'float32'
  preprocess_on: False
  calibration_type: 'max'
  max_percentile: 0.99995
  per_channel: 'True'
  run_on_cpu: 'conv_1;conv_2'
  run_on_bpu: 'softmax'
  optimization: set_model_output_int8
compiler_parameters:
  compile_mode: 'balance'
  balance_factor: 30
  debug: True
  optimize_level: 'O3'
  core_num: 2
  jobs: 4
  max_time_per_fc: 1000
  advice: 10.5
  input_source: {input: pyramid}
custom_op:
)";

Result<MakertbinConfig> parse(const std::string& yaml, ModelType type = ModelType::kOnnx,
                              const std::string& source = "/proj/cfg/mobilenet.yaml") {
  return parse_makertbin_config(yaml, source, type);
}

// kFull's calibration method lines and optimization line, which the calibration key tests swap.
const std::string kMethodLines = "  calibration_type: 'max'\n  max_percentile: 0.99995\n";
const std::string kOptimizationLine = "  optimization: set_model_output_int8\n";

// `yaml` with its one `from` replaced by `to`.
std::string swapped(std::string yaml, const std::string& from, const std::string& to) {
  return yaml.replace(yaml.find(from), from.size(), to);
}

TEST(MakertbinConfig, BiasCorrectionKeyAndToken) {
  auto with = [](const std::string& lines) { return parse(swapped(kFull, kOptimizationLine, lines)); };
  for (const auto& [lines, mode] : std::vector<std::pair<std::string, AutoMode>>{
           {"  bias_correction: auto\n", AutoMode::kAuto},
           {"  bias_correction: True\n", AutoMode::kOn},
           {"  bias_correction: 'off'\n", AutoMode::kOff},
           // hb_mapper's spelling: the optimization token turns it on.
           {"  optimization: bias_correction\n", AutoMode::kOn},
           {"  optimization: 'set_model_output_int8,bias_correction'\n", AutoMode::kOn}}) {
    auto r = with(lines);
    ASSERT_TRUE(r.ok()) << lines << r.status().message();
    EXPECT_EQ(r->calibration.bias_correction, mode) << lines;
  }
}

TEST(MakertbinConfig, RangeSearchKey) {
  auto with = [](const std::string& method, const std::string& line) {
    return parse(swapped(swapped(kFull, kMethodLines, method), kOptimizationLine, line));
  };
  const std::string dflt = "  calibration_type: default\n";
  for (const auto& [line, mode] : std::vector<std::pair<std::string, AutoMode>>{
           {"", AutoMode::kAuto},  // the default
           {"  range_search: auto\n", AutoMode::kAuto},
           {"  range_search: True\n", AutoMode::kOn},
           {"  range_search: False\n", AutoMode::kOff}}) {
    auto r = with(dflt, line);
    ASSERT_TRUE(r.ok()) << line << r.status().message();
    EXPECT_EQ(r->calibration.range_search, mode) << line;
  }
  // auto and False are fine with any method (range search only runs after default's search).
  ASSERT_TRUE(with(kMethodLines, "  range_search: False\n").ok());
  auto on_kl = with("  calibration_type: kl\n", "  range_search: True\n");
  ASSERT_FALSE(on_kl.ok());
  EXPECT_NE(on_kl.status().message().find("calibration_parameters.range_search"), std::string::npos)
      << on_kl.status().message();
  EXPECT_NE(on_kl.status().message().find("not kl"), std::string::npos) << on_kl.status().message();
  auto bad = with(dflt, "  range_search: sometimes\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("'sometimes': use auto, True or False"), std::string::npos)
      << bad.status().message();
}

TEST(MakertbinConfig, NodeInfoOutputTypeInt16) {
  const std::string from = "node_info: {\"conv_3\": {'ON': 'CPU', 'InputType': 'int8'}}";
  auto r = parse(swapped(kFull, from,
                         "node_info: {\"conv_3\": {'ON': 'CPU', 'InputType': 'int8'}, conv_5: {OutputType: int16}, "
                         "conv_6: {ON: NPU, OutputType: 'int16'}, conv_7: {OutputType: int8}, "
                         "conv_5: {OutputType: int16}}"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  // In file order, once each; int8 is the default and names nothing.
  EXPECT_EQ(r->calibration.int16_outputs, (std::vector<std::string>{"conv_5", "conv_6"}));
  EXPECT_EQ(r->calibration.run_on_npu, (std::vector<std::string>{"softmax", "conv_6"}));
  auto none = parse(kFull);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->calibration.int16_outputs.empty());
}

TEST(MakertbinConfig, AccuracyBudget) {
  auto with = [](const std::string& lines) { return parse(swapped(kFull, kOptimizationLine, lines)); };
  auto none = with("");
  ASSERT_TRUE(none.ok()) << none.status().message();
  EXPECT_FALSE(none->calibration.accuracy_budget.has_value());  // unset: nothing moves
  for (const auto& [line, want] : std::vector<std::pair<std::string, double>>{
           {"  accuracy_budget: 0.999\n", 0.999}, {"  accuracy_budget: '0.9995'\n", 0.9995}}) {
    auto r = with(line);
    ASSERT_TRUE(r.ok()) << line << r.status().message();
    ASSERT_TRUE(r->calibration.accuracy_budget.has_value());
    EXPECT_DOUBLE_EQ(*r->calibration.accuracy_budget, want);
  }
  for (const std::string v : {"0", "1", "1.5", "-0.9"}) {
    auto r = with("  accuracy_budget: " + v + "\n");
    ASSERT_FALSE(r.ok()) << v;
    EXPECT_NE(r.status().message().find("calibration_parameters.accuracy_budget"), std::string::npos);
    EXPECT_NE(r.status().message().find(v + ": the least mean output cosine against the float model, in (0, 1)"),
              std::string::npos)
        << r.status().message();
  }
  auto text = with("  accuracy_budget: high\n");
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.status().message().find("calibration_parameters.accuracy_budget"), std::string::npos)
      << text.status().message();
  // Nothing to measure on without calibration data.
  auto r = parse(swapped(kFull, kMethodLines, "  calibration_type: skip\n  accuracy_budget: 0.999\n"));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("needs calibration data"), std::string::npos) << r.status().message();
}

TEST(MakertbinConfig, AccuracyBudgetPrecision) {
  auto with = [](const std::string& lines) { return parse(swapped(kFull, kOptimizationLine, lines)); };
  auto dflt = with("  accuracy_budget: 0.999\n");
  ASSERT_TRUE(dflt.ok()) << dflt.status().message();
  EXPECT_TRUE(dflt->calibration.accuracy_budget_int16);  // int16 where a node can have it
  auto fl = with("  accuracy_budget: 0.999\n  accuracy_budget_precision: float\n");
  ASSERT_TRUE(fl.ok()) << fl.status().message();
  EXPECT_FALSE(fl->calibration.accuracy_budget_int16);
  auto i16 = with("  accuracy_budget: 0.999\n  accuracy_budget_precision: int16\n");
  ASSERT_TRUE(i16.ok()) << i16.status().message();
  EXPECT_TRUE(i16->calibration.accuracy_budget_int16);
  auto bad = with("  accuracy_budget: 0.999\n  accuracy_budget_precision: fp16\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("calibration_parameters.accuracy_budget_precision"), std::string::npos)
      << bad.status().message();
  EXPECT_NE(bad.status().message().find("'fp16': int16"), std::string::npos) << bad.status().message();
  auto alone = with("  accuracy_budget_precision: float\n");
  ASSERT_FALSE(alone.ok());
  EXPECT_NE(alone.status().message().find("applies to accuracy_budget, which is not set"), std::string::npos)
      << alone.status().message();
}

TEST(MakertbinConfig, CrossLayerEqualizationKey) {
  auto with = [](const std::string& method) { return parse(swapped(kFull, kMethodLines, method)); };
  auto dflt = with("  calibration_type: default\n");
  ASSERT_TRUE(dflt.ok()) << dflt.status().message();
  EXPECT_FALSE(dflt->calibration.cross_layer_equalization);  // off by default
  auto on = with("  calibration_type: default\n  cross_layer_equalization: True\n");
  ASSERT_TRUE(on.ok()) << on.status().message();
  EXPECT_TRUE(on->calibration.cross_layer_equalization);
  auto bad = with("  calibration_type: default\n  cross_layer_equalization: maybe\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cross_layer_equalization"), std::string::npos) << bad.status().message();
  // The QAT model's thresholds are for its own (unequalized) activations.
  auto load = with("  calibration_type: load\n  cross_layer_equalization: True\n");
  ASSERT_FALSE(load.ok());
  EXPECT_NE(load.status().message().find("calibration_type load"), std::string::npos) << load.status().message();
  EXPECT_TRUE(with("  calibration_type: load\n  cross_layer_equalization: False\n").ok());
}

TEST(MakertbinConfig, AdaRoundToken) {
  auto with = [](const std::string& method, const std::string& opt) {
    return parse(swapped(swapped(kFull, kMethodLines, method), kOptimizationLine, opt));
  };
  auto dflt = with("  calibration_type: default\n", "");
  ASSERT_TRUE(dflt.ok()) << dflt.status().message();
  EXPECT_FALSE(dflt->calibration.adaround);  // off by default
  auto key_on = with("  calibration_type: default\n  adaround: True\n", "");
  ASSERT_TRUE(key_on.ok()) << key_on.status().message();
  EXPECT_TRUE(key_on->calibration.adaround);
  auto off = with("  calibration_type: default\n  adaround: False\n", "");
  ASSERT_TRUE(off.ok()) << off.status().message();
  EXPECT_FALSE(off->calibration.adaround);
  auto both = with("  calibration_type: default\n  adaround: False\n", "  optimization: adaround\n");
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("'adaround' contradicts calibration_parameters.adaround: False"),
            std::string::npos);
  // Without data there is nothing to round on: asking for it is an error.
  EXPECT_TRUE(with("  calibration_type: skip\n", "").ok());
  auto key = with("  calibration_type: skip\n  adaround: True\n", "");
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.status().message().find("calibration_parameters.adaround"), std::string::npos);
  auto on = with("  calibration_type: default\n", "  optimization: 'adaround,bias_correction'\n");
  ASSERT_TRUE(on.ok()) << on.status().message();
  EXPECT_TRUE(on->calibration.adaround);
  EXPECT_EQ(on->calibration.bias_correction, AutoMode::kOn);
  auto typo = with("  calibration_type: default\n", "  optimization: adaroud\n");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("'adaroud' is not a known optimization"), std::string::npos);
  EXPECT_NE(typo.status().message().find("did you mean 'adaround'?"), std::string::npos) << typo.status().message();
  auto skip = with("  calibration_type: skip\n", "  optimization: adaround\n");
  ASSERT_FALSE(skip.ok());
  EXPECT_NE(skip.status().message().find("calibration_parameters.optimization"), std::string::npos);
  EXPECT_NE(skip.status().message().find("'adaround' needs calibration data"), std::string::npos)
      << skip.status().message();
}

TEST(MakertbinConfig, ParsesFullConfig) {
  Result<MakertbinConfig> r = parse(kFull);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const MakertbinConfig& c = *r;
  EXPECT_EQ(c.yaml_text, kFull);
  EXPECT_EQ(c.source, "/proj/cfg/mobilenet.yaml");
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();

  EXPECT_EQ(c.model.onnx_model, "/proj/cfg/mobilenetv2.onnx");
  EXPECT_EQ(c.model.march, "generic");
  EXPECT_EQ(c.model.output_model_file_prefix, "mobilenetv2_224x224_nv12");
  EXPECT_EQ(c.model.working_dir, "/proj/cfg/out");
  EXPECT_FALSE(c.model.layer_out_dump);
  EXPECT_EQ(c.model.log_level, LogLevel::kDebug);
  EXPECT_EQ(c.model.output_nodes, (std::vector<std::string>{"conv_10", "pool"}));
  EXPECT_EQ(c.model.remove_node_type, (std::vector<std::string>{"Quantize", "Dequantize"}));

  ASSERT_EQ(c.inputs.size(), 1u);
  const InputSpec& in = c.inputs[0];
  EXPECT_EQ(in.name, "input");
  EXPECT_EQ(in.type_rt, ColorType::kNv12);
  EXPECT_EQ(in.type_train, ColorType::kRgb);
  EXPECT_EQ(in.layout_train, Layout::kNCHW);
  EXPECT_EQ(in.layout_rt, Layout::kNHWC);  // nv12's yuv444 stand-in is NHWC
  EXPECT_EQ(in.shape, (std::vector<int64_t>{1, 3, 224, 224}));
  EXPECT_EQ(in.range, ColorRange::kBt601Video);
  EXPECT_EQ(in.norm, NormType::kMeanAndScale);
  EXPECT_EQ(in.mean, (std::vector<float>{123.675f, 116.28f, 103.53f}));
  EXPECT_EQ(in.scale, (std::vector<float>{0.01712f, 0.0175f, 0.01743f}));

  const CalibrationParameters& cal = c.calibration;
  EXPECT_EQ(cal.cal_data_dirs, (std::vector<std::string>{"/proj/cfg/calibration_data_rgb_f32"}));
  EXPECT_EQ(cal.cal_data_types, (std::vector<std::string>{"float32"}));
  EXPECT_FALSE(cal.preprocess_on);
  EXPECT_EQ(cal.type, CalibrationType::kMax);
  ASSERT_TRUE(cal.max_percentile.has_value());
  EXPECT_FLOAT_EQ(*cal.max_percentile, 0.99995f);
  EXPECT_TRUE(cal.per_channel);
  // run_on_cpu first, then node_info's ON: CPU; run_on_bpu is run_on_npu.
  EXPECT_EQ(cal.run_on_cpu, (std::vector<std::string>{"conv_1", "conv_2", "conv_3"}));
  EXPECT_EQ(cal.run_on_npu, (std::vector<std::string>{"softmax"}));
  EXPECT_TRUE(cal.model_output_int8);
  EXPECT_EQ(cal.bias_correction, AutoMode::kAuto);  // the default

  const CompilerParameters& cc = c.compiler;
  EXPECT_EQ(cc.compile_mode, CompileMode::kBalance);
  EXPECT_EQ(cc.balance_factor, 30);
  EXPECT_TRUE(cc.debug);
  EXPECT_EQ(cc.optimize_level, 3);
  EXPECT_EQ(cc.core_num, 2);
  EXPECT_EQ(cc.jobs, 4);
  EXPECT_EQ(cc.max_time_per_fc, 1000);
  EXPECT_DOUBLE_EQ(cc.advice, 10.5);
  ASSERT_EQ(cc.input_source.size(), 1u);
  EXPECT_EQ(cc.input_source.at("input"), InputSource::kPyramid);
}

// The least a config can say; everything else takes its documented default.
constexpr const char* kMinimal = R"(
model_parameters:
  onnx_model: m.onnx
  march: generic
input_parameters:
  input_type_rt: featuremap
  input_type_train: featuremap
calibration_parameters:
  cal_data_dir: data
)";

TEST(MakertbinConfig, Defaults) {
  Result<MakertbinConfig> r = parse(kMinimal);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const MakertbinConfig& c = *r;
  EXPECT_EQ(c.model.output_model_file_prefix, "model");
  EXPECT_EQ(c.model.working_dir, "/proj/cfg/model_output");
  EXPECT_FALSE(c.model.layer_out_dump);
  EXPECT_EQ(c.model.log_level, LogLevel::kInfo);
  ASSERT_EQ(c.inputs.size(), 1u);
  const InputSpec& in = c.inputs[0];
  EXPECT_EQ(in.name, "");  // the model's only input
  EXPECT_TRUE(in.shape.empty());
  EXPECT_EQ(in.layout_train, Layout::kNCHW);
  EXPECT_EQ(in.layout_rt, Layout::kNCHW);
  EXPECT_EQ(in.range, ColorRange::kRegular);
  EXPECT_EQ(in.norm, NormType::kNone);
  EXPECT_FALSE(in.is_image());
  EXPECT_EQ(c.calibration.type, CalibrationType::kDefault);
  EXPECT_TRUE(c.calibration.cal_data_types.empty());  // decided by the _f32 suffix
  EXPECT_FALSE(c.calibration.preprocess_on);
  EXPECT_FALSE(c.calibration.max_percentile.has_value());
  EXPECT_TRUE(c.calibration.per_channel);
  EXPECT_FALSE(c.calibration.model_output_int8);
  EXPECT_EQ(c.compiler.compile_mode, CompileMode::kLatency);
  EXPECT_FALSE(c.compiler.debug);
  EXPECT_EQ(c.compiler.optimize_level, 0);
  EXPECT_EQ(c.compiler.core_num, 1);
  EXPECT_EQ(c.compiler.jobs, 0);
  EXPECT_EQ(c.compiler.max_time_per_fc, 0);
  EXPECT_TRUE(c.compiler.input_source.empty());
}

TEST(MakertbinConfig, CaffeLenetGray) {
  const std::string yaml = R"(
model_parameters:
  prototxt: lenet.prototxt
  caffe_model: lenet.caffemodel
  march: generic
input_parameters:
  input_name: data
  input_type_rt: gray
  input_type_train: gray
  input_layout_rt: NHWC
  input_layout_train: NCHW
  input_shape: 1,1,28,28
  norm_type: data_scale
  scale_value: 0.00390625
calibration_parameters:
  cal_data_dir: mnist
  cal_data_type: uint8
  calibration_type: kl
)";
  Result<MakertbinConfig> r = parse(yaml, ModelType::kCaffe, "lenet.yaml");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->model_type, ModelType::kCaffe);
  EXPECT_EQ(r->model.prototxt, "lenet.prototxt");  // no directory in the source: as written
  EXPECT_EQ(r->model.caffe_model, "lenet.caffemodel");
  EXPECT_EQ(r->model.working_dir, "model_output");
  const InputSpec& in = r->inputs.at(0);
  EXPECT_EQ(in.type_rt, ColorType::kGray);
  EXPECT_EQ(in.layout_rt, Layout::kNHWC);
  EXPECT_EQ(in.shape, (std::vector<int64_t>{1, 1, 28, 28}));
  EXPECT_EQ(in.scale, (std::vector<float>{0.00390625f}));
  EXPECT_TRUE(in.mean.empty());
  EXPECT_EQ(r->calibration.type, CalibrationType::kKl);
  EXPECT_EQ(r->calibration.cal_data_types, (std::vector<std::string>{"uint8"}));
}

TEST(MakertbinConfig, MultipleInputs) {
  // Semicolon lists with spaces, a None entry, YAML lists, one list per input.
  const std::string yaml = R"(
model_parameters: {onnx_model: m.onnx, march: generic}
input_parameters:
  input_name: "img ; feat;mask"
  input_type_rt: [bgr, featuremap, featuremap]
  input_type_train: 'rgb; featuremap; featuremap'
  input_layout_train: 'NHWC;NCHW;None'
  input_layout_rt: 'NCHW;;'
  input_shape: ['1x64x64x3', [1, 16], '']
  norm_type: 'data_mean; no_preprocess; no_preprocess'
  mean_value: '127.5;;'
calibration_parameters:
  cal_data_dir: ['a', '/abs/b', '../c']
  cal_data_type: 'uint8; float32;'
  run_on_npu: [n1, n2]
  run_on_cpu: n3
)";
  Result<MakertbinConfig> r = parse(yaml);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->inputs.size(), 3u);
  const InputSpec& img = r->inputs[0];
  EXPECT_EQ(img.name, "img");
  EXPECT_EQ(img.type_rt, ColorType::kBgr);
  EXPECT_EQ(img.type_train, ColorType::kRgb);
  EXPECT_EQ(img.layout_train, Layout::kNHWC);
  EXPECT_EQ(img.layout_rt, Layout::kNCHW);
  EXPECT_EQ(img.shape, (std::vector<int64_t>{1, 64, 64, 3}));
  EXPECT_EQ(img.norm, NormType::kMean);
  EXPECT_EQ(img.mean, (std::vector<float>{127.5f}));
  const InputSpec& feat = r->inputs[1];
  EXPECT_EQ(feat.name, "feat");
  EXPECT_FALSE(feat.is_image());
  EXPECT_EQ(feat.shape, (std::vector<int64_t>{1, 16}));  // featuremaps may be any rank
  EXPECT_EQ(r->inputs[2].name, "mask");
  EXPECT_TRUE(r->inputs[2].shape.empty());
  EXPECT_EQ(r->calibration.cal_data_dirs, (std::vector<std::string>{"/proj/cfg/a", "/abs/b", "/proj/c"}));
  EXPECT_EQ(r->calibration.cal_data_types, (std::vector<std::string>{"uint8", "float32", ""}));
  EXPECT_EQ(r->calibration.run_on_npu, (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(r->calibration.run_on_cpu, (std::vector<std::string>{"n3"}));
}

TEST(MakertbinConfig, ValueSpellings) {
  // mean as a YAML list, shape as a list of ints, booleans as yes/no, None for defaults.
  const std::string yaml = R"(
model_parameters:
  onnx_model: m.onnx
  march: generic
  layer_out_dump: yes
  output_nodes: None
  working_dir: /tmp/out
input_parameters:
  input_name: ''
  input_type_rt: rgb
  input_type_train: bgr
  input_layout_train: NCHW
  input_shape: [1, 3, 8, 8]
  norm_type: data_mean_and_scale
  mean_value: [1, 2.5, 3]
  scale_value: 0.5
calibration_parameters:
  calibration_type: skip
  per_channel: False
  optimization: None
compiler_parameters:
  debug: off
)";
  Result<MakertbinConfig> r = parse(yaml);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->model.layer_out_dump);
  EXPECT_TRUE(r->model.output_nodes.empty());
  EXPECT_EQ(r->model.working_dir, "/tmp/out");  // absolute paths are kept
  EXPECT_EQ(r->inputs[0].shape, (std::vector<int64_t>{1, 3, 8, 8}));
  EXPECT_EQ(r->inputs[0].mean, (std::vector<float>{1.f, 2.5f, 3.f}));
  EXPECT_EQ(r->inputs[0].scale, (std::vector<float>{0.5f}));
  EXPECT_EQ(r->calibration.type, CalibrationType::kSkip);
  EXPECT_TRUE(r->calibration.cal_data_dirs.empty());  // skip needs no data
  EXPECT_FALSE(r->calibration.per_channel);
  EXPECT_FALSE(r->compiler.debug);
}

TEST(MakertbinConfig, WarnsAboutIgnoredKeys) {
  std::string yaml = kFull;
  yaml.replace(yaml.find("data_mean_and_scale"), 19, "data_scale");
  yaml.replace(yaml.find("calibration_type: 'max'"), 23, "calibration_type: 'load'");
  yaml.replace(yaml.find("  max_percentile: 0.99995\n"), 26, "");
  yaml.replace(yaml.find("'balance'"), 9, "'latency'");
  Result<MakertbinConfig> r = parse(yaml);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->warnings.size(), 3u);
  EXPECT_NE(r->warnings[0].find("key 'input_parameters.mean_value' (line 20): input 'input': ignored: norm_type "
                                "'data_scale' does not use it"),
            std::string::npos)
      << r->warnings[0];
  EXPECT_NE(r->warnings[1].find("cal_data_dir' (line 23): ignored: calibration_type load"), std::string::npos)
      << r->warnings[1];
  EXPECT_NE(r->warnings[2].find("balance_factor' (line 33): ignored"), std::string::npos) << r->warnings[2];
  EXPECT_TRUE(r->inputs[0].mean.empty());
}

// hb_mapper accepts input_layout_rt beside nv12 and ignores it; so does qmap, with a
// warning naming the key, its line and the value (many published configs write it).
TEST(MakertbinConfig, Nv12LayoutRtIsIgnoredWithAWarning) {
  for (const char* layout : {"NCHW", "NHWC"}) {
    std::string yaml = kFull;
    yaml.replace(yaml.find("  input_type_train:"), 0, std::string("  input_layout_rt: '") + layout + "'\n");
    Result<MakertbinConfig> r = parse(yaml);
    ASSERT_TRUE(r.ok()) << layout << ": " << r.status().message();
    EXPECT_EQ(r->inputs.at(0).layout_rt, Layout::kNHWC) << layout;  // the yuv444 stand-in's layout
    ASSERT_EQ(r->warnings.size(), 1u) << layout;
    EXPECT_NE(r->warnings[0].find(std::string("key 'input_parameters.input_layout_rt' (line 15): input 'input': '") +
                                  layout + "' ignored: nv12 has no layout"),
              std::string::npos)
        << r->warnings[0];
  }
  // A bad value is still an error, nv12 or not.
  std::string yaml = kFull;
  yaml.replace(yaml.find("  input_type_train:"), 0, "  input_layout_rt: 'NWHC'\n");
  Result<MakertbinConfig> r = parse(yaml);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input_layout_rt' (line 15): input 'input': 'NWHC' is not allowed"),
            std::string::npos)
      << r.status().message();
}

// Multi-input values as hb_mapper's templates write them: every per-input key ends with ';'
// ('a;b;'), which closes the list instead of adding an empty third entry.
TEST(MakertbinConfig, TrailingSemicolonClosesPerInputLists) {
  const std::string yaml = R"(
model_parameters: {onnx_model: m.onnx, march: generic}
input_parameters:
  input_name: 'img;feat;'
  input_type_rt: 'nv12;featuremap;'
  input_layout_rt: 'NHWC;NCHW;'
  input_type_train: 'bgr;featuremap;'
  input_layout_train: 'NCHW;NCHW;'
  input_space_and_range: 'regular;;'
  input_shape: '1x3x16x16;1x8x1x1;'
  norm_type: 'data_mean_and_scale;no_preprocess;'
  mean_value: '128 127 126;'
  scale_value: '0.0078125;'
calibration_parameters:
  cal_data_dir: 'd1;d2;'
  cal_data_type: 'uint8;float32;'
)";
  Result<MakertbinConfig> r = parse(yaml);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->inputs.size(), 2u);
  const InputSpec& img = r->inputs[0];
  EXPECT_EQ(img.name, "img");
  EXPECT_EQ(img.type_rt, ColorType::kNv12);
  EXPECT_EQ(img.type_train, ColorType::kBgr);
  EXPECT_EQ(img.shape, (std::vector<int64_t>{1, 3, 16, 16}));
  EXPECT_EQ(img.norm, NormType::kMeanAndScale);
  EXPECT_EQ(img.mean, (std::vector<float>{128.f, 127.f, 126.f}));
  EXPECT_EQ(img.scale, (std::vector<float>{0.0078125f}));  // one scale for all three channels
  const InputSpec& feat = r->inputs[1];
  EXPECT_EQ(feat.name, "feat");
  EXPECT_EQ(feat.type_rt, ColorType::kFeaturemap);
  EXPECT_EQ(feat.shape, (std::vector<int64_t>{1, 8, 1, 1}));
  EXPECT_EQ(feat.norm, NormType::kNone);
  EXPECT_EQ(r->calibration.cal_data_dirs, (std::vector<std::string>{"/proj/cfg/d1", "/proj/cfg/d2"}));
  EXPECT_EQ(r->calibration.cal_data_types, (std::vector<std::string>{"uint8", "float32"}));
  ASSERT_EQ(r->warnings.size(), 1u);  // input_layout_rt beside nv12
  EXPECT_NE(r->warnings[0].find("input 'img': 'NHWC' ignored"), std::string::npos) << r->warnings[0];

  // One input with hb_mapper's 'data;' spelling everywhere.
  const std::string one = R"(
model_parameters: {onnx_model: m.onnx, march: generic}
input_parameters:
  input_name: 'data;'
  input_type_rt: 'featuremap;'
  input_type_train: 'featuremap;'
  norm_type: 'no_preprocess;'
calibration_parameters: {cal_data_dir: 'calib;'}
)";
  r = parse(one);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->inputs.size(), 1u);
  EXPECT_EQ(r->inputs[0].name, "data");
  EXPECT_EQ(r->calibration.cal_data_dirs, (std::vector<std::string>{"/proj/cfg/calib"}));
}

// A trailing ';' never hides a real count mismatch or a missing entry.
TEST(MakertbinConfig, TrailingSemicolonKeepsCountChecks) {
  const std::string head =
      "model_parameters: {onnx_model: m.onnx, march: generic}\n"
      "input_parameters:\n  input_name: 'a;b;'\n  input_type_rt: 'featuremap;featuremap;'\n"
      "  input_type_train: 'featuremap;featuremap;'\n";
  const std::vector<std::pair<std::string, std::string>> cases = {  // rest of the YAML, expected substring
      {"calibration_parameters: {cal_data_dir: 'd1;'}\n",
       "key 'calibration_parameters.cal_data_dir' (line 6): input 'b': no directory"},
      {"calibration_parameters: {cal_data_dir: 'd1;d2;d3;'}\n",
       "cal_data_dir' (line 6): 4 values 'd1; d2; d3; ' for 2 inputs (input_name 'a; b')"},
      {"  norm_type: 'no_preprocess;no_preprocess;no_preprocess;'\ncalibration_parameters: {cal_data_dir: 'x;y;'}\n",
       "input_parameters.norm_type' (line 6): 4 values"},
      {"  input_shape: '1x2;3;4;'\ncalibration_parameters: {cal_data_dir: 'x;y'}\n",
       "input_parameters.input_shape' (line 6): 4 values '1 2; 3; 4; '"},
  };
  for (const auto& [rest, expect] : cases) {
    Result<MakertbinConfig> r = parse(head + rest);
    ASSERT_FALSE(r.ok()) << "accepted:\n" << rest;
    EXPECT_NE(r.status().message().find(expect), std::string::npos) << r.status().message();
  }
  // 'a;b;;' is three inputs, the third without a name.
  Result<MakertbinConfig> r = parse(
      "model_parameters: {onnx_model: m.onnx, march: generic}\n"
      "input_parameters: {input_name: 'a;b;;', input_type_rt: 'featuremap;featuremap;featuremap',\n"
      "  input_type_train: 'featuremap;featuremap;featuremap'}\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input #3 has no name"), std::string::npos) << r.status().message();
}

// Numbers are read the same whether YAML sees them as numbers or as quoted strings.
TEST(MakertbinConfig, QuotedAndUnquotedNumbers) {
  const auto config = [](bool quoted) {
    const auto v = [&](const std::string& x) { return quoted ? "'" + x + "'" : x; };
    return "model_parameters: {onnx_model: m.onnx, march: generic}\n"
           "input_parameters:\n"
           "  input_type_rt: rgb\n  input_type_train: rgb\n  input_layout_train: NCHW\n"
           "  input_shape: " + v("1x3x8x8") + "\n"
           "  norm_type: data_mean_and_scale\n"
           "  mean_value: " + v("128") + "\n"
           "  scale_value: " + v("0.0078125") + "\n"
           "calibration_parameters:\n  cal_data_dir: d\n  calibration_type: max\n"
           "  max_percentile: " + v("0.99995") + "\n"
           "compiler_parameters:\n  compile_mode: balance\n  balance_factor: " + v("30") + "\n"
           "  core_num: " + v("2") + "\n  jobs: " + v("4") + "\n  max_time_per_fc: " + v("1000") + "\n"
           "  advice: " + v("10") + "\n";
  };
  for (const bool quoted : {false, true}) {
    Result<MakertbinConfig> r = parse(config(quoted));
    ASSERT_TRUE(r.ok()) << "quoted " << quoted << ": " << r.status().message();
    const InputSpec& in = r->inputs.at(0);
    EXPECT_EQ(in.shape, (std::vector<int64_t>{1, 3, 8, 8}));
    EXPECT_EQ(in.mean, (std::vector<float>{128.f}));  // one mean for the three channels
    EXPECT_EQ(in.scale, (std::vector<float>{0.0078125f}));
    ASSERT_TRUE(r->calibration.max_percentile.has_value());
    EXPECT_FLOAT_EQ(*r->calibration.max_percentile, 0.99995f);
    EXPECT_EQ(r->compiler.balance_factor, 30);
    EXPECT_EQ(r->compiler.core_num, 2);
    EXPECT_EQ(r->compiler.jobs, 4);
    EXPECT_EQ(r->compiler.max_time_per_fc, 1000);
    EXPECT_DOUBLE_EQ(r->compiler.advice, 10);
  }
  // A list mixing quoted and plain numbers is one input's shape.
  Result<MakertbinConfig> r = parse(
      "model_parameters: {onnx_model: m.onnx, march: generic}\n"
      "input_parameters: {input_type_rt: featuremap, input_type_train: featuremap, input_shape: [1, '3', 8, \"8\"]}\n"
      "calibration_parameters: {cal_data_dir: d}\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->inputs.at(0).shape, (std::vector<int64_t>{1, 3, 8, 8}));
}

// hb_mapper keys that qmap reads but that change nothing are accepted with one note each,
// naming the key, its line, the value and why (makertbin logs them); jobs is implemented.
TEST(MakertbinConfig, NotesKeysWithoutEffect) {
  Result<MakertbinConfig> r = parse(kFull);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const std::vector<std::string> keys = {"compile_mode", "balance_factor", "debug",  "optimize_level",
                                         "core_num",     "max_time_per_fc", "advice", "input_source"};
  ASSERT_EQ(r->notes.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_NE(r->notes[i].find("key 'compiler_parameters." + keys[i] + "' (line "), std::string::npos) << r->notes[i];
    EXPECT_NE(r->notes[i].find(": no effect in qmap: "), std::string::npos) << r->notes[i];
  }
  EXPECT_NE(r->notes[4].find("config '/proj/cfg/mobilenet.yaml': key 'compiler_parameters.core_num' (line 37): '2': "
                             "no effect in qmap: the .bin is not split over NPU cores"),
            std::string::npos)
      << r->notes[4];
  EXPECT_NE(r->notes[7].find("input_source' (line 41): given: no effect"), std::string::npos) << r->notes[7];
  for (const std::string& n : r->notes) EXPECT_EQ(n.find("compiler_parameters.jobs"), std::string::npos) << n;

  // Without compile_mode balance, balance_factor is a warning (ignored), not also a note.
  std::string latency = kFull;
  latency.replace(latency.find("'balance'"), 9, "'latency'");
  r = parse(latency);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->notes.size(), keys.size() - 1);
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("balance_factor' (line 34): ignored"), std::string::npos) << r->warnings[0];

  // The minimal config names none of them: no notes.
  r = parse(kMinimal);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->notes.empty()) << r->notes.front();
}

// The rest of hb_mapper's newer keys: std_value is implemented (scale = 1 / std),
// enable_vpu / separate_batch at their default False are accepted, hbdk3_compatible_mode and
// extra_params are noted.
TEST(MakertbinConfig, NewerHbMapperKeys) {
  std::string yaml = kFull;
  const auto insert_after = [&](const std::string& line, const std::string& text) {
    const size_t at = yaml.find(line);
    ASSERT_NE(at, std::string::npos) << line;
    yaml.insert(at + line.size(), text);
  };
  const auto replace = [&](const std::string& from, const std::string& to) {
    const size_t at = yaml.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    yaml.replace(at, from.size(), to);
  };
  insert_after("  log_level: 'debug'\n", "  enable_vpu: False\n");
  insert_after("  input_name: 'input'\n", "  separate_batch: 'False'\n");
  replace("scale_value: '0.01712 0.0175 0.01743'", "std_value: '58.395 57.12 57.375'");
  insert_after("  jobs: 4\n", "  hbdk3_compatible_mode: True\n  extra_params: {input_no_padding: True}\n");
  Result<MakertbinConfig> r = parse(yaml);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->inputs.at(0).scale, (std::vector<float>{static_cast<float>(1 / 58.395), static_cast<float>(1 / 57.12),
                                                       static_cast<float>(1 / 57.375)}));
  EXPECT_TRUE(r->warnings.empty()) << r->warnings.front();
  ASSERT_EQ(r->notes.size(), 10u);
  EXPECT_NE(r->notes[7].find("compiler_parameters.hbdk3_compatible_mode' (line 41): 'True': no effect in qmap"),
            std::string::npos)
      << r->notes[7];
  EXPECT_NE(r->notes[8].find("compiler_parameters.extra_params' (line 42): given: no effect in qmap"),
            std::string::npos)
      << r->notes[8];

  // One std for the three channels, and std_value with norm_type data_scale.
  replace("std_value: '58.395 57.12 57.375'", "std_value: 128");
  replace("  mean_value: 123.675 116.28 103.53\n", "");
  replace("data_mean_and_scale", "data_scale");
  r = parse(yaml);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->inputs.at(0).scale, (std::vector<float>{0.0078125f}));
}

// compiler_parameters.prepack (a qmap key): host (the default), none, or ISAs of this CPU;
// an unknown name and an ISA this CPU lacks are errors naming the key, the value and why.
TEST(MakertbinConfig, PrepackNamesIsasOfThisCpu) {
  auto with = [](const std::string& v) {
    std::string yaml = kFull;
    const std::string line = "  jobs: 4\n";
    yaml.insert(yaml.find(line) + line.size(), "  prepack: " + v + "\n");
    return parse(yaml);
  };
  Result<MakertbinConfig> r = parse(kFull);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->compiler.prepack, std::vector<kernels::Isa>{kernels::best_host_isa()});
  r = with("'none'");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->compiler.prepack.empty());
  r = with("host");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->compiler.prepack, std::vector<kernels::Isa>{kernels::best_host_isa()});
  r = with("'ref'");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("compiler_parameters.prepack"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("'ref': not an ISA with packed kernels (avx2, avxvnni, avx512vnni), nor host or "
                                      "none"),
            std::string::npos)
      << r.status().message();
  std::vector<std::string> have;
  for (kernels::Isa i : kernels::host_isas())
    if (i != kernels::Isa::kRef) have.push_back(kernels::isa_name(i));
  if (!have.empty()) {
    r = with("[" + fmt::format("{}", fmt::join(have, ", ")) + ", " + have.front() + "]");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->compiler.prepack.size(), have.size());  // each once, in order
  }
  for (const char* isa : {"avx2", "avxvnni", "avx512vnni"}) {
    if (std::find(have.begin(), have.end(), isa) != have.end()) continue;
    r = with(isa);
    ASSERT_FALSE(r.ok()) << isa;
    EXPECT_NE(r.status().message().find(fmt::format("'{}': this CPU has no {}", isa, isa)), std::string::npos)
        << r.status().message();
  }
}

struct BadCase {
  const char* what;
  const char* from;  // text of kFull to replace (must occur)
  const char* to;
  std::vector<std::string> expect;  // substrings of the error
  ModelType type = ModelType::kOnnx;
};

TEST(MakertbinConfig, RejectsEachErrorClass) {
  const std::vector<BadCase> cases = {
      {"invalid YAML", "march: \"generic\"", "march: [generic", {"config '/proj/cfg/mobilenet.yaml'", "invalid YAML"}},
      {"not a map", "# MobileNetV2", "- a\n# ", {"must be a YAML map of sections"}},
      {"unknown section", "compiler_parameters:", "compiler_parameter:",
       {"key 'compiler_parameter' (line 32)", "unknown section: did you mean 'compiler_parameters'?"}},
      {"typo in key", "  mean_value: 123", "  mean_valeu: 123",
       {"key 'input_parameters.mean_valeu' (line 20)", "unknown key: did you mean 'mean_value'?"}},
      {"key in the wrong section", "  input_shape: '1x3x224x224'", "  cal_data_dir: x",
       {"key 'input_parameters.cal_data_dir'", "belongs in calibration_parameters"}},
      {"unknown key, nothing close", "  log_level: 'debug'", "  colour: red",
       {"model_parameters.colour", "unknown key: allowed keys are onnx_model, prototxt"}},
      {"duplicate key", "  jobs: 4", "  jobs: 4\n  jobs: 5", {"compiler_parameters.jobs", "duplicate key"}},
      {"unsupported key", "  log_level: 'debug'", "  set_node_data_type: int16",
       {"model_parameters.set_node_data_type", "not supported by qmap"}},
      {"custom_op without plugins", "custom_op:", "custom_op:\n  custom_op_method: register",
       {"missing key 'custom_op.op_register_files'", "the plugin libraries (.so) that define the custom ops"}},
      {"custom_op_method other than register", "custom_op:",
       "custom_op:\n  custom_op_method: compile\n  op_register_files: [libops.so]",
       {"key 'custom_op.custom_op_method' (line 43)", "'compile' is not allowed: allowed values are register"}},
      {"unknown custom_op key", "custom_op:", "custom_op:\n  op_register_file: libops.so",
       {"custom_op.op_register_file", "did you mean 'op_register_files'?"}},
      {"duplicate section", "custom_op:", "compiler_parameters: 3",
       {"duplicate section"}},
      {"wrong YAML type", "layer_out_dump: False", "layer_out_dump: [1]",
       {"model_parameters.layer_out_dump' (line 7)", "must be a single value, not a list or a map"}},
      {"not a boolean", "debug: True", "debug: maybe",
       {"compiler_parameters.debug", "'maybe' is not a boolean: use True or False"}},
      {"not an integer", "core_num: 2", "core_num: two", {"compiler_parameters.core_num", "'two' is not an integer"}},
      {"missing onnx_model", "  onnx_model: 'mobilenetv2.onnx'\n", "",
       {"missing key 'model_parameters.onnx_model'", "required with --model-type onnx"}},
      {"caffe key with onnx", "  march: \"generic\"", "  march: generic\n  prototxt: x.prototxt",
       {"model_parameters.prototxt", "'x.prototxt': applies to --model-type caffe, not onnx"}},
      {"missing prototxt for caffe", "onnx_model: 'mobilenetv2.onnx'", "caffe_model: m.caffemodel",
       {"missing key 'model_parameters.prototxt'", "required with --model-type caffe"}, ModelType::kCaffe},
      {"missing march", "  march: \"generic\"\n", "", {"missing key 'model_parameters.march'"}},
      {"unknown march", "march: \"generic\"", "march: bernoulli3",
       {"model_parameters.march", "'bernoulli3' is not a qmap target: built-in targets are bayes, bayes-e, "
        "bernoulli2, generic, nash-e, nash-p"}},
      {"prefix with a directory", "'mobilenetv2_224x224_nv12'", "'out/m'",
       {"output_model_file_prefix", "'out/m' must be a file name prefix without a directory part"}},
      {"missing input_type_rt", "  input_type_rt: 'nv12'\n", "",
       {"missing key 'input_parameters.input_type_rt'"}},
      {"bad enum", "input_type_rt: 'nv12'", "input_type_rt: 'nv21'",
       {"input_parameters.input_type_rt' (line 14)", "input 'input': 'nv21' is not allowed: allowed values are rgb, "
        "bgr, yuv444, nv12, gray, featuremap (did you mean 'nv12'?)"}},
      {"nv12 is no training type", "input_type_train: 'rgb'", "input_type_train: 'nv12'",
       {"input_type_train", "'nv12' is not allowed: allowed values are rgb, bgr, yuv444, gray, featuremap"}},
      {"count mismatch", "input_layout_train: 'NCHW'", "input_layout_train: 'NCHW;NHWC'",
       {"input_parameters.input_layout_train' (line 16)", "2 values 'NCHW; NHWC' for 1 input (input_name 'input')",
        "one value per input"}},
      {"mean count", "mean_value: 123.675 116.28 103.53", "mean_value: 123.675 116.28",
       {"input_parameters.mean_value' (line 20)", "2 values '123.675 116.28'",
        "give 1 value or 3 (one per channel of input_type_train rgb)"}},
      {"mean not a number", "mean_value: 123.675 116.28 103.53", "mean_value: 123.675 abc 103.53",
       {"input_parameters.mean_value", "'abc' in '123.675 abc 103.53' is not a finite number"}},
      {"scale zero", "'0.01712 0.0175 0.01743'", "0", {"scale_value", "a scale of 0 erases the input"}},
      {"data_mean without mean_value", "  mean_value: 123.675 116.28 103.53\n", "",
       {"missing key 'input_parameters.mean_value'", "norm_type 'data_mean_and_scale', which needs it"}},
      {"train gray with rt rgb", "input_type_rt: 'nv12'\n  input_type_train: 'rgb'",
       "input_type_rt: 'rgb'\n  input_type_train: 'gray'",
       {"input_parameters.input_type_train", "'gray' cannot be produced from input_type_rt 'rgb'",
        "the training type must be rgb or bgr"}},
      {"train gray with rt nv12", "input_type_train: 'rgb'", "input_type_train: 'gray'",
       {"'gray' cannot be produced from input_type_rt 'nv12'", "must be yuv444 or rgb or bgr"}},
      {"train featuremap with rt image", "input_type_train: 'rgb'", "input_type_train: 'featuremap'",
       {"'featuremap' cannot be produced from input_type_rt 'nv12'"}},
      {"train rgb with rt featuremap", "input_type_rt: 'nv12'", "input_type_rt: 'featuremap'",
       {"'rgb' cannot be produced from input_type_rt 'featuremap'", "must be featuremap"}},
      {"bt601_video with rgb", "input_type_rt: 'nv12'", "input_type_rt: 'rgb'",
       {"input_space_and_range", "'bt601_video' applies to input_type_rt nv12 or yuv444, not 'rgb'"}},
      {"image input needs a layout", "  input_layout_train: 'NCHW'\n", "",
       {"missing key 'input_parameters.input_layout_train'", "input 'input' is an image input (nv12)"}},
      {"3-D image shape", "'1x3x224x224'", "'3x224x224'",
       {"input_parameters.input_shape", "'3x224x224' has 3 dimensions: an image input is 4-D (NCHW)"}},
      {"channel mismatch", "'1x3x224x224'", "'1x224x224x3'",
       {"input_shape", "'1x224x224x3' has 224 channels in layout NCHW: input_type_train rgb has 3"}},
      {"nv12 odd size", "'1x3x224x224'", "'1x3x223x224'",
       {"input_shape", "nv12 needs an even height and width", "got 223x224"}},
      {"non-positive dim", "'1x3x224x224'", "'1x3x0x224'", {"input_shape", "must be a positive integer"}},
      {"percentile spelling", "calibration_type: 'max'", "calibration_type: 'percentile'",
       {"calibration_parameters.calibration_type", "'percentile' is not a calibration_type",
        "calibration_type: max with max_percentile"}},
      {"bad calibration_type", "calibration_type: 'max'", "calibration_type: 'kll'",
       {"'kll' is not allowed: allowed values are default, mix, kl, max, mse, load, skip (did you mean 'kl'?)"}},
      {"max_percentile range", "max_percentile: 0.99995", "max_percentile: 1.5",
       {"calibration_parameters.max_percentile' (line 27)", "1.5: must be in (0, 1]"}},
      {"max_percentile with kl", "calibration_type: 'max'", "calibration_type: 'kl'",
       {"max_percentile", "applies to calibration_type max (the percentile method), default or mix, not kl"}},
      {"missing cal_data_dir", "  cal_data_dir: './calibration_data_rgb_f32'\n", "",
       {"missing key 'calibration_parameters.cal_data_dir'", "calibration_type max needs calibration data"}},
      {"bad cal_data_type", "cal_data_type: 'float32'", "cal_data_type: 'int16'",
       {"cal_data_type", "input 'input': 'int16' is not allowed: allowed values are uint8, float32"}},
      {"cpu and npu", "run_on_bpu: 'softmax'", "run_on_bpu: 'conv_2'",
       {"calibration_parameters.run_on_bpu' (line 30)", "node 'conv_2' is put on the NPU here and on the CPU by "
        "'calibration_parameters.run_on_cpu' (line 29)"}},
      {"node_info bad ON", "'ON': 'CPU'", "'ON': 'GPU'",
       {"model_parameters.node_info.conv_3.ON", "'GPU' is not allowed: allowed values are NPU, BPU, CPU"}},
      {"node_info int16 input", "'InputType': 'int8'", "'InputType': 'int16'",
       {"node_info.conv_3.InputType", "give OutputType: int16 to the node that produces this input"}},
      {"node_info fp16 output", "'InputType': 'int8'", "'OutputType': 'fp16'",
       {"node_info.conv_3.OutputType", "'fp16' is not supported by qmap: an output is int8 or int16"}},
      {"unsupported optimization", "optimization: set_model_output_int8", "optimization: set_all_nodes_int16",
       {"calibration_parameters.optimization", "'set_all_nodes_int16' is not supported by qmap"}},
      {"unknown optimization", "optimization: set_model_output_int8", "optimization: set_model_output_int9",
       {"'set_model_output_int9' is not a known optimization", "did you mean 'set_model_output_int8'?"}},
      {"bad bias_correction", "per_channel: 'True'", "per_channel: 'True'\n  bias_correction: sometimes",
       {"calibration_parameters.bias_correction", "'sometimes': use auto, True or False"}},
      {"bias_correction token against the key", "optimization: set_model_output_int8",
       "bias_correction: False\n  optimization: bias_correction",
       {"'bias_correction' contradicts calibration_parameters.bias_correction: False"}},
      {"bad compile_mode", "compile_mode: 'balance'", "compile_mode: 'fast'",
       {"compiler_parameters.compile_mode", "'fast' is not allowed: allowed values are latency, bandwidth, balance"}},
      {"balance_factor range", "balance_factor: 30", "balance_factor: 130", {"balance_factor", "130: must be in 0..100"}},
      {"optimize_level", "optimize_level: 'O3'", "optimize_level: 'O4'",
       {"compiler_parameters.optimize_level", "'O4' is not allowed: allowed values are O0, O1, O2, O3"}},
      {"optimize_level as a number", "optimize_level: 'O3'", "optimize_level: 3",
       {"compiler_parameters.optimize_level", "'3' is not allowed: allowed values are O0, O1, O2, O3"}},
      {"core_num zero", "core_num: 2", "core_num: 0", {"core_num", "0: must be in 1..64"}},
      {"max_time_per_fc", "max_time_per_fc: 1000", "max_time_per_fc: 500",
       {"max_time_per_fc", "500: must be 0 (no limit) or 1000..4294967295 microseconds"}},
      {"negative advice", "advice: 10.5", "advice: -1", {"compiler_parameters.advice", "-1: must be >= 0"}},
      {"input_source of unknown input", "{input: pyramid}", "{image: pyramid}",
       {"compiler_parameters.input_source.image", "'image' is not an input"}},
      {"input_batch", "  input_shape:", "  input_batch: 4\n  input_shape:",
       {"input_parameters.input_batch", "4: not supported by qmap: only 1"}},
      {"enable_vpu", "  log_level: 'debug'", "  enable_vpu: True",
       {"model_parameters.enable_vpu' (line 8)", "True: not supported by qmap: it has no vision processing unit"}},
      {"separate_batch", "  input_shape:", "  separate_batch: True\n  input_shape:",
       {"input_parameters.separate_batch' (line 17)", "True: not supported by qmap: a batch is one input tensor"}},
      {"separate_name", "  input_shape:", "  separate_name: 'a;b'\n  input_shape:",
       {"input_parameters.separate_name' (line 17)", "not supported by qmap: it names the inputs of separate_batch"}},
      {"quant_config", "  per_channel: 'True'", "  quant_config: q.json",
       {"calibration_parameters.quant_config' (line 28)", "not supported by qmap: qmap reads no JSON"}},
      {"std_value and scale_value", "  scale_value:", "  std_value: 58 57 57\n  scale_value:",
       {"input_parameters.std_value' (line 21)", "give scale_value or std_value, not both"}},
      {"std_value zero", "scale_value: '0.01712 0.0175 0.01743'", "std_value: '58 0 57'",
       {"input_parameters.std_value' (line 21)", "input 'input': '58 0 57': a std of 0 divides by zero"}},
      {"std_value count", "scale_value: '0.01712 0.0175 0.01743'", "std_value: '58 57'",
       {"input_parameters.std_value' (line 21)", "2 values '58 57': give 1 value or 3"}},
      {"extra_params not a map", "  jobs: 4", "  extra_params: 4",
       {"compiler_parameters.extra_params' (line 38)", "must be a map of compiler options"}},
      {"hbdk3_compatible_mode not a boolean", "  jobs: 4", "  hbdk3_compatible_mode: maybe",
       {"compiler_parameters.hbdk3_compatible_mode", "'maybe' is not a boolean"}},
  };
  for (const BadCase& c : cases) {
    std::string yaml = kFull;
    const size_t at = yaml.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.what << ": '" << c.from << "' not in the base config";
    yaml.replace(at, std::string(c.from).size(), c.to);
    Result<MakertbinConfig> r = parse(yaml, c.type);
    ASSERT_FALSE(r.ok()) << c.what << ": accepted\n" << yaml;
    const std::string msg = r.status().message();
    for (const std::string& e : c.expect) EXPECT_NE(msg.find(e), std::string::npos) << c.what << ": " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << c.what << ": message must be one line: " << msg;
  }
}

// Combinations that need a different base than kFull.
TEST(MakertbinConfig, RejectsCombinations) {
  const std::string head = "model_parameters: {onnx_model: m.onnx, march: generic}\n";
  const std::string feature = "input_parameters: {input_type_rt: featuremap, input_type_train: featuremap}\n";
  const std::string data = "calibration_parameters: {cal_data_dir: d}\n";
  const std::vector<std::pair<std::string, std::string>> cases = {  // body, expected substring
      {"input_parameters: {input_type_rt: 'rgb;rgb', input_type_train: 'rgb;rgb', input_layout_train: 'NCHW;NCHW'}\n"
       "calibration_parameters: {cal_data_dir: 'a;b'}\n",
       "missing key 'input_parameters.input_name': 2 inputs need their names"},
      {"input_parameters: {input_name: 'a;a', input_type_rt: 'rgb;rgb', input_type_train: 'rgb;rgb', "
       "input_layout_train: 'NCHW;NCHW'}\ncalibration_parameters: {cal_data_dir: 'a;b'}\n",
       "'a' is named twice"},
      {feature + "calibration_parameters: {cal_data_dir: d, preprocess_on: True}\n",
       "calibration_parameters.preprocess_on' (line 3): True: input #1 is a featuremap input"},
      {"input_parameters: {input_type_rt: featuremap, input_type_train: featuremap, input_layout_train: NCHW, "
       "input_layout_rt: NHWC}\n" + data,
       "'NHWC': a featuremap input is fed in its training layout 'NCHW'"},
      {"input_parameters: {input_type_rt: rgb, input_type_train: rgb, input_layout_train: NCHW}\n" + data +
           "compiler_parameters: {input_source: {x: pyramid}}\n",
       "'pyramid' delivers nv12 or gray images, but input_type_rt is rgb"},
      {"input_parameters: {input_name: 'a;b', input_type_rt: 'featuremap;featuremap', "
       "input_type_train: 'featuremap;featuremap'}\ncalibration_parameters: {cal_data_dir: 'x'}\n",
       "calibration_parameters.cal_data_dir' (line 3): 1 value 'x' for 2 inputs"},
      {feature + data + "custom_op: {custom_op_method: register}\n", "missing key 'custom_op.op_register_files'"},
      {"input_parameters: {input_type_rt: featuremap, input_type_train: featuremap, norm_type: data_scale, "
       "scale_value: 2}\n" + data,
       "input_parameters.norm_type' (line 2): input #1: 'data_scale' applies to image inputs only"},
      {"input_parameters: [a]\n", "key 'input_parameters' (line 2): must be a map"},
      {data, "missing key 'input_parameters'"},
  };
  for (const auto& [body, expect] : cases) {
    Result<MakertbinConfig> r = parse(head + body);
    ASSERT_FALSE(r.ok()) << "accepted:\n" << body;
    EXPECT_NE(r.status().message().find(expect), std::string::npos) << r.status().message();
  }
}

// Bad input never crashes or throws: random byte edits of the full config (fixed seed)
// give either a config or a one-line error about the file.
TEST(MakertbinConfig, SurvivesMutatedConfigs) {
  const std::string base = kFull;
  const std::string alphabet = "ab:;-[]{}'\"#&*!|>%@ \n\t0123456789.xNoneTrue";
  uint32_t state = 12345;  // xorshift32; the seed is printed on failure
  const auto next = [&]() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return state;
  };
  for (int round = 0; round < 400; ++round) {
    std::string yaml = base;
    const int edits = 1 + static_cast<int>(next() % 4);
    for (int e = 0; e < edits; ++e) {
      const size_t at = next() % yaml.size();
      const char c = alphabet[next() % alphabet.size()];
      switch (next() % 3) {
        case 0: yaml[at] = c; break;
        case 1: yaml.insert(yaml.begin() + static_cast<std::ptrdiff_t>(at), c); break;
        default: yaml.erase(at, 1 + next() % 8); break;
      }
    }
    Result<MakertbinConfig> r = parse(yaml);
    if (r.ok()) continue;
    const std::string msg = r.status().message();
    EXPECT_EQ(msg.rfind("config '/proj/cfg/mobilenet.yaml'", 0), 0u) << "seed 12345 round " << round << ": " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "seed 12345 round " << round << ": " << msg;
  }
}

// Every ```yaml block of docs/yaml.md is a valid config (caffe when it names a prototxt).
TEST(MakertbinConfig, DocExamplesParse) {
  std::ifstream in(std::string(QMAP_SOURCE_DIR) + "/docs/yaml.md");
  ASSERT_TRUE(in.good()) << "docs/yaml.md not found under " << QMAP_SOURCE_DIR;
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  int examples = 0;
  for (size_t at = doc.find("```yaml\n"); at != std::string::npos; at = doc.find("```yaml\n", at)) {
    at += 8;
    const size_t end = doc.find("```", at);
    ASSERT_NE(end, std::string::npos);
    const std::string yaml = doc.substr(at, end - at);
    const ModelType type = yaml.find("prototxt:") != std::string::npos ? ModelType::kCaffe : ModelType::kOnnx;
    Result<MakertbinConfig> r = parse(yaml, type, "docs/example.yaml");
    EXPECT_TRUE(r.ok()) << "example " << examples + 1 << ": " << r.status().message();
    if (r.ok()) {
      EXPECT_TRUE(r->warnings.empty()) << r->warnings.front();
    }
    ++examples;
    at = end + 3;
  }
  EXPECT_EQ(examples, 2);
}

// Every key of docs/yaml.md's hb_mapper compatibility table is known to the reader: written
// into a config it is accepted or refused with its reason, never "unknown key".
TEST(MakertbinConfig, CompatibilityTableKeysAreKnown) {
  std::ifstream in(std::string(QMAP_SOURCE_DIR) + "/docs/yaml.md");
  ASSERT_TRUE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const size_t table = doc.find("## hb_mapper compatibility");
  ASSERT_NE(table, std::string::npos);
  std::istringstream lines(doc.substr(table));
  int rows = 0;
  for (std::string line; std::getline(lines, line);) {
    // | section | `key` | status |
    if (line.rfind("| ", 0) != 0) continue;
    const size_t tick = line.find('`');
    if (tick == std::string::npos || line.find(" | `") == std::string::npos) continue;
    const std::string section = line.substr(2, line.find(' ', 2) - 2);
    const std::string key = line.substr(tick + 1, line.find('`', tick + 1) - tick - 1);
    std::string yaml =
        "model_parameters: {onnx_model: m.onnx, march: generic}\n"
        "input_parameters: {input_type_rt: featuremap, input_type_train: featuremap}\n"
        "calibration_parameters: {cal_data_dir: d}\n";
    yaml += section + ":\n  " + key + ": x\n";
    // A section given twice is a duplicate: merge into the existing flow map instead.
    const size_t at = yaml.find(section + ": {");
    if (at != std::string::npos) {
      yaml.erase(yaml.rfind(section + ":\n"));
      yaml.insert(yaml.find('}', at), ", " + key + ": x");
    }
    Result<MakertbinConfig> r = parse(yaml);
    if (!r.ok()) {
      EXPECT_EQ(r.status().message().find("unknown"), std::string::npos) << section << "." << key << ": "
                                                                         << r.status().message();
    }
    ++rows;
  }
  EXPECT_GE(rows, 54);
}

// custom_op: the plugins op_register_files names, under custom_op_dir (relative to the YAML,
// like every path), in order; absolute entries stay; an empty section (a template's) is none.
TEST(MakertbinConfig, CustomOpSectionNamesThePlugins) {
  const std::string head =
      "model_parameters: {onnx_model: m.onnx, march: generic}\n"
      "input_parameters: {input_type_rt: featuremap, input_type_train: featuremap}\n"
      "calibration_parameters: {cal_data_dir: d}\n";
  Result<MakertbinConfig> r = parse(head +
                                    "custom_op:\n  custom_op_method: register\n"
                                    "  op_register_files: [libnorm.so, /opt/ops/libother.so]\n"
                                    "  custom_op_dir: ./ops\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->custom_op_libs, (std::vector<std::string>{"/proj/cfg/ops/libnorm.so", "/opt/ops/libother.so"}));
  r = parse(head + "custom_op:\n  op_register_files: 'liba.so; libb.so'\n");  // hb_mapper's ';' list, no dir
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->custom_op_libs, (std::vector<std::string>{"/proj/cfg/liba.so", "/proj/cfg/libb.so"}));
  r = parse(head + "custom_op:\n");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->custom_op_libs.empty());
}

TEST(MakertbinConfig, NamesRoundTrip) {
  EXPECT_EQ(parse_model_type("onnx"), ModelType::kOnnx);
  EXPECT_EQ(parse_model_type("caffe"), ModelType::kCaffe);
  EXPECT_EQ(parse_model_type("tflite"), std::nullopt);
  EXPECT_STREQ(model_type_name(ModelType::kCaffe), "caffe");
  EXPECT_STREQ(calibration_type_name(CalibrationType::kMse), "mse");
  EXPECT_STREQ(compile_mode_name(CompileMode::kBandwidth), "bandwidth");
  EXPECT_STREQ(input_source_name(InputSource::kResizer), "resizer");
}

// load_makertbin_config reads the file, resolves paths against its directory (not the
// current directory) and checks that what it names exists.
TEST(MakertbinConfig, LoadResolvesAndChecksPaths) {
  const fs::path dir = fs::temp_directory_path() / "qmap_makertbin_config_test";
  fs::remove_all(dir);
  fs::create_directories(dir / "cfg" / "calib");
  std::ofstream(dir / "cfg" / "m.onnx") << "x";
  const auto write = [&](const std::string& text) {
    std::ofstream(dir / "cfg" / "c.yaml") << text;
    return (dir / "cfg" / "c.yaml").string();
  };
  const std::string body =
      "input_parameters: {input_type_rt: featuremap, input_type_train: featuremap}\n"
      "calibration_parameters: {cal_data_dir: calib}\n";
  const std::string path = write("model_parameters: {onnx_model: m.onnx, march: generic}\n" + body);
  Result<MakertbinConfig> r = load_makertbin_config(path, ModelType::kOnnx);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->model.onnx_model, (dir / "cfg" / "m.onnx").string());
  EXPECT_EQ(r->calibration.cal_data_dirs.at(0), (dir / "cfg" / "calib").string());
  EXPECT_EQ(r->model.working_dir, (dir / "cfg" / "model_output").string());

  write("model_parameters: {onnx_model: ../m.onnx, march: generic}\n" + body);
  r = load_makertbin_config(path, ModelType::kOnnx);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("key 'model_parameters.onnx_model': '" + (dir / "m.onnx").string() +
                                      "' does not exist"),
            std::string::npos)
      << r.status().message();

  write("model_parameters: {onnx_model: m.onnx, march: generic}\n"
        "input_parameters: {input_type_rt: featuremap, input_type_train: featuremap}\n"
        "calibration_parameters: {cal_data_dir: m.onnx}\n");
  r = load_makertbin_config(path, ModelType::kOnnx);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("cal_data_dir': '" + (dir / "cfg" / "m.onnx").string() +
                                      "' is a file, expected a directory"),
            std::string::npos)
      << r.status().message();

  write("model_parameters: {onnx_model: m.onnx, march: targets/mine.yaml}\n" + body);
  r = load_makertbin_config(path, ModelType::kOnnx);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("model_parameters.march': '" + (dir / "cfg" / "targets" / "mine.yaml").string()),
            std::string::npos)
      << r.status().message();

  r = load_makertbin_config((dir / "nope.yaml").string(), ModelType::kOnnx);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nope.yaml"), std::string::npos) << r.status().message();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qmap
