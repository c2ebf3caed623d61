// The YAML corpus (tests/data/yaml/, see its README): realistic hb_mapper-style configs run
// end to end by `qmap makertbin`. Each test copies one config unchanged into a fresh folder,
// generates there the small model and the calibration data the config names, and checks the
// outputs and what the log says about the config.
#include <algorithm>
#include <cstdint>
#include <random>
#include <sstream>

#include "caffe_mobilenet.h"
#include "cli_util.h"
#include "three_input_model.h"
#include "import/onnx/onnx_export.h"
#include "ir/graph.h"
#include "ops/registry.h"

namespace {

using namespace qmap::e2e;
using qmap::DType;

const fs::path kCorpus = fs::path(QMAP_TEST_DATA) / "yaml";

// A fresh test folder holding a copy of the corpus config `name`.
fs::path folder_with(const std::string& name) {
  const fs::path dir = test_dir();
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(kCorpus / name, dir / name);
  return dir;
}

CliRun makertbin(const fs::path& dir, const std::string& config, const std::string& model_type,
                 const std::string& log) {
  return run_qmap_in(dir, "makertbin --config " + config + " --model-type " + model_type + " --no-progress", log);
}

// `n` samples of `count` elements: uint8 images (smooth gradients plus noise) or float32
// values in about [-2, 2], as numpy's tofile writes them. Fixed seeds.
void write_samples(const fs::path& dir, int n, size_t count, bool f32, uint32_t seed) {
  fs::create_directories(dir);
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> noise(-20, 20);
  std::normal_distribution<float> gauss(0.f, 1.f);
  for (int i = 0; i < n; ++i) {
    std::ofstream out(dir / ("sample_" + std::to_string(i) + ".bin"), std::ios::binary);
    for (size_t k = 0; k < count; ++k) {
      if (f32) {
        const float v = gauss(rng);
        out.write(reinterpret_cast<const char*>(&v), sizeof v);
      } else {
        out.put(static_cast<char>(std::clamp(static_cast<int>((k * (i + 3)) % 200) + 20 + noise(rng), 0, 255)));
      }
    }
  }
}

// The node table row of `node` in makertbin's output: {name, ON, ...}; empty if absent.
std::vector<std::string> row(const std::string& out, const std::string& node) {
  for (const std::string& l : lines(out)) {
    std::istringstream s(l);
    std::vector<std::string> f;
    for (std::string w; f.size() < 4 && s >> w;) f.push_back(w);
    if (!f.empty() && f[0] == node) return f;
  }
  return {};
}

std::string on_of(const std::string& out, const std::string& node) {
  const std::vector<std::string> f = row(out, node);
  return f.size() >= 2 ? f[1] : "(no row for " + node + ")";
}

TEST(YamlCorpusE2E, MobilenetCaffeBernoulli2) {
  const fs::path dir = folder_with("mobilenet_caffe_bernoulli2.yaml");
  write_caffe_mobilenet(dir / "model");
  fs::rename(dir / "model" / "deploy.prototxt", dir / "mobilenet_deploy.prototxt");
  fs::rename(dir / "model" / "model.caffemodel", dir / "mobilenet.caffemodel");
  // float32 BGR NCHW samples, as hb_mapper's preprocessing scripts write them (_f32 folder).
  write_samples(dir / "calibration_data_bgr_f32", 4, 3 * 32 * 32, true, 11);
  const CliRun r = makertbin(dir, "mobilenet_caffe_bernoulli2.yaml", "caffe", "model_output/makertbin.log");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(fs::exists(dir / "model_output" / "mobilenetv1_32x32_nv12.bin"));
  EXPECT_NE(r.log.find("march: bernoulli2"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("input_layout_rt' (line 15): input 'data': 'NCHW' ignored: nv12 has no layout"),
            std::string::npos)
      << r.log;
  EXPECT_NE(r.log.find("compiler_parameters.core_num' (line 33): '2': no effect in qmap"), std::string::npos)
      << r.log;
  EXPECT_EQ(on_of(r.out, "conv1"), "NPU") << r.out;
  EXPECT_EQ(on_of(r.out, "conv2_1/dw"), "NPU") << r.out;
  EXPECT_EQ(on_of(r.out, "prob"), "CPU") << r.out;
}

TEST(YamlCorpusE2E, YoloNv12BayesE) {
  const fs::path dir = folder_with("yolo_nv12_bayes_e.yaml");
  fs::copy_file(fs::path(QMAP_TEST_DATA) / "models" / "tiny_cnn.onnx", dir / "yolo_tiny.onnx");
  write_samples(dir / "calibration_data_rgb", 4, 3 * 16 * 16, false, 12);
  const CliRun r = makertbin(dir, "yolo_nv12_bayes_e.yaml", "onnx", "bin_dir/yolo_tiny/makertbin.log");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(fs::exists(dir / "bin_dir" / "yolo_tiny" / "yolo_tiny_bayese_16x16_nv12.bin"));
  EXPECT_NE(r.log.find("march: bayes-e"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("worker threads: 2"), std::string::npos) << r.log;
  EXPECT_NE(r.out.find("PREPROCESS_input"), std::string::npos) << r.out;
}

TEST(YamlCorpusE2E, FeaturemapThreeInputsNashE) {
  const fs::path dir = folder_with("featuremap_three_inputs.yaml");
  // y = Relu(a + b) * c over three 1x3x4x5 inputs, written with the project's exporter.
  ASSERT_TRUE(qmap::testing::write_three_input_model("fusion_head", (dir / "fusion_head.onnx").string()).ok());
  uint32_t seed = 20;
  for (const char* in : {"calib_a_f32", "calib_b_f32", "calib_c_f32"}) write_samples(dir / in, 4, 3 * 4 * 5, true, seed++);
  const CliRun r = makertbin(dir, "featuremap_three_inputs.yaml", "onnx", "model_output/makertbin.log");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(fs::exists(dir / "model_output" / "fusion_head.bin"));
  EXPECT_NE(r.log.find("march: nash-e"), std::string::npos) << r.log;
  for (const char* key : {"compile_mode", "core_num", "max_time_per_fc", "advice"})
    EXPECT_NE(r.log.find(std::string("compiler_parameters.") + key), std::string::npos) << key << "\n" << r.log;
  for (const char* n : {"add", "relu", "mul"}) EXPECT_EQ(on_of(r.out, n), "NPU") << r.out;
}

TEST(YamlCorpusE2E, NodeInfoRunOnCpuBayes) {
  const fs::path dir = folder_with("node_info_run_on_cpu.yaml");
  fs::copy_file(fs::path(QMAP_TEST_DATA) / "models" / "tiny_cnn.onnx", dir / "tiny_cnn.onnx");
  write_samples(dir / "calibration_data_rgb", 4, 3 * 16 * 16, false, 13);
  const CliRun r = makertbin(dir, "node_info_run_on_cpu.yaml", "onnx", "model_output/makertbin.log");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(fs::exists(dir / "model_output" / "tiny_cnn_fixed.bin"));
  EXPECT_NE(r.log.find("march: bayes"), std::string::npos) << r.log;
  EXPECT_EQ(on_of(r.out, "conv0"), "CPU") << r.out;  // node_info ON: CPU
  EXPECT_EQ(on_of(r.out, "conv1"), "CPU") << r.out;  // run_on_cpu
}

}  // namespace
