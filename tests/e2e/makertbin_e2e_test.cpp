// `qmap makertbin` end to end: the binary on tests/data/models/tiny_cnn.onnx (1x3x16x16 ->
// Softmax 10) with calibration data the test writes (seeded raw uint8 images), and one
// deliberately broken input per bad-input class. Asserts on exit codes, the files written,
// the printed node table and the one-line errors.
#include <cmath>
#include <cstdint>
#include <random>
#include <regex>

#include "cli_util.h"
#include "three_input_model.h"
#include "import/onnx/onnx_export.h"
#include "ir/graph.h"
#include "ops/registry.h"

namespace {

using namespace qmap::e2e;
using qmap::DType;

const std::string kTinyCnn = std::string(QMAP_TEST_DATA) + "/models/tiny_cnn.onnx";

// `n` raw uint8 samples of shape 3x16x16 (rgb, NCHW) as numpy's tofile writes them: smooth
// gradients plus noise, so activations look like images rather than white noise.
void write_raw_samples(const fs::path& dir, int n, size_t bytes = 3 * 16 * 16, uint32_t seed = 7) {
  fs::create_directories(dir);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(-20, 20);
  for (int i = 0; i < n; ++i) {
    std::string data(bytes, '\0');
    for (size_t k = 0; k < bytes; ++k) {
      const int base = static_cast<int>((k * (i + 3)) % 200) + 20;
      data[k] = static_cast<char>(std::clamp(base + noise(rng), 0, 255));
    }
    std::ofstream(dir / ("sample_" + std::to_string(100 + i) + ".bin"), std::ios::binary) << data;
  }
}

struct YamlOptions {
  std::string model = kTinyCnn;
  std::string cal_dir = "calib";
  std::string calibration_type = "default";
  std::string extra_calibration;  // more calibration_parameters lines
  std::string input_type_rt = "rgb";
  std::string input_layout_rt = "NHWC";
  std::string input_type_train = "rgb";
  std::string input_shape = "1x3x16x16";
  std::string input_name = "input";  // empty: the key is left out
  std::string mean = "123.675 116.28 103.53";
  std::string scale = "0.017125 0.017507 0.017429";
  std::string extra_model;  // more model_parameters lines
};

std::string yaml(const YamlOptions& o) {
  return "model_parameters:\n"
         "  onnx_model: '" + o.model + "'\n"
         "  march: generic\n"
         "  working_dir: model_output\n"
         "  output_model_file_prefix: tiny\n" + o.extra_model +
         "input_parameters:\n"
         + (o.input_name.empty() ? std::string() : "  input_name: " + o.input_name + "\n") +
         "  input_shape: " + o.input_shape + "\n"
         "  input_type_train: " + o.input_type_train + "\n"
         "  input_layout_train: NCHW\n"
         "  input_type_rt: " + o.input_type_rt + "\n"
         "  input_layout_rt: " + o.input_layout_rt + "\n"
         "  norm_type: data_mean_and_scale\n"
         "  mean_value: " + o.mean + "\n"
         "  scale_value: " + o.scale + "\n"
         "calibration_parameters:\n"
         "  cal_data_dir: " + o.cal_dir + "\n"
         "  calibration_type: " + o.calibration_type + "\n" + o.extra_calibration +
         "compiler_parameters:\n"
         "  optimize_level: O3\n";
}

// A fresh test folder with 8 calibration samples and the config; runs makertbin there.
CliRun makertbin(const YamlOptions& o, const std::string& more_args = "", bool fresh = true, int samples = 8) {
  const fs::path dir = test_dir();
  if (fresh) {
    fs::remove_all(dir);
    write_raw_samples(dir / "calib", samples);
  }
  fs::create_directories(dir);
  std::ofstream(dir / "cfg.yaml") << yaml(o);
  return run_qmap_in(dir, "makertbin --config cfg.yaml --model-type onnx --no-progress " + more_args,
                     "model_output/makertbin.log");
}

double output_cosine(const std::string& out) {
  // The output table row: "<output name>  <cosine>  <l1> ..." after "The quantized model output:".
  const size_t at = out.find("The quantized model output:");
  if (at == std::string::npos) return -1;
  std::smatch m;
  const std::string tail = out.substr(at);
  static const std::regex row(R"(\n(\S+)\s+([0-9.]+)\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+)");
  return std::regex_search(tail, m, row) ? std::stod(m[2]) : -1;
}

TEST(MakertbinE2E, WritesTheFourOutputsTheTableAndTheLog) {
  const CliRun r = makertbin({});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  for (const char* f : {"tiny_original_float_model.onnx", "tiny_optimized_float_model.onnx",
                        "tiny_quantized_model.onnx", "tiny_calibration_table.txt", "tiny.bin", "makertbin.log"})
    EXPECT_TRUE(fs::exists(r.dir / "model_output" / f)) << f;
  // No temporary files left behind.
  for (const auto& e : fs::directory_iterator(r.dir / "model_output"))
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  EXPECT_NE(r.out.find("Node"), std::string::npos);
  EXPECT_NE(r.out.find("Cosine Similarity"), std::string::npos);
  EXPECT_NE(r.out.find("Threshold"), std::string::npos);
  EXPECT_NE(r.out.find("PREPROCESS_input"), std::string::npos) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex("Select \\S+ method"))) << r.out;
  EXPECT_NE(r.out.find("conversion took"), std::string::npos);
  const double cos = output_cosine(r.out);
  EXPECT_GE(cos, 0.98) << r.out;
  // The log holds the same table.
  EXPECT_NE(r.log.find("Cosine Similarity"), std::string::npos);
}

