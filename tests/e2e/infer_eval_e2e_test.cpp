// `qmap infer` and `qmap eval` end to end: tiny_cnn.onnx converted by `qmap makertbin` in the
// test's folder (seeded raw calibration samples), PNG images the test writes, and the
// printed top-k, the REPORT block, the JSON and one-line errors.
#include <stdlib.h>

#include <algorithm>
#include <random>
#include <regex>

#include <fmt/format.h>

#include "cli_util.h"
#include "image/test_image_writers.h"
#include "program/bin_reader.h"

namespace {

using namespace qmap::e2e;

const std::string kTinyCnn = std::string(QMAP_TEST_DATA) + "/models/tiny_cnn.onnx";
const std::string kFlags = "--mean 123.675,116.28,103.53 --scale 0.017125,0.017507,0.017429";

void write_png(const fs::path& path, int64_t h, int64_t w, uint32_t seed) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << qmap::testing::encode_png(qmap::testing::random_image(h, w, 3, seed));
}

// A fresh folder with tiny_cnn converted into model_output/ (tiny_*.onnx), input uint8 NHWC.
fs::path converted() {
  const fs::path dir = test_dir();
  fs::remove_all(dir);
  fs::create_directories(dir / "calib");
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> px(0, 255);
  for (int i = 0; i < 6; ++i) {
    std::string bytes(3 * 16 * 16, '\0');
    for (char& c : bytes) c = static_cast<char>(px(rng));
    std::ofstream(dir / "calib" / fmt::format("s{}.bin", i), std::ios::binary) << bytes;
  }
  std::ofstream(dir / "cfg.yaml") << "model_parameters:\n  onnx_model: '" + kTinyCnn +
                                         "'\n  march: generic\n  output_model_file_prefix: tiny\n"
                                         "input_parameters:\n  input_name: input\n  input_type_train: rgb\n"
                                         "  input_layout_train: NCHW\n  input_type_rt: rgb\n  input_layout_rt: NHWC\n"
                                         "  norm_type: data_mean_and_scale\n  mean_value: 123.675 116.28 103.53\n"
                                         "  scale_value: 0.017125 0.017507 0.017429\n"
                                         "calibration_parameters:\n  cal_data_dir: calib\n  calibration_type: max\n";
  const CliRun r = run_qmap_in(dir, "makertbin --config cfg.yaml --model-type onnx --no-progress", "");
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  return dir;
}

// The rows of the top-k table: "<rank> <class> <probability> [name]".
std::vector<std::smatch> top_rows(const std::string& out, std::vector<std::string>* storage) {
  std::vector<std::smatch> rows;
  static const std::regex row(R"(^(\d+)\s+(\d+)\s+([0-9.]+)\s*(.*)$)");
  *storage = lines(out);
  for (const std::string& l : *storage) {
    std::smatch m;
    if (std::regex_match(l, m, row)) rows.push_back(m);
  }
  return rows;
}

