// `qmap checker` end to end: the binary on the models of tests/data/checker/ (written by
// tools/gen_checker_models.py). Asserts on exit codes, the node table, stderr and the log.
//
// Tests that need the `generic` march skip (naming the missing ops) while the IR lacks an
// op that generic.yaml lists; the others use a small march file holding only Relu.
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "caffe_mobilenet.h"
#include "cli_util.h"
#include "ops/registry.h"
#include "target/target_spec.h"

namespace {

namespace fs = std::filesystem;

using qmap::e2e::CliRun;
using qmap::e2e::expect_one_error;
using qmap::e2e::lines;
using qmap::e2e::slurp;

std::string model(const std::string& name) { return std::string(QMAP_TEST_DATA) + "/checker/" + name; }

// Runs qmap in a fresh folder named after the current test.
CliRun qmap(const std::string& args) {
  fs::remove_all(qmap::e2e::test_dir());
  return qmap::e2e::run_qmap_in(qmap::e2e::test_dir(), args, "qmap_checker.log");
}

// The table row of `node`, split on whitespace (the note keeps its spaces as one field).
std::vector<std::string> row(const std::string& text, const std::string& node) {
  for (const std::string& l : lines(text)) {
    if (l.rfind(node + " ", 0) != 0) continue;
    std::istringstream s(l);
    std::vector<std::string> f;
    for (std::string w; f.size() < 4 && s >> w;) f.push_back(w);
    std::string rest;
    std::getline(s, rest);
    const size_t b = rest.find_first_not_of(' ');
    f.push_back(b == std::string::npos ? "" : rest.substr(b));
    return f;
  }
  return {};
}

// A march holding only Relu, so these tests run whatever op families the IR has.
std::string relu_march(bool with_relu) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path p = fs::path(QMAP_E2E_WORK) / (std::string(info->name()) + "_march.yaml");
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "name: relu_only\ndescription: test march\n"
                      "cost_model: {clock_mhz: 1, int8_macs_per_cycle: 1, ddr_bandwidth_gbps: 1, sram_kib: 1,\n"
                      "             cpu_gflops: 1, subgraph_switch_us: 1}\n"
                   << (with_relu ? "npu_ops:\n  Relu:\n" : "npu_ops: {}\n");
  return p.string();
}

#define SKIP_UNLESS_GENERIC_LOADS()                                                        \
  do {                                                                                    \
    auto spec = qmap::load_target_spec("generic");                                        \
    if (!spec.ok()) GTEST_SKIP() << "generic march not loadable yet: " << spec.status().message(); \
  } while (0)

// --- Caffe models (tests/data/caffe/, written by tools/gen_caffe_models.py) ---

std::string caffe_case(const std::string& c, const std::string& file) {
  return std::string(QMAP_TEST_DATA) + "/caffe/" + c + "/" + file;
}

// A file in the current test's work folder (bad inputs are made per test).
std::string work_file(const std::string& name, const std::string& content) {
  const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const fs::path p = fs::path(QMAP_E2E_WORK) / (std::string(info->name()) + "_" + name);
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << content;
  return p.string();
}

std::string caffe_args(const std::string& proto, const std::string& caffemodel, const std::string& march) {
  return "checker --model-type caffe --proto " + proto + " --model " + caffemodel + " --march " + march;
}

TEST(CheckerE2E, CaffeNeedsProto) {
  const CliRun r = qmap("checker --model-type caffe --model m.caffemodel --march generic");
  const std::string msg = expect_one_error(r);
  EXPECT_NE(msg.find("--model-type caffe needs --proto"), std::string::npos) << msg;
}