class MakertbinMethod : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(MakertbinMethod, ConvertsWithGoodOutputCosine) {
  YamlOptions o;
  o.calibration_type = GetParam().first;
  o.extra_calibration = GetParam().second;
  const CliRun r = makertbin(o);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const double cos = output_cosine(r.out);
  // skip calibrates on random data: the model still converts, accuracy is not promised.
  if (o.calibration_type != "skip") {
    EXPECT_GE(cos, 0.97) << r.out;
  }
  EXPECT_TRUE(fs::exists(r.dir / "model_output" / "tiny_quantized_model.onnx"));
}

INSTANTIATE_TEST_SUITE_P(Methods, MakertbinMethod,
                         ::testing::Values(std::make_pair("max", ""), std::make_pair("max", "  max_percentile: 0.9999\n"),
                                           std::make_pair("kl", ""), std::make_pair("mse", ""),
                                           std::make_pair("mix", ""), std::make_pair("skip", ""),
                                           std::make_pair("default", "  per_channel: False\n")),
                         [](const auto& info) {
                           return info.param.first + (info.param.second.empty() ? "" : "_variant");
                         });

TEST(MakertbinE2E, SameOutputsWhateverTheThreadCountAndFromTheTable) {
  const CliRun one = makertbin({}, "--jobs 1");
  ASSERT_EQ(one.code, 0) << one.err;
  const std::string q1 = slurp(one.dir / "model_output" / "tiny_quantized_model.onnx");
  const std::string t1 = slurp(one.dir / "model_output" / "tiny_calibration_table.txt");
  fs::copy_file(one.dir / "model_output" / "tiny_calibration_table.txt", one.dir / "table.txt");
  const CliRun two = makertbin({}, "--jobs 2", false);
  ASSERT_EQ(two.code, 0) << two.err;
  EXPECT_EQ(q1, slurp(two.dir / "model_output" / "tiny_quantized_model.onnx"));
  EXPECT_EQ(t1, slurp(two.dir / "model_output" / "tiny_calibration_table.txt"));
  // Thresholds read back from the table give the same quantized model.
  const CliRun again = makertbin({}, "--calibration-table table.txt", false);
  ASSERT_EQ(again.code, 0) << again.err;
  EXPECT_EQ(q1, slurp(again.dir / "model_output" / "tiny_quantized_model.onnx"));
}

// --- bad input: one clear line, exit 1 ---

