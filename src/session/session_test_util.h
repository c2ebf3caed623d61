// Test-only: tiny_cnn.onnx (1x3x16x16 -> Softmax 10) converted once per test program by the
// in-process makertbin pipeline, with seeded calibration data and PNG images the helper
// writes itself under the build tree.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/file_io.h"
#include "image/test_image_writers.h"
#include "makertbin/makertbin.h"

namespace qmap::testing {

// QMAP_BINARY_DIR/<prefix>_<pid>: a folder of this test process, removed when the process
// exits. ctest runs each test in its own process, in parallel, so the name carries the pid;
// without the removal every run of the suite left a few hundred such folders in the build tree.
inline std::string process_test_dir(const std::string& prefix) {
  struct Owned {
    std::mutex mu;
    std::vector<std::string> dirs;
    ~Owned() {
      for (const std::string& d : dirs) {
        std::error_code ec;
        std::filesystem::remove_all(d, ec);
      }
    }
  };
  static Owned owned;
  std::string d = std::string(QMAP_BINARY_DIR) + "/" + prefix + "_" + std::to_string(::getpid());
  const std::lock_guard<std::mutex> lock(owned.mu);
  if (std::find(owned.dirs.begin(), owned.dirs.end(), d) == owned.dirs.end()) owned.dirs.push_back(d);
  return d;
}

struct TinyModels {
  std::string dir;        // working folder
  std::string plain;      // tests/data/models/tiny_cnn.onnx (float input, no metadata)
  std::string original;   // makertbin's _original_float_model.onnx (uint8 NHWC input)
  std::string quantized;  // makertbin's _quantized_model.onnx
  std::string bin;        // makertbin's .bin
};

// The mean/scale the conversion uses (ImageNet's, in 0..255 units).
inline const std::vector<float> kTinyMean{123.675f, 116.28f, 103.53f};
inline const std::vector<float> kTinyScale{0.017125f, 0.017507f, 0.017429f};

// Writes a seeded random RGB PNG of h x w to `path`.
inline void write_png(const std::string& path, int64_t h, int64_t w, uint32_t seed) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path, std::ios::binary) << encode_png(random_image(h, w, 3, seed));
}

inline const TinyModels& tiny_models() {
  static const TinyModels models = [] {
    namespace fs = std::filesystem;
    TinyModels m;
    m.dir = process_test_dir("session_test_models");
    m.plain = std::string(QMAP_SOURCE_DIR) + "/tests/data/models/tiny_cnn.onnx";
    fs::remove_all(m.dir);
    fs::create_directories(m.dir + "/calib");
    // Raw uint8 training samples (rgb NCHW 3x16x16) as numpy's tofile writes them.
    std::mt19937 rng(11);
    std::uniform_int_distribution<int> px(0, 255);
    for (int i = 0; i < 6; ++i) {
      std::string bytes(3 * 16 * 16, '\0');
      for (char& c : bytes) c = static_cast<char>(px(rng));
      std::ofstream(m.dir + "/calib/s" + std::to_string(i) + ".bin", std::ios::binary) << bytes;
    }
    std::ofstream(m.dir + "/cfg.yaml") << "model_parameters:\n"
                                          "  onnx_model: '" + m.plain + "'\n"
                                          "  march: generic\n"
                                          "  working_dir: out\n"
                                          "  output_model_file_prefix: tiny\n"
                                          "input_parameters:\n"
                                          "  input_name: input\n"
                                          "  input_type_train: rgb\n"
                                          "  input_layout_train: NCHW\n"
                                          "  input_type_rt: rgb\n"
                                          "  input_layout_rt: NHWC\n"
                                          "  norm_type: data_mean_and_scale\n"
                                          "  mean_value: 123.675 116.28 103.53\n"
                                          "  scale_value: 0.017125 0.017507 0.017429\n"
                                          "calibration_parameters:\n"
                                          "  cal_data_dir: calib\n"
                                          "  calibration_type: max\n";
    Logger log(nullptr);
    MakertbinOptions o;
    o.config_path = m.dir + "/cfg.yaml";
    o.model_type = "onnx";
    o.jobs = 1;
    o.progress = false;
    const Status s = run_makertbin(o, log);
    EXPECT_TRUE(s.ok()) << s.message();
    m.original = m.dir + "/out/tiny_original_float_model.onnx";
    m.quantized = m.dir + "/out/tiny_quantized_model.onnx";
    m.bin = m.dir + "/out/tiny.bin";
    return m;
  }();
  return models;
}

}  // namespace qmap::testing
