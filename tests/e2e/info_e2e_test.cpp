// `qmap info` end to end: makertbin converts tests/data/models/tiny_cnn.onnx (calibration
// skip, its output Softmax removed by remove_node_type), the quantized ONNX is written as a
// .bin the way makertbin's `<prefix>.bin` step does (write_model_bin), and `qmap info` is run
// on the .bin, on the quantized ONNX (qmap metadata shown) and on broken .bin files.
#include <cstdlib>
#include <regex>

#include <fmt/format.h>

#include "cli_util.h"
#include "config/makertbin_config.h"
#include "program/bin_format.h"
#include "format/model_bin.h"
#include "import/onnx/onnx_import.h"

namespace {

using namespace qmap::e2e;

const std::string kTinyCnn = std::string(QMAP_TEST_DATA) + "/models/tiny_cnn.onnx";

std::string config_text() {
  return "model_parameters:\n"
         "  onnx_model: '" + kTinyCnn + "'\n"
         "  march: generic\n"
         "  working_dir: model_output\n"
         "  output_model_file_prefix: tiny\n"
         "  remove_node_type: Softmax\n"
         "input_parameters:\n"
         "  input_name: input\n"
         "  input_shape: 1x3x16x16\n"
         "  input_type_train: rgb\n"
         "  input_layout_train: NCHW\n"
         "  input_type_rt: rgb\n"
         "  input_layout_rt: NHWC\n"
         "  norm_type: data_mean_and_scale\n"
         "  mean_value: 123.675 116.28 103.53\n"
         "  scale_value: 0.017125 0.017507 0.017429\n"
         "calibration_parameters:\n"
         "  calibration_type: skip\n";
}

// makertbin in a fresh folder, then the .bin from its quantized model. Returns the folder.
fs::path build_bin() {
  const fs::path dir = test_dir();
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "cfg.yaml") << config_text();
  const CliRun r = run_qmap_in(dir, "makertbin --config cfg.yaml --model-type onnx", "model_output/makertbin.log");
  EXPECT_EQ(r.code, 0) << r.out << r.err;

  // What makertbin's .bin step does (its one write_model_bin line), from the same inputs:
  // the config, the nodes remove_node_type reported and the quantized graph.
  auto cfg = qmap::parse_makertbin_config(config_text(), (dir / "cfg.yaml").string(), qmap::ModelType::kOnnx);
  EXPECT_TRUE(cfg.ok()) << cfg.status().message();
  std::vector<std::string> removed;
  const std::regex re("remove_node_type: removed '([^']+)'");
  for (std::sregex_iterator it(r.log.begin(), r.log.end(), re), end; it != end; ++it) removed.push_back((*it)[1]);
  EXPECT_EQ(removed.size(), 1u) << r.log;
  auto q = qmap::import_onnx((dir / "model_output/tiny_quantized_model.onnx").string(), {});
  EXPECT_TRUE(q.ok()) << q.status().message();
  if (cfg.ok() && q.ok()) {
    const qmap::Status st = qmap::write_model_bin(*q, qmap::makertbin_bin_metadata(*cfg, removed),
                                                  (dir / "model_output/tiny.bin").string(), cfg->compiler.prepack)
                                 .status();
    EXPECT_TRUE(st.ok()) << st.message();
  }
  return dir;
}

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "missing: " << part << "\nin:\n" << text;
}

