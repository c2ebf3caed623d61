// `qmap verify` end to end: makertbin converts tests/data/models/tiny_cnn.onnx with an nv12
// runtime input (calibration data: seeded raw uint8 rgb samples the test writes), then verify
// compares the integer simulator with the runtime on seeded random NV12 inputs, per output
// and per node, on a given input file, and rejects an input file of the wrong size; and, where
// makertbin writes the .bin (the format module), verify runs that file in the runtime.
#include <random>

#include "cli_util.h"

namespace {

using namespace qmap::e2e;

// Converts tiny_cnn once per test folder; returns the folder.
fs::path convert_nv12_model() {
  const fs::path dir = test_dir();
  fs::remove_all(dir);
  fs::create_directories(dir / "calib");
  std::mt19937 rng(17);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 4; ++i) {
    std::string data(3 * 16 * 16, '\0');
    for (char& c : data) c = static_cast<char>(byte(rng));
    std::string file = "s";  // appended piecewise: "s" + to_string(i) trips GCC 12's -Wrestrict
    file += std::to_string(i) + ".bin";
    std::ofstream(dir / "calib" / file, std::ios::binary) << data;
  }
  std::ofstream(dir / "cfg.yaml") << "model_parameters:\n"
                                     "  onnx_model: '" QMAP_TEST_DATA "/models/tiny_cnn.onnx'\n"
                                     "  march: generic\n"
                                     "  output_model_file_prefix: tiny\n"
                                     "input_parameters:\n"
                                     "  input_name: input\n"
                                     "  input_shape: 1x3x16x16\n"
                                     "  input_type_train: rgb\n"
                                     "  input_layout_train: NCHW\n"
                                     "  input_type_rt: nv12\n"
                                     "  norm_type: data_mean_and_scale\n"
                                     "  mean_value: 128\n"
                                     "  scale_value: 0.0078125\n"
                                     "calibration_parameters:\n"
                                     "  cal_data_dir: calib\n"
                                     "  calibration_type: max\n";
  const CliRun r = run_qmap_in(dir, "makertbin --config cfg.yaml --model-type onnx --no-progress", "model_output/makertbin.log");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  return dir;
}

const char* kQuantized = "--quantized model_output/tiny_quantized_model.onnx";

TEST(VerifyE2E, RandomInputsPerOutputAndPerNode) {
  const fs::path dir = convert_nv12_model();
  CliRun r = run_qmap_in(dir, std::string("verify ") + kQuantized, "none");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Mismatches"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("verify: PASS: the runtime and the simulator agree bit for bit on 5 seeded random input sets"),
            std::string::npos)
      << r.out;

  r = run_qmap_in(dir, std::string("verify --all-nodes ") + kQuantized, "none");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  // One row per program tensor: the input, the preprocess, convolutions, ... and the output.
  EXPECT_GT(lines(r.out).size(), 12u) << r.out;
  EXPECT_NE(r.out.find("input "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("missing in the runtime"), std::string::npos) << r.out;
}

TEST(VerifyE2E, GivenNv12InputAndWrongSize) {
  const fs::path dir = convert_nv12_model();
  std::string nv12(16 * 16 * 3 / 2, '\0');
  for (size_t i = 0; i < nv12.size(); ++i) nv12[i] = static_cast<char>((i * 29) % 256);
  std::ofstream(dir / "frame.nv12", std::ios::binary) << nv12;
  std::ofstream(dir / "short.bin", std::ios::binary) << std::string(100, 'x');
  CliRun r = run_qmap_in(dir, std::string("verify --input frame.nv12 ") + kQuantized, "none");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("agree bit for bit on the given input"), std::string::npos) << r.out;

  r = run_qmap_in(dir, std::string("verify --input short.bin ") + kQuantized, "none");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("input 'input': got 100 bytes, expected 384 (nv12 uint8 1x16x16x3 as NV12 frames"),
            std::string::npos)
      << r.err;

  r = run_qmap_in(dir, "verify --quantized missing.onnx", "none");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("missing.onnx"), std::string::npos) << r.err;
}

TEST(VerifyE2E, TheBinMakertbinWrote) {
  const fs::path dir = convert_nv12_model();
  if (!fs::exists(dir / "model_output" / "tiny.bin")) GTEST_SKIP() << "this tree's makertbin writes no .bin";
  CliRun r = run_qmap_in(dir, std::string("verify --all-nodes --bin model_output/tiny.bin ") + kQuantized, "none");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("verify: PASS"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("no --bin"), std::string::npos) << r.out;
  // A damaged file is refused by the reader with a message naming it, never run.
  std::string bytes = slurp(dir / "model_output" / "tiny.bin");
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5a);
  std::ofstream(dir / "bad.bin", std::ios::binary) << bytes;
  r = run_qmap_in(dir, std::string("verify --bin bad.bin ") + kQuantized, "none");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bad.bin"), std::string::npos) << r.err;
}

}  // namespace