TEST(MakertbinE2E, AutoModes) {
  // 40 samples: bias correction fits on the first 32 and auto decides on the other 8.
  YamlOptions o;
  o.calibration_type = "max";
  const CliRun automatic = makertbin(o, "", true, 40);
  ASSERT_EQ(automatic.code, 0) << automatic.out << automatic.err;
  SCOPED_TRACE(automatic.out);
  EXPECT_TRUE(std::regex_search(automatic.out, std::regex("bias correction: \\d+ layers on 32 samples"))) << automatic.out;
  // auto says what it chose and why, on the held-out samples.
  static const std::regex decided(
      R"(bias correction: (kept|not kept) \(output cosine on 8 held-out samples: ([0-9.]+) without, ([0-9.]+) with\))");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(automatic.out, m, decided)) << automatic.out;
  // Kept when the cosine rose (the log rounds both to 6 decimals, so they may print equal).
  if (m[1] == "kept")
    EXPECT_GE(std::stod(m[3]), std::stod(m[2])) << m[0];
  else
    EXPECT_LE(std::stod(m[3]), std::stod(m[2])) << m[0];
  // The output table (cosine, L1, L2, Chebyshev of the quantized model against float): the
  // models' files also hold each run's YAML, so they differ anyway.
  const auto output_table = [](const std::string& out) {
    const size_t at = out.find("The quantized model output:");
    const size_t end = out.rfind('\n', out.find("node comparison done", at));  // the table ends the stage
    return out.substr(at, end - at);
  };
  const std::string q_auto = output_table(automatic.out);

  o.extra_calibration = "  bias_correction: False\n";
  const CliRun off = makertbin(o, "", false);
  ASSERT_EQ(off.code, 0) << off.err;
  EXPECT_NE(off.out.find("bias correction: off"), std::string::npos) << off.out;
  const std::string q_off = output_table(off.out);

  o.extra_calibration = "  optimization: bias_correction\n";  // hb_mapper's spelling of True
  const CliRun on = makertbin(o, "", false);
  ASSERT_EQ(on.code, 0) << on.err;
  EXPECT_NE(on.out.find("bias correction: kept (calibration_parameters.bias_correction: True)"), std::string::npos)
      << on.out;
  const std::string q_on = output_table(on.out);
  // The correction changes int32 biases, so the outputs differ; auto's is one of the two.
  EXPECT_NE(q_on, q_off);
  EXPECT_EQ(q_auto, m[1] == "kept" ? q_on : q_off) << "on:\n" << q_on << "off:\n" << q_off;
  EXPECT_GE(output_cosine(on.out), 0.97) << on.out;
}

TEST(MakertbinE2E, EmptyCalibrationFolder) {
  const fs::path dir = test_dir();
  fs::remove_all(dir);
  fs::create_directories(dir / "empty");
  YamlOptions o;
  o.cal_dir = "empty";
  const CliRun r = makertbin(o, "", false);
  const std::string msg = expect_one_error(r, false);
  EXPECT_NE(msg.find("empty"), std::string::npos) << msg;
}