TEST(InfoE2e, BinShowsVersionMarchIoPlacementRemovedNodesAndYaml) {
  const fs::path dir = build_bin();
  const CliRun r = run_qmap_in(dir, "info model_output/tiny.bin", "none");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.err, "");
  expect_contains(r.out, fmt::format("model: model_output/tiny.bin (qmap .bin format v{})\n", qmap::binfmt::kFormatVersion));
  expect_contains(r.out, "qmap version: 0.1.0\n");
  expect_contains(r.out, "march: generic\n");
  expect_contains(r.out, "created by: qmap makertbin\n");
  // The input takes the runtime type and layout (uint8 rgb NHWC, read as scale 1 zero point 0),
  // the training view beside it.
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\ninput +input +rgb +NHWC +1x16x16x3 +uint8 +scale 1 zp 0 +rgb NCHW 1x3x16x16\n)")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n\S+ +output +- +- +1x10 +float32 )"))) << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(Placement: \d+ steps: \d+ integer, \d+ border \(quantize/dequantize\), 0 float; 1 NPU subgraph, 0 CPU subgraphs\n)")))
      << r.out;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n0 +NPU +\d+ +\S+ +\S+\n)"))) << r.out;
  expect_contains(r.out, "Steps by kind: ");
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(Removed nodes: \S+\n)"))) << r.out;
  // makertbin stores the arena plan it computed offline (format/model_bin.cpp).
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(Memory plan: arena of [0-9]+ bytes, [0-9]+ step outputs? in place\n)"))) << r.out;
  // makertbin's default prepack: this CPU's ISA's packed weights, which info's own load adopts.
  const std::string isa = qmap::kernels::isa_name(qmap::kernels::best_host_isa());
  if (isa == "ref") {
    expect_contains(r.out, "Packed weights: none (a load packs every convolution's weights)\n");
  } else {
    EXPECT_TRUE(std::regex_search(
        r.out, std::regex("Packed weights \\(a load on these ISAs adopts them\\): " + isa + " \\([1-9][0-9]* steps, ")))
        << r.out;
    // info's own load adopts them unless QMAP_ISA makes it load another level (scripts/test.sh
    // --matrix), whose kernels pack for themselves.
    const char* forced = std::getenv("QMAP_ISA");
    if (forced == nullptr || *forced == '\0' || isa == forced)
      EXPECT_TRUE(std::regex_search(r.out, std::regex("; [1-9][0-9]* use the file's packed weights\n"))) << r.out;
    else
      EXPECT_EQ(r.out.find("use the file's packed weights"), std::string::npos) << r.out;
  }
  expect_contains(r.out, "\nYAML used:\n  model_parameters:\n");
  expect_contains(r.out, "\n    remove_node_type: Softmax\n");
  // Deterministic: the same conversion gives the same bytes.
  const std::string first = slurp(dir / "model_output/tiny.bin");
  const fs::path again = build_bin();
  EXPECT_EQ(slurp(again / "model_output/tiny.bin"), first);
}

TEST(InfoE2e, QuantizedOnnxShowsQmapMetadataThenTheIr) {
  const fs::path dir = build_bin();
  const CliRun r = run_qmap_in(dir, "info model_output/tiny_quantized_model.onnx", "none");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(r.out.rfind("qmap metadata\n", 0), 0u) << r.out;
  expect_contains(r.out, "qmap_march: generic\n");
  expect_contains(r.out, "qmap_version: 0.1.0\n");
  expect_contains(r.out, "qmap_makertbin_yaml:\n  model_parameters:\n");
  expect_contains(r.out, "QuantizeLinear");  // the IR dump follows
  // The float model without qmap metadata prints only the IR, as before.
  const CliRun plain = run_qmap_in(dir, "info '" + kTinyCnn + "'", "none");
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_EQ(plain.out.find("qmap metadata"), std::string::npos);
}

TEST(InfoE2e, BrokenBinIsOneClearError) {
  const fs::path dir = build_bin();
  const std::string good = slurp(dir / "model_output/tiny.bin");
  ASSERT_GT(good.size(), 200u);
  std::ofstream(dir / "cut.bin", std::ios::binary) << good.substr(0, good.size() - 7);
  std::ofstream(dir / "text.bin", std::ios::binary) << "hello, not a model\n";
  std::string flipped = good;
  flipped[flipped.size() / 2] ^= 0x10;
  std::ofstream(dir / "flipped.bin", std::ios::binary) << flipped;

  CliRun r = run_qmap_in(dir, "info cut.bin", "none");
  EXPECT_EQ(expect_one_error(r, false),
            fmt::format("bin 'cut.bin': truncated: the header says the file has {} bytes, it has {}", good.size(),
                        good.size() - 7));
  r = run_qmap_in(dir, "info text.bin", "none");
  EXPECT_EQ(expect_one_error(r, false),
            "bin 'text.bin': header magic at offset 0 is 68 65 6c 6c 6f 2c 20 6e: not a qmap .bin file (expected "
            "\"QMAPBIN\\0\")");
  r = run_qmap_in(dir, "info flipped.bin", "none");
  EXPECT_NE(expect_one_error(r, false).find("bin 'flipped.bin': checksum mismatch"), std::string::npos) << r.err;
  r = run_qmap_in(dir, "info missing.bin", "none");
  EXPECT_NE(expect_one_error(r, false).find("missing.bin"), std::string::npos) << r.err;
}

}  // namespace