TEST(InferE2E, ImageThroughTheQuantizedModelWithLabels) {
  const fs::path dir = converted();
  write_png(dir / "cat.png", 40, 52, 1);
  std::ofstream(dir / "synset.txt") << "n00000000 zero\nn00000001 one\nn00000002 two\nn00000003 three\nn00000004 four\n"
                                       "n00000005 five\nn00000006 six\nn00000007 seven\nn00000008 eight\nn00000009 nine\n";
  const CliRun r = run_qmap_in(dir, "infer --model model_output/tiny_quantized_model.onnx --image cat.png "
                                    "--labels synset.txt --top 3 --center-crop 36",
                               "");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("(quantized onnx)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Input 'input': uint8 1x16x16x3 from image 'cat.png'"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Output 'output': float32 1x10"), std::string::npos) << r.out;
  std::vector<std::string> keep;
  const auto rows = top_rows(r.out, &keep);
  ASSERT_EQ(rows.size(), 3u) << r.out;
  const char* names[] = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
  double prev = 2;
  for (size_t k = 0; k < rows.size(); ++k) {
    EXPECT_EQ(rows[k][1], std::to_string(k + 1));
    const double p = std::stod(rows[k][3]);
    EXPECT_LE(p, prev);  // sorted by probability
    prev = p;
    EXPECT_EQ(rows[k][4].str(), names[std::stoi(rows[k][2])]);  // the synset's name part
  }
}

// --profile on the .bin: one row per program step (node, kind, kernel, time) and a total;
// on an ONNX model it is an error (the per-layer timer is the runtime's).
TEST(InferE2E, ProfilePrintsOneRowPerStep) {
  const fs::path dir = converted();
  write_png(dir / "cat.png", 16, 16, 2);
  const CliRun r = run_qmap_in(dir, "infer --model model_output/tiny.bin --image cat.png --profile", "");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  auto bin = qmap::read_bin_file((dir / "model_output/tiny.bin").string());
  ASSERT_TRUE(bin.ok()) << bin.status().message();
  const size_t at = r.out.find("Per-layer times (one run after a warm-up run, wall clock per step)");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::vector<std::string> ls = lines(r.out.substr(at));
  // Title, rule, header, rule, one row per step, the total, rule.
  ASSERT_EQ(ls.size(), bin->program.steps.size() + 6) << r.out;
  for (size_t i = 0; i < bin->program.steps.size(); ++i) {
    const std::string& row = ls[4 + i];
    EXPECT_EQ(row.rfind(std::to_string(i) + " ", 0), 0u) << row;
    EXPECT_NE(row.find(" " + bin->program.steps[i].node + " "), std::string::npos) << row;
    EXPECT_NE(row.find("%"), std::string::npos) << row;
  }
  EXPECT_NE(ls[4 + bin->program.steps.size()].find("total"), std::string::npos);
  const CliRun q = run_qmap_in(dir, "infer --model model_output/tiny_quantized_model.onnx --image cat.png --profile", "");
  EXPECT_NE(expect_one_error(q, false).find("--profile: model 'model_output/tiny_quantized_model.onnx' is a quantized onnx"),
            std::string::npos) << q.err;
}

TEST(InferE2E, RawInputAndOutputDir) {
  const fs::path dir = converted();
  std::ofstream(dir / "x.bin", std::ios::binary) << std::string(16 * 16 * 3, '\x40');
  const CliRun r = run_qmap_in(dir, "infer -m model_output/tiny_quantized_model.onnx --input x.bin --output-dir outs", "");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_EQ(fs::file_size(dir / "outs" / "output.bin"), 40u);  // 1x10 float32
  // The float stages take the same uint8 input and agree on the top class.
  const CliRun f = run_qmap_in(dir, "infer -m model_output/tiny_original_float_model.onnx --input x.bin --top 1", "");
  ASSERT_EQ(f.code, 0) << f.err;
  std::vector<std::string> ka, kb;
  const auto qa = top_rows(r.out, &ka);
  const auto fa = top_rows(f.out, &kb);
  ASSERT_FALSE(qa.empty());
  ASSERT_EQ(fa.size(), 1u);
  EXPECT_EQ(qa[0][2], fa[0][2]);
}

TEST(InferE2E, WrongRawSizeAndUndecodableImage) {
  const fs::path dir = converted();
  std::ofstream(dir / "short.bin", std::ios::binary) << std::string(700, 'x');
  const std::string msg = expect_one_error(
      run_qmap_in(dir, "infer -m model_output/tiny_quantized_model.onnx --input short.bin", ""), false);
  EXPECT_NE(msg.find("short.bin"), std::string::npos) << msg;
  EXPECT_NE(msg.find("700 bytes"), std::string::npos) << msg;
  EXPECT_NE(msg.find("768"), std::string::npos) << msg;
  std::ofstream(dir / "bad.png", std::ios::binary) << "\x89PNG\r\n\x1a\n broken";
  const std::string img = expect_one_error(run_qmap_in(dir, "infer -m " + kTinyCnn + " --image bad.png", ""), false);
  EXPECT_NE(img.find("bad.png"), std::string::npos) << img;
}

// 2 classes x 3 PNGs of different sizes, one sub-folder per class.
void write_class_set(const fs::path& root) {
  for (int c = 0; c < 2; ++c)
    for (int i = 0; i < 3; ++i)
      write_png(root / fmt::format("c{}", c) / fmt::format("{}.png", i), 16 + 4 * i, 18 + c, 20 * c + i);
}

TEST(EvalE2E, FloatAndQuantizedSideBySideSameForAnyJobs) {
  const fs::path dir = converted();
  write_class_set(dir / "val");
  const std::string args = "eval -m " + kTinyCnn + " -m model_output/tiny_quantized_model.onnx --data val " + kFlags +
                           " --no-progress --json r";
  const CliRun one = run_qmap_in(dir, args + "1.json --jobs 1", "");
  const CliRun two = run_qmap_in(dir, args + "2.json --jobs 2", "");
  ASSERT_EQ(one.code, 0) << one.out << one.err;
  ASSERT_EQ(two.code, 0) << two.err;
  EXPECT_EQ(one.out, two.out);
  EXPECT_EQ(slurp(dir / "r1.json"), slurp(dir / "r2.json"));
  EXPECT_NE(one.out.find("quantized onnx"), std::string::npos) << one.out;
  // The block: start marker, the first model's top-1 as a 4-decimal fraction, end marker.
  std::smatch m;
  ASSERT_TRUE(std::regex_search(one.out, m, std::regex(R"(\n===REPORT-START\{MAPPER-EVAL\}===\n([0-9]\.[0-9]{4})\n===REPORT-END\{MAPPER-EVAL\}===\n$)")))
      << one.out;
  const std::string json = slurp(dir / "r1.json");
  EXPECT_NE(json.find("\"per_class\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"name\": \"c1\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"images\": 6"), std::string::npos) << json;
}

TEST(EvalE2E, ParallelProcessNumIsHonouredAndChecked) {
  const fs::path dir = converted();
  write_class_set(dir / "val");
  const std::string args = "eval -m model_output/tiny_quantized_model.onnx --data val --no-progress";
  // The child inherits the variable; --jobs would win over it.
  ::setenv("PARALLEL_PROCESS_NUM", "2", 1);
  const CliRun ok = run_qmap_in(dir, args, "");
  ::setenv("PARALLEL_PROCESS_NUM", "many", 1);
  const CliRun bad = run_qmap_in(dir, args, "");
  const CliRun flag = run_qmap_in(dir, args + " --jobs 1", "");
  ::unsetenv("PARALLEL_PROCESS_NUM");
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_EQ(flag.code, 0) << flag.err;
  EXPECT_EQ(ok.out, flag.out);
  const std::string msg = expect_one_error(bad, false);
  EXPECT_NE(msg.find("PARALLEL_PROCESS_NUM 'many'"), std::string::npos) << msg;
}

TEST(EvalE2E, LabelsFileWithABadLine) {
  const fs::path dir = converted();
  write_png(dir / "val" / "a.png", 16, 16, 1);
  std::ofstream(dir / "val.txt") << "a.png 1\na.png one\n";
  const std::string msg = expect_one_error(
      run_qmap_in(dir, "eval -m model_output/tiny_quantized_model.onnx --data val --labels val.txt", ""), false);
  EXPECT_NE(msg.find("labels 'val.txt' line 2"), std::string::npos) << msg;
}

}  // namespace