TEST(MakertbinE2E, CalibrationFileOfTheWrongSize) {
  const fs::path dir = test_dir();
  fs::remove_all(dir);
  write_raw_samples(dir / "calib", 3);
  std::ofstream(dir / "calib" / "sample_101.bin", std::ios::binary) << std::string(700, 'x');
  const CliRun r = makertbin({}, "", false);
  const std::string msg = expect_one_error(r, false);
  EXPECT_NE(msg.find("sample_101.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("768"), std::string::npos) << msg;  // expected bytes: 3*16*16
  EXPECT_NE(msg.find("700"), std::string::npos) << msg;
}

TEST(MakertbinE2E, ImageThatDoesNotDecode) {
  const fs::path dir = test_dir();
  fs::remove_all(dir);
  fs::create_directories(dir / "images");
  std::ofstream(dir / "images" / "broken.jpg", std::ios::binary) << "\xff\xd8\xff\xe0 not really a jpeg";
  YamlOptions o;
  o.cal_dir = "images";
  o.extra_calibration = "  preprocess_on: True\n";
  const CliRun r = makertbin(o, "", false);
  const std::string msg = expect_one_error(r, false);
  EXPECT_NE(msg.find("broken.jpg"), std::string::npos) << msg;
}

TEST(MakertbinE2E, Nv12WithAnOddHeight) {
  // A model whose input is 1x3x15x16: Relu only, written with the project's own exporter.
  const fs::path dir = test_dir();
  fs::remove_all(dir);
  fs::create_directories(dir);
  qmap::Graph g;
  g.name = "odd";
  const auto x = g.add_value("input", DType::kFloat32, qmap::Dims{1, 3, 15, 16});
  const auto y = g.add_value("y", DType::kFloat32, qmap::Dims{1, 3, 15, 16});
  g.inputs = {x};
  g.outputs = {y};
  qmap::Node n;
  n.name = "relu";
  n.op_type = "Relu";
  n.op = *qmap::op_by_name("Relu");
  n.inputs = {x};
  n.outputs = {y};
  g.nodes.push_back(n);
  g.rebuild_producers();
  ASSERT_TRUE(qmap::export_onnx(g, (dir / "odd.onnx").string()).ok());
  write_raw_samples(dir / "calib", 2, 3 * 15 * 16);
  YamlOptions o;
  o.model = (dir / "odd.onnx").string();
  o.input_shape = "1x3x15x16";
  o.input_type_rt = "nv12";
  const CliRun r = makertbin(o, "", false);
  const std::string msg = expect_one_error(r, false);
  EXPECT_NE(msg.find("nv12"), std::string::npos) << msg;
  EXPECT_NE(msg.find("15"), std::string::npos) << msg;
}

TEST(MakertbinE2E, MeanWithTheWrongNumberOfChannels) {
  YamlOptions o;
  o.mean = "123.675 116.28";
  const CliRun r = makertbin(o);
  const std::string msg = expect_one_error(r, false);
  EXPECT_NE(msg.find("mean_value"), std::string::npos) << msg;
  EXPECT_NE(msg.find("2"), std::string::npos) << msg;
}

TEST(MakertbinE2E, OutputNodeThatDoesNotExist) {
  YamlOptions o;
  o.extra_model = "  output_nodes: 'no_such_node'\n";
  const CliRun r = makertbin(o);
  const std::string msg = expect_one_error(r, false);
  EXPECT_NE(msg.find("no_such_node"), std::string::npos) << msg;
}

TEST(MakertbinE2E, InputShapeWithoutInputNameNamesTheOnlyInput) {
  YamlOptions o;
  o.input_name = "";
  const CliRun r = makertbin(o);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  o.input_shape = "1x3x16x17";  // not the model's: named in the error
  const CliRun bad = makertbin(o);
  const std::string msg = expect_one_error(bad, false);
  EXPECT_NE(msg.find("1x3x16x17"), std::string::npos) << msg;
}

TEST(MakertbinE2E, UnknownYamlKeyIsNamed) {
  YamlOptions o;
  o.extra_calibration = "  calibration_typo: kl\n";
  const CliRun r = makertbin(o);
  const std::string msg = expect_one_error(r, false);
  EXPECT_NE(msg.find("calibration_typo"), std::string::npos) << msg;
}

}  // namespace

namespace {

// --- Caffe models and several featuremap inputs ---

std::string caffe_case(const std::string& c, const std::string& file) {
  return std::string(QMAP_TEST_DATA) + "/caffe/" + c + "/" + file;
}

CliRun makertbin_caffe(const std::string& yaml_text) {
  const fs::path dir = test_dir();
  std::ofstream(dir / "cfg.yaml") << yaml_text;
  return run_qmap_in(dir, "makertbin --config cfg.yaml --model-type caffe --no-progress", "model_output/makertbin.log");
}

TEST(MakertbinE2E, CaffeModelWithABgrImageInput) {
  // tests/data/caffe/bn_scale: Convolution -> BatchNorm -> Scale on a 1x3x7x7 "data" blob.
  const fs::path dir = test_dir();
  fs::remove_all(dir);
  write_raw_samples(dir / "calib", 6, 3 * 7 * 7);
  const CliRun r = makertbin_caffe(
      "model_parameters:\n  prototxt: '" + caffe_case("bn_scale", "deploy.prototxt") + "'\n  caffe_model: '" +
      caffe_case("bn_scale", "model.caffemodel") +
      "'\n  march: generic\n  output_model_file_prefix: bn\n"
      "input_parameters:\n  input_type_train: bgr\n  input_layout_train: NCHW\n  input_type_rt: bgr\n"
      "  input_layout_rt: NHWC\n  norm_type: data_mean\n  mean_value: 104 117 123\n"
      "calibration_parameters:\n  cal_data_dir: calib\n  calibration_type: max\n");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(fs::exists(r.dir / "model_output" / "bn_quantized_model.onnx"));
  EXPECT_NE(r.out.find("PREPROCESS_data"), std::string::npos) << r.out;
  EXPECT_GE(output_cosine(r.out), 0.99) << r.out;
}

TEST(MakertbinE2E, ThreeFeaturemapInputsWithFloatCalibrationData) {
  // y = Relu(a + b) * c over three 1x3x4x5 float inputs, written with the project's exporter;
  // calibration data as float32 files (the _f32 suffix), one folder per input (`;` lists).
  const fs::path dir = test_dir();
  fs::remove_all(dir);
  fs::create_directories(dir);
  ASSERT_TRUE(qmap::testing::write_three_input_model("three_inputs", (dir / "three.onnx").string()).ok());
  std::mt19937 rng(3);
  std::normal_distribution<float> gauss(0.f, 1.f);
  for (const char* in : {"a", "b", "c"}) {
    fs::create_directories(dir / in);
    for (int i = 0; i < 5; ++i) {
      std::vector<float> v(3 * 4 * 5);
      for (float& x : v) x = gauss(rng);
      std::ofstream(dir / in / ("s" + std::to_string(i) + "_f32.bin"), std::ios::binary)
          .write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
    }
  }
  std::ofstream(dir / "cfg.yaml")
      << "model_parameters:\n  onnx_model: three.onnx\n  march: generic\n  output_model_file_prefix: three\n"
         "input_parameters:\n  input_name: a; b; c\n  input_type_train: featuremap; featuremap; featuremap\n"
         "  input_layout_train: NCHW; NCHW; NCHW\n  input_type_rt: featuremap; featuremap; featuremap\n"
         "  norm_type: no_preprocess; no_preprocess; no_preprocess\n"
         "calibration_parameters:\n  cal_data_dir: a; b; c\n  calibration_type: default\n";
  const CliRun run = run_qmap_in(dir, "makertbin --config cfg.yaml --model-type onnx --no-progress",
                                 "model_output/makertbin.log");
  ASSERT_EQ(run.code, 0) << run.out << run.err;
  EXPECT_TRUE(fs::exists(run.dir / "model_output" / "three_quantized_model.onnx"));
  EXPECT_GE(output_cosine(run.out), 0.98) << run.out;
  // skip calibrates on seeded random inputs: the float graph inputs need thresholds too.
  std::ofstream(dir / "cfg_skip.yaml")
      << "model_parameters:\n  onnx_model: three.onnx\n  march: generic\n  output_model_file_prefix: three\n"
         "  working_dir: skip_output\n"
         "input_parameters:\n  input_name: a; b; c\n  input_type_train: featuremap; featuremap; featuremap\n"
         "  input_layout_train: NCHW; NCHW; NCHW\n  input_type_rt: featuremap; featuremap; featuremap\n"
         "  norm_type: no_preprocess; no_preprocess; no_preprocess\n"
         "calibration_parameters:\n  calibration_type: skip\n";
  const CliRun skip = run_qmap_in(dir, "makertbin --config cfg_skip.yaml --model-type onnx --no-progress",
                                  "skip_output/makertbin.log");
  ASSERT_EQ(skip.code, 0) << skip.out << skip.err;
  EXPECT_TRUE(fs::exists(skip.dir / "skip_output" / "three.bin"));
}

TEST(MakertbinE2E, RunOnCpuKeepsANodeInFloat) {
  YamlOptions o;
  // tiny_cnn's first depthwise convolution (see tests/data/models/README.md); the node table
  // must show it on the CPU.
  const CliRun probe = makertbin(o);
  ASSERT_EQ(probe.code, 0) << probe.err;
  std::string conv;
  for (const std::string& l : lines(probe.out)) {
    std::istringstream s(l);
    std::string name, on, sub, type;
    if (s >> name >> on >> sub >> type && on == "NPU" && type == "Conv" && name.rfind("PREPROCESS", 0) != 0) {
      conv = name;
      break;
    }
  }
  ASSERT_FALSE(conv.empty()) << probe.out;
  o.extra_calibration = "  run_on_cpu: '" + conv + "'\n";
  const CliRun r = makertbin(o);
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  bool on_cpu = false;
  for (const std::string& l : lines(r.out)) {
    std::istringstream s(l);
    std::string name, on;
    if (s >> name >> on && name == conv) on_cpu = on == "CPU";
  }
  EXPECT_TRUE(on_cpu) << r.out;
}

// A config as hb_mapper users write it for an X3 camera: march bernoulli2, nv12 with an
// input_layout_rt beside it, every per-input value closed with ';', std_value, and the
// compiler keys qmap reads without effect. It converts; the log says what was ignored.
TEST(MakertbinE2E, HbMapperStyleConfigForBernoulli2) {
  const fs::path dir = test_dir();
  fs::remove_all(dir);
  write_raw_samples(dir / "calib", 4);
  std::ofstream(dir / "cfg.yaml") << "model_parameters:\n"
                                     "  onnx_model: '" + kTinyCnn + "'\n"
                                     "  march: 'bernoulli2'\n"
                                     "  working_dir: 'model_output'\n"
                                     "  output_model_file_prefix: 'tiny_nv12'\n"
                                     "  layer_out_dump: False\n"
                                     "input_parameters:\n"
                                     "  input_name: 'input;'\n"
                                     "  input_type_rt: 'nv12;'\n"
                                     "  input_layout_rt: 'NCHW;'\n"
                                     "  input_type_train: 'rgb;'\n"
                                     "  input_layout_train: 'NCHW;'\n"
                                     "  input_shape: '1x3x16x16;'\n"
                                     "  norm_type: 'data_mean_and_scale;'\n"
                                     "  mean_value: '123.675 116.28 103.53;'\n"
                                     "  std_value: '58.395 57.12 57.375;'\n"
                                     "calibration_parameters:\n"
                                     "  cal_data_dir: './calib;'\n"
                                     "  cal_data_type: 'uint8;'\n"
                                     "  calibration_type: 'max'\n"
                                     "  per_channel: False\n"
                                     "compiler_parameters:\n"
                                     "  compile_mode: 'latency'\n"
                                     "  core_num: 2\n"
                                     "  optimize_level: 'O3'\n"
                                     "  max_time_per_fc: 1000\n"
                                     "  jobs: 2\n"
                                     "custom_op:\n";
  const CliRun r = run_qmap_in(dir, "makertbin --config cfg.yaml --model-type onnx --no-progress",
                               "model_output/makertbin.log");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(fs::exists(r.dir / "model_output" / "tiny_nv12.bin"));
  EXPECT_NE(r.log.find("march: bernoulli2"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("key 'input_parameters.input_layout_rt' (line 10): input 'input': 'NCHW' ignored: nv12 has "
                       "no layout"),
            std::string::npos)
      << r.log;
  for (const char* key : {"compile_mode", "core_num", "optimize_level", "max_time_per_fc"})
    EXPECT_NE(r.log.find(std::string("key 'compiler_parameters.") + key + "'"), std::string::npos) << key << r.log;
  EXPECT_NE(r.log.find("'2': no effect in qmap"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("worker threads: 2"), std::string::npos) << r.log;  // jobs is implemented
  // bernoulli2 runs Softmax on the CPU and the convolutions on the NPU.
  bool softmax_on_cpu = false, conv_on_npu = false;
  for (const std::string& l : lines(r.out)) {
    std::istringstream s(l);
    std::string name, on, sub, type;
    if (!(s >> name >> on >> sub >> type)) continue;
    if (type == "Softmax") softmax_on_cpu = on == "CPU";
    if (type == "Conv" && on == "NPU") conv_on_npu = true;
  }
  EXPECT_TRUE(softmax_on_cpu) << r.out;
  EXPECT_TRUE(conv_on_npu) << r.out;
}

}  // namespace