TEST(CheckerE2E, CaffeModelTable) {
  SKIP_UNLESS_GENERIC_LOADS();
  const CliRun r = qmap(caffe_args(caffe_case("v1", "deploy.prototxt"), caffe_case("v1", "model.caffemodel"), "generic"));
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  for (const char* layer : {"conv1", "pool1", "relu1", "ip1", "prob"}) EXPECT_EQ(row(r.out, layer).size(), 5u) << layer << r.out;
  EXPECT_EQ(row(r.out, "conv1")[3], "Convolution") << r.out;
  EXPECT_NE(r.log.find("INFO Model type: caffe"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("INFO output 'prob': float32 1x5"), std::string::npos) << r.log;
}

// Each class of bad Caffe input: one ERROR line naming the file, exit code 1.
TEST(CheckerE2E, CaffeBadInputs) {
  const std::string march = relu_march(true);
  const std::string proto = caffe_case("v1", "deploy.prototxt");
  const std::string weights = caffe_case("v1", "model.caffemodel");
  const std::string relu_net =
      "input: \"data\"\ninput_shape { dim: 1 dim: 2 dim: 3 dim: 3 }\n"
      "layer { name: \"relu\" type: \"ReLU\" bottom: \"data\" top: \"out\" }\n";

  const std::string bad_text = work_file("bad.prototxt", relu_net + "layer {\n  name: \"x\"\n  colour: 1\n}\n");
  std::string msg = expect_one_error(qmap(caffe_args(bad_text, weights, march)));
  EXPECT_NE(msg.find("not a valid prototxt: line 6 column"), std::string::npos) << msg;

  const std::string unknown = work_file("unknown.prototxt", relu_net +
      "layer { name: \"a\" type: \"Foo\" bottom: \"out\" top: \"a\" }\n"
      "layer { name: \"b\" type: \"Bar\" bottom: \"a\" top: \"b\" }\n");
  EXPECT_EQ(expect_one_error(qmap(caffe_args(unknown, weights, march))),
            "qmap does not support these operators: {Bar, Foo}");

  const std::string dangling = work_file("dangling.prototxt", relu_net +
      "layer { name: \"s\" type: \"Sigmoid\" bottom: \"nothere\" top: \"s\" }\n");
  msg = expect_one_error(qmap(caffe_args(dangling, weights, march)));
  EXPECT_NE(msg.find("layer 's' (Sigmoid): bottom 'nothere' is produced by no earlier layer or input"), std::string::npos) << msg;

  const std::string bytes = slurp(weights);
  const std::string truncated = work_file("truncated.caffemodel", bytes.substr(0, bytes.size() / 2));
  msg = expect_one_error(qmap(caffe_args(proto, truncated, march)));
  EXPECT_NE(msg.find("file '" + truncated + "': not a valid caffemodel"), std::string::npos) << msg;

  // Another net's weights: the first layer without trained blobs is named.
  msg = expect_one_error(qmap(caffe_args(proto, caffe_case("bn_scale", "model.caffemodel"), march)));
  EXPECT_NE(msg.find("layer 'conv1' (Convolution): has no trained blobs in the caffemodel"), std::string::npos) << msg;
}

// hb_mapper's own example: `hb_mapper checker --march bernoulli2` on a Caffe MobileNet puts
// the convolutions on the BPU and Softmax on the CPU. Every Horizon march qmap models does
// the same with this model.
TEST(CheckerE2E, CaffeMobileNetOnHorizonMarches) {
  const fs::path model_dir = fs::path(QMAP_E2E_WORK) / "caffe_mobilenet";
  qmap::e2e::write_caffe_mobilenet(model_dir);
  for (const char* march : {"bernoulli2", "bayes", "bayes-e", "nash-e", "nash-p"}) {
    const CliRun r = qmap(caffe_args((model_dir / "deploy.prototxt").string(), (model_dir / "model.caffemodel").string(),
                                     march));
    ASSERT_EQ(r.code, 0) << march << "\n" << r.out << r.err;
    for (const char* conv : {"conv1", "conv2_1/dw", "conv2_1/sep", "fc7"}) {
      const std::vector<std::string> f = row(r.out, conv);
      ASSERT_EQ(f.size(), 5u) << march << " " << conv << "\n" << r.out;
      EXPECT_EQ(f[1], "NPU") << march << " " << conv << ": " << f[4];
      EXPECT_EQ(f[3], "Convolution") << march << " " << conv;
    }
    EXPECT_EQ(row(r.out, "pool6").at(1), "NPU") << march << "\n" << r.out;
    const std::vector<std::string> prob = row(r.out, "prob");
    ASSERT_EQ(prob.size(), 5u) << march << "\n" << r.out;
    EXPECT_EQ(prob[1], "CPU") << march;
    EXPECT_EQ(prob[3], "Softmax") << march;
    EXPECT_NE(r.log.find("march: " + std::string(march)), std::string::npos) << march << "\n" << r.log;
  }
}

TEST(CheckerE2E, UnknownMarch) {
  const CliRun r = qmap("checker --model-type onnx --model " + model("conv9x9.onnx") + " --march nosuch");
  const std::string msg = expect_one_error(r);
  EXPECT_NE(msg.find("march 'nosuch': unknown: built-in marches are bayes, bayes-e, bernoulli2, generic, nash-e, nash-p"), std::string::npos) << msg;
}

TEST(CheckerE2E, OpsQmapDoesNotKnowAreListedAtOnce) {
  const CliRun r = qmap("checker --model-type onnx --model " + model("unknown_ops.onnx") + " --march " +
                     relu_march(true));
  EXPECT_EQ(expect_one_error(r), "qmap does not support these operators: {NonMaxSuppression, TopK}");
}

TEST(CheckerE2E, OpsTheMarchLacksAreListed) {
  const CliRun r = qmap("checker --model-type onnx --model " + model("dynamic_batch.onnx") + " --march " +
                     relu_march(false));
  EXPECT_EQ(expect_one_error(r), "qmap does not support these operators: {Relu}");
}

TEST(CheckerE2E, DynamicHeightNeedsInputShape) {
  const std::string base = "checker --model-type onnx --model " + model("dynamic_h.onnx") + " --march " +
                           relu_march(true);
  const CliRun bad = qmap(base);
  const std::string msg = expect_one_error(bad);
  EXPECT_NE(msg.find("is dynamic"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--input-shape x"), std::string::npos) << msg;

  const CliRun ok = qmap(base + " --input-shape x 1x3x8x16");
  ASSERT_EQ(ok.code, 0) << ok.out << ok.err;
  EXPECT_EQ(row(ok.out, "relu"), (std::vector<std::string>{"relu", "NPU", "id(0)", "Relu", ""}));
  EXPECT_NE(ok.log.find("INFO input 'x': float32 1x3x8x16"), std::string::npos) << ok.log;
}

TEST(CheckerE2E, DynamicBatchDefaultsToOneWithInfoLine) {
  const CliRun r = qmap("checker --model-type onnx --model " + model("dynamic_batch.onnx") + " --march " +
                     relu_march(true) + " --output other.log");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_NE(r.log.find(" INFO input 'x': dynamic batch dimension 'N' set to 1"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("INFO input 'x': float32 1x3x16x16"), std::string::npos) << r.log;
  // --output receives the same log.
  EXPECT_EQ(slurp(r.dir / "other.log"), r.log);
  // Every log line is timestamped with a level, or belongs to the table.
  const std::regex stamped(R"(^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) .*)");
  bool in_table = false;
  for (const std::string& l : lines(r.log)) {
    if (l.rfind("=====", 0) == 0) {
      in_table = !in_table;
      continue;
    }
    if (!in_table) {
      EXPECT_TRUE(std::regex_match(l, stamped)) << l;
    }
  }
  EXPECT_NE(r.log.find("INFO The converted model node information:"), std::string::npos);
  EXPECT_NE(r.log.find("INFO 1 nodes: 1 on NPU in 1 subgraph, 0 on CPU, 0 folded, 0 removed"), std::string::npos)
      << r.log;
  // stdout shows the same lines as the log.
  EXPECT_EQ(lines(r.out).size(), lines(r.log).size());
}

TEST(CheckerE2E, Conv9x9FallsBackAndSplits) {
  SKIP_UNLESS_GENERIC_LOADS();
  const CliRun r = qmap("checker --model-type onnx --model " + model("conv9x9.onnx") + " --march generic");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  using V = std::vector<std::string>;
  EXPECT_EQ(row(r.out, "conv1"), (V{"conv1", "NPU", "id(0)", "Conv", ""}));
  EXPECT_EQ(row(r.out, "relu1"), (V{"relu1", "NPU", "id(0)", "Relu", ""}));
  EXPECT_EQ(row(r.out, "conv_big"), (V{"conv_big", "CPU", "--", "Conv", "kernel 9x9 > 7x7"}));
  EXPECT_EQ(row(r.out, "relu2"), (V{"relu2", "NPU", "id(1)", "Relu", ""}));
  EXPECT_EQ(row(r.out, "conv3"), (V{"conv3", "NPU", "id(1)", "Conv", ""}));
  EXPECT_NE(r.log.find("5 nodes: 4 on NPU in 2 subgraphs, 1 on CPU, 0 folded, 0 removed"), std::string::npos)
      << r.log;
  // The table is in the log too.
  EXPECT_EQ(row(r.log, "conv_big"), row(r.out, "conv_big"));
}

TEST(CheckerE2E, ConstantShapeChainIsFolded) {
  SKIP_UNLESS_GENERIC_LOADS();
  const CliRun r = qmap("checker --model-type onnx --model " + model("folded_chain.onnx") + " --march generic");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  for (const char* n : {"shape", "gather", "unsqueeze", "concat"}) {
    const auto f = row(r.out, n);
    ASSERT_EQ(f.size(), 5u) << n << "\n" << r.out;
    EXPECT_EQ(f[1], "--") << n;
    EXPECT_EQ(f[3], "folded") << n;
  }
  EXPECT_EQ(row(r.out, "identity")[3], "removed");
  EXPECT_EQ(row(r.out, "conv")[1], "NPU");
  EXPECT_EQ(row(r.out, "reshape")[1], "NPU");
  EXPECT_EQ(row(r.out, "softmax"),
            (std::vector<std::string>{"softmax", "CPU", "--", "Softmax", "op not supported by the NPU of march generic"}));
}

}  // namespace
