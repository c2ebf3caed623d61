// `qmap debug` end to end: makertbin converts a small generated CNN in which one node is made
// deliberately bad, then the debugger must rank that node first, list it as the top suspect
// with a run_on_cpu line that makertbin accepts and that raises the output cosine; the HTML
// opens in headless Chromium; and bad input (missing config, no makertbin outputs, a float
// model in the quantized model's place, bad options, an unwritable output folder) is one
// named error with no report written.
//
// The model: x (1x3x8x8 float) -> conv1 3x3 (8 ch) + Relu -> conv2 1x1 (8 ch) + Relu ->
// conv3 1x1 (4 ch) -> y. conv1's channel 7 is dead (zero weights, bias -1, so Relu gives 0),
// and conv2's output channels 0, 3 and 5 hold a weight of 200 on that dead input: the float
// model never sees it, but each of those channels' per-channel int8 scale becomes 200/127, so
// their real weights (|w| <= 0.5) all round to 0: conv2 quantized loses three channels.
#include <nlohmann/json.hpp>
#include <random>

#include "cli_util.h"
#include "import/onnx/onnx_export.h"
#include "import/onnx/onnx_import.h"
#include "ir/graph.h"
#include "ops/registry.h"

namespace {

using namespace qmap::e2e;
using json = nlohmann::json;
using qmap::DType;
using qmap::Tensor;

constexpr int kSamples = 8;

void write_bad_node_model(const fs::path& path) {
  qmap::Graph g;
  g.name = "badnode";
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  auto weights = [&](qmap::Dims d) {
    Tensor t(DType::kFloat32, d);
    for (float& w : t.data<float>()) w = u(rng);
    return t;
  };
  Tensor w1 = weights({8, 3, 3, 3}), b1 = weights({8});
  for (int i = 0; i < 27; ++i) w1.data<float>()[7 * 27 + i] = 0;
  b1.data<float>()[7] = -1;
  Tensor w2 = weights({8, 8, 1, 1}), b2 = weights({8});
  for (int o : {0, 3, 5}) w2.data<float>()[o * 8 + 7] = 200;
  Tensor w3 = weights({4, 8, 1, 1}), b3 = weights({4});
  const auto x = g.add_value("x", DType::kFloat32, qmap::Dims{1, 3, 8, 8});
  g.inputs = {x};
  const auto node = [&](const char* name, const char* op, std::vector<qmap::ValueId> in, qmap::ValueId out,
                        std::map<std::string, qmap::AttrValue> attrs = {}) {
    qmap::Node n;
    n.name = name;
    n.op_type = op;
    n.op = *qmap::op_by_name(op);
    n.inputs = std::move(in);
    n.outputs = {out};
    n.attrs = std::move(attrs);
    g.nodes.push_back(n);
  };
  const auto v = [&](const char* name, int64_t c) {
    return g.add_value(name, DType::kFloat32, qmap::Dims{1, c, 8, 8});
  };
  const auto c1 = v("c1", 8), r1 = v("r1", 8), c2 = v("c2", 8), r2 = v("r2", 8), y = v("y", 4);
  node("conv1", "Conv", {x, g.add_constant("w1", w1), g.add_constant("b1", b1)}, c1,
       {{"kernel_shape", std::vector<int64_t>{3, 3}}, {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  node("relu1", "Relu", {c1}, r1);
  node("conv2", "Conv", {r1, g.add_constant("w2", w2), g.add_constant("b2", b2)}, c2,
       {{"kernel_shape", std::vector<int64_t>{1, 1}}});
  node("relu2", "Relu", {c2}, r2);
  node("conv3", "Conv", {r2, g.add_constant("w3", w3), g.add_constant("b3", b3)}, y,
       {{"kernel_shape", std::vector<int64_t>{1, 1}}});
  g.outputs = {y};
  g.rebuild_producers();
  const qmap::Status st = qmap::export_onnx(g, path.string());
  ASSERT_TRUE(st.ok()) << st.message();
}

std::string config(const std::string& extra_calibration = "", const std::string& working_dir = "model_output") {
  return "model_parameters:\n  onnx_model: badnode.onnx\n  march: generic\n  output_model_file_prefix: bad\n"
         "  working_dir: " +
         working_dir +
         "\n"
         "input_parameters:\n  input_name: x\n  input_type_train: featuremap\n  input_layout_train: NCHW\n"
         "  input_type_rt: featuremap\n  norm_type: no_preprocess\n"
         "calibration_parameters:\n  cal_data_dir: calib\n  cal_data_type: float32\n  calibration_type: max\n"
         "  bias_correction: False\n" +
         extra_calibration;
}

// The model, seeded calibration samples and cfg.yaml in a fresh test folder; makertbin run
// when `convert`.
fs::path prepare(bool convert = true) {
  const fs::path dir = test_dir();
  fs::remove_all(dir);
  fs::create_directories(dir / "calib");
  write_bad_node_model(dir / "badnode.onnx");
  std::mt19937 rng(11);
  std::normal_distribution<float> gauss(0.f, 1.f);
  for (int i = 0; i < kSamples; ++i) {
    std::vector<float> s(3 * 8 * 8);
    for (float& x : s) x = gauss(rng);
    std::string file = "s";
    file += std::to_string(i) + ".bin";
    std::ofstream(dir / "calib" / file, std::ios::binary)
        .write(reinterpret_cast<const char*>(s.data()), static_cast<std::streamsize>(s.size() * sizeof(float)));
  }
  std::ofstream(dir / "cfg.yaml") << config();
  if (convert) {
    const CliRun r =
        run_qmap_in(dir, "makertbin --config cfg.yaml --model-type onnx --no-progress", "model_output/makertbin.log");
    EXPECT_EQ(r.code, 0) << r.out << r.err;
  }
  return dir;
}

json read_json(const fs::path& p) { return json::parse(slurp(p)); }

std::vector<std::string> debug_files(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().filename().string().find("_debug") != std::string::npos) out.push_back(e.path().filename().string());
  return out;
}

TEST(DebugE2e, RanksTheBadNodeFirstAndItsYamlLineHelps) {
  const fs::path dir = prepare();
  const CliRun r = run_qmap_in(dir, "debug --config cfg.yaml --no-progress --samples 8", "none");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Per-node sensitivity"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Report written to 'model_output/bad_debug.html'"), std::string::npos) << r.out;
  const json j = read_json(dir / "model_output/bad_debug.json");
  EXPECT_EQ(j["schema"], "qmap.debug/1");
  EXPECT_EQ(j["samples"], kSamples);
  // The three units: conv1+relu1, conv2+relu2, conv3. conv2 first, by a wide margin: three of
  // its eight channels are lost (about 19 dB output SQNR), the others keep what 8 bits give
  // (above 40 dB); 15 dB is far outside what rounding alone moves.
  const json& sens = j["sensitivity"];
  ASSERT_EQ(sens.size(), 3u) << sens.dump(1);
  EXPECT_EQ(sens[0]["node"], "conv2") << sens.dump(1);
  EXPECT_EQ(sens[0]["members"], json({"conv2", "relu2"}));
  EXPECT_LT(sens[0]["sqnr_db"].get<double>() + 15, sens[1]["sqnr_db"].get<double>()) << sens.dump(1);
  EXPECT_LT(sens[0]["cosine"].get<double>(), sens[1]["cosine"].get<double>());
  // The printed table: rank 1 is conv2.
  bool printed = false;
  for (const std::string& line : lines(r.out))
    if (line.rfind("1 ", 0) == 0) printed = line.find("conv2") != std::string::npos;
  EXPECT_TRUE(printed) << r.out;
  // The suspect, its reason (conv2's weight channels: 200 against |w| <= 0.5) and its YAML.
  ASSERT_GE(j["suspects"].size(), 1u);
  EXPECT_EQ(j["suspects"][0]["node"], "conv2");
  EXPECT_NE(j["suspects"][0]["why"].get<std::string>().find("weight channels: the widest spans"), std::string::npos)
      << j["suspects"][0].dump();
  // The cumulative table has every node, the histograms every calibrated value (x, c1, r1,
  // c2, r2, y), the weight ranges every Conv with conv2's spread flagged.
  EXPECT_EQ(j["cumulative"].size(), 5u);
  EXPECT_EQ(j["histograms"].size(), 6u);
  ASSERT_EQ(j["weights"].size(), 3u);
  EXPECT_EQ(j["weights"][1]["node"], "conv2");
  EXPECT_GT(j["weights"][1]["spread"].get<double>(), 100.0);
  // With the top 5 (all three units) in float, the model is the float model bar the input's
  // quantization: much closer than the full quantized model.
  const double full = j["outputs"][0]["cosine"].get<double>();
  EXPECT_LT(full, 0.999);
  EXPECT_GT(j["suspects_on_cpu"]["cosine"].get<double>(), full);

  // The YAML line (only the first suspect) applied: makertbin puts conv2 on the CPU and the
  // output cosine rises above the full model's.
  const CliRun top1 = run_qmap_in(dir, "debug --config cfg.yaml --no-progress --top 1 --output-dir top1", "none");
  ASSERT_EQ(top1.code, 0) << top1.err;
  const json j1 = read_json(dir / "top1/bad_debug.json");
  const std::string yaml = j1["suspects_yaml"];
  EXPECT_EQ(yaml, "calibration_parameters:\n  run_on_cpu: 'conv2;relu2'\n");
  std::ofstream(dir / "fixed.yaml") << config(yaml.substr(yaml.find('\n') + 1), "fixed_output");
  const CliRun fixed =
      run_qmap_in(dir, "makertbin --config fixed.yaml --model-type onnx --no-progress", "fixed_output/makertbin.log");
  ASSERT_EQ(fixed.code, 0) << fixed.out << fixed.err;
  EXPECT_NE(fixed.log.find("conv2  CPU"), std::string::npos) << fixed.log;
  const CliRun again = run_qmap_in(dir, "debug --config fixed.yaml --no-progress", "none");
  ASSERT_EQ(again.code, 0) << again.err;
  const json jf = read_json(dir / "fixed_output/bad_debug.json");
  EXPECT_GT(jf["outputs"][0]["cosine"].get<double>(), 0.999);
  EXPECT_NEAR(jf["outputs"][0]["cosine"].get<double>(), j1["suspects_on_cpu"]["cosine"].get<double>(), 1e-3)
      << "the measured effect of the YAML line is what makertbin then gives: the same thresholds (max), no bias "
         "correction in either";

  // The NPU alternative: conv2 (+ relu2) can have an int16 output, and its lines applied give
  // the cosine debug measured (int16 thresholds: max |v| over the same 8 samples in both).
  const std::string y16 = j1["suspects_int16_yaml"];
  EXPECT_EQ(y16, "model_parameters:\n  node_info: {conv2: {OutputType: int16}}\n");
  ASSERT_FALSE(j1["suspects_int16"].is_null());
  std::string cfg16 = config("", "fix16_output");
  cfg16.replace(cfg16.find("model_parameters:\n"), 18, y16);
  std::ofstream(dir / "fix16.yaml") << cfg16;
  const CliRun f16 =
      run_qmap_in(dir, "makertbin --config fix16.yaml --model-type onnx --no-progress", "fix16_output/makertbin.log");
  ASSERT_EQ(f16.code, 0) << f16.out << f16.err << f16.log;
  ASSERT_EQ(run_qmap_in(dir, "debug --config fix16.yaml --no-progress", "none").code, 0);
  const json j16 = read_json(dir / "fix16_output/bad_debug.json");
  EXPECT_NEAR(j16["outputs"][0]["cosine"].get<double>(), j1["suspects_int16"]["cosine"].get<double>(), 1e-5);
  EXPECT_TRUE(j16["suspects_int16_yaml"].get<std::string>().find("conv2: {OutputType: int16}") != std::string::npos)
      << "the config's own int16 outputs stay in the suggestion";
}

// calibration_parameters.accuracy_budget does what the debugger's YAML line does, by itself:
// makertbin finds conv2 (and only it) worth keeping in float, logs the cosine before and after
// and the march's latency estimate, writes the nodes into the quantized model's metadata and
// places them on the CPU in the .bin; `qmap debug` re-quantizes with them and reports the
// remaining units only. A budget the model already meets moves nothing.
TEST(DebugE2e, AccuracyBudgetKeepsTheBadNodeInFloat) {
  const fs::path dir = prepare(false);
  std::ofstream(dir / "budget.yaml") << config("  accuracy_budget: 0.999\n", "budget_output");
  const CliRun r =
      run_qmap_in(dir, "makertbin --config budget.yaml --model-type onnx --no-progress", "budget_output/makertbin.log");
  ASSERT_EQ(r.code, 0) << r.out << r.err << r.log;
  // conv2's loss is in its int8 weights (the spread channels), which an int16 output does not
  // touch: int16 falls short, conv2 goes to float, and no int16 output is left.
  EXPECT_NE(r.log.find("int16 outputs for every node that can have one fall short"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("of 3 NPU units (a fused group is one), 0 given int16 outputs: none; 1 kept in float on the "
                       "CPU: conv2 (Conv) (each list most sensitive first); output cosine"),
            std::string::npos)
      << r.log;
  EXPECT_NE(r.log.find("accuracy budget: estimated latency on march generic:"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("conv2  CPU"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("relu2  CPU"), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("conv1  NPU"), std::string::npos) << r.log;
  const CliRun info = run_qmap_in(dir, "info budget_output/bad.bin", "none");
  ASSERT_EQ(info.code, 0) << info.err;
  EXPECT_NE(info.out.find("1         CPU  2      conv2              relu2"), std::string::npos) << info.out;
  // The debugger reads the moved nodes from the quantized model: two units left, and its
  // YAML line keeps conv2 and relu2 on the CPU beside its own suspects.
  const CliRun d = run_qmap_in(dir, "debug --config budget.yaml --no-progress --top 1", "none");
  ASSERT_EQ(d.code, 0) << d.out << d.err;
  const json j = read_json(dir / "budget_output/bad_debug.json");
  ASSERT_EQ(j["sensitivity"].size(), 2u) << j["sensitivity"].dump(1);
  EXPECT_EQ(j["budget_cpu"], json({"conv2", "relu2"}));
  EXPECT_NE(slurp(dir / "budget_output/bad_debug.html").find("kept in float by accuracy_budget"), std::string::npos);
  EXPECT_GT(j["outputs"][0]["cosine"].get<double>(), 0.999);
  const std::string yaml = j["suspects_yaml"];
  EXPECT_NE(yaml.find("conv2;relu2;"), std::string::npos) << yaml;

  // Already met: nothing moves, the log says so.
  std::ofstream(dir / "easy.yaml") << config("  accuracy_budget: 0.5\n", "easy_output");
  const CliRun easy =
      run_qmap_in(dir, "makertbin --config easy.yaml --model-type onnx --no-progress", "easy_output/makertbin.log");
  ASSERT_EQ(easy.code, 0) << easy.err;
  EXPECT_NE(easy.log.find("accuracy budget 0.5: output cosine"), std::string::npos) << easy.log;
  EXPECT_NE(easy.log.find("reached, no node moved"), std::string::npos) << easy.log;
  EXPECT_NE(easy.log.find("conv2  NPU"), std::string::npos) << easy.log;
}

// The budget's int16 outputs: thresholds clipped hard (max_percentile 0.9) lose on the inner
// tensors, which int16 outputs at their max |v| recover on the NPU. makertbin logs them, writes
// com.microsoft int16 Q/DQ and the qmap_accuracy_budget_int16 metadata, the .bin agrees with
// the simulator bit for bit, and `qmap debug` re-quantizes with them (its output cosine is
// makertbin's). accuracy_budget_precision: float moves nodes to the CPU instead.
TEST(DebugE2e, AccuracyBudgetGivesInt16Outputs) {
  const fs::path dir = prepare(false);
  std::ofstream(dir / "w16.yaml") << config("  max_percentile: 0.9\n  accuracy_budget: 0.99\n", "w16_output");
  const CliRun r = run_qmap_in(dir, "makertbin --config w16.yaml --model-type onnx --no-progress", "w16_output/makertbin.log");
  ASSERT_EQ(r.code, 0) << r.out << r.err << r.log;
  const std::string given = "of 3 NPU units (a fused group is one), 2 given int16 outputs: conv2 (Conv), conv1 (Conv); "
                            "0 kept in float on the CPU: none";
  ASSERT_NE(r.log.find(given), std::string::npos) << r.log;
  EXPECT_NE(r.log.find("NPU/CPU switches 0 -> 0"), std::string::npos) << r.log;
  const std::string after_key = "output cosine ";
  const size_t at = r.log.find(after_key, r.log.find(given));
  ASSERT_NE(at, std::string::npos);
  const double after = std::stod(r.log.substr(at + after_key.size(), 8));
  EXPECT_GE(after, 0.99);
  const std::string onnx = slurp(dir / "w16_output/bad_quantized_model.onnx");
  EXPECT_NE(onnx.find("qmap_accuracy_budget_int16"), std::string::npos);
  EXPECT_NE(onnx.find("com.microsoft"), std::string::npos);
  const CliRun v =
      run_qmap_in(dir, "verify --quantized w16_output/bad_quantized_model.onnx --bin w16_output/bad.bin", "none");
  ASSERT_EQ(v.code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("PASS"), std::string::npos) << v.out;
  const CliRun d = run_qmap_in(dir, "debug --config w16.yaml --no-progress", "none");
  ASSERT_EQ(d.code, 0) << d.out << d.err;
  const json j = read_json(dir / "w16_output/bad_debug.json");
  EXPECT_NEAR(j["outputs"][0]["cosine"].get<double>(), after, 1e-5) << "debug re-quantizes with the int16 outputs";

  // From the calibration table, which holds thresholds only: one range pass gives the int16
  // outputs their max |v| again, so the same units reach the same cosine.
  std::ofstream(dir / "t16.yaml") << config("  max_percentile: 0.9\n  accuracy_budget: 0.99\n", "t16_output");
  const CliRun t = run_qmap_in(dir,
                               "makertbin --config t16.yaml --model-type onnx --no-progress --calibration-table "
                               "w16_output/bad_calibration_table.txt",
                               "t16_output/makertbin.log");
  ASSERT_EQ(t.code, 0) << t.out << t.err << t.log;
  EXPECT_NE(t.log.find("thresholds are max |v| over the"), std::string::npos) << t.log;
  const size_t t_given = t.log.find(given);
  ASSERT_NE(t_given, std::string::npos) << t.log;
  const size_t t_at = t.log.find(after_key, t_given);
  ASSERT_NE(t_at, std::string::npos);
  EXPECT_EQ(t.log.substr(t_at, after_key.size() + 8), r.log.substr(at, after_key.size() + 8));

  std::ofstream(dir / "fl.yaml") << config(
      "  max_percentile: 0.9\n  accuracy_budget: 0.99\n  accuracy_budget_precision: float\n", "fl_output");
  const CliRun f = run_qmap_in(dir, "makertbin --config fl.yaml --model-type onnx --no-progress", "fl_output/makertbin.log");
  ASSERT_EQ(f.code, 0) << f.out << f.err << f.log;
  EXPECT_NE(f.log.find("0 given int16 outputs: none"), std::string::npos) << f.log;
  EXPECT_EQ(f.log.find("0 kept in float on the CPU"), std::string::npos) << f.log;
}

// hb_mapper's node_info OutputType: int16 gives a unit an int16 output by hand: written in the
// model's metadata, bit-exact in the .bin, reproduced by qmap debug; a node that cannot have
// one, or that the model does not have, is a one-line error naming the key.
TEST(DebugE2e, NodeInfoOutputTypeInt16) {
  const fs::path dir = prepare(false);
  const auto with_node_info = [](const std::string& info, const std::string& wd) {
    std::string yaml = config("", wd);
    return yaml.replace(yaml.find("model_parameters:\n"), 18, "model_parameters:\n  node_info: " + info + "\n");
  };
  std::ofstream(dir / "n16.yaml") << with_node_info("{conv2: {OutputType: int16}}", "n16_output");
  const CliRun r = run_qmap_in(dir, "makertbin --config n16.yaml --model-type onnx --no-progress", "n16_output/makertbin.log");
  ASSERT_EQ(r.code, 0) << r.out << r.err << r.log;
  const std::string onnx = slurp(dir / "n16_output/bad_quantized_model.onnx");
  EXPECT_NE(onnx.find("qmap_accuracy_budget_int16"), std::string::npos);
  EXPECT_NE(onnx.find("conv2|r2|"), std::string::npos) << "conv2 + relu2's output is int16";
  const CliRun v =
      run_qmap_in(dir, "verify --quantized n16_output/bad_quantized_model.onnx --bin n16_output/bad.bin", "none");
  ASSERT_EQ(v.code, 0) << v.out << v.err;
  EXPECT_NE(v.out.find("PASS"), std::string::npos) << v.out;
  ASSERT_EQ(run_qmap_in(dir, "debug --config n16.yaml --no-progress", "none").code, 0);

  for (const auto& [info, want] : std::vector<std::pair<std::string, std::string>>{
           {"{conv3: {OutputType: int16}}", "its output 'y' is not requantized"},
           {"{nosuch: {OutputType: int16}}", "no node named 'nosuch'"}}) {
    std::ofstream(dir / "bad16.yaml") << with_node_info(info, "bad16_output");
    const CliRun b = run_qmap_in(dir, "makertbin --config bad16.yaml --model-type onnx --no-progress", "none");
    EXPECT_NE(b.code, 0) << info;
    EXPECT_NE(b.err.find("model_parameters.node_info OutputType int16"), std::string::npos) << b.err;
    EXPECT_NE(b.err.find(want), std::string::npos) << b.err;
  }
}

// The same samples give byte-identical files whatever the worker count (units run in
// parallel, results are kept in graph order).
TEST(DebugE2e, SameReportWhateverTheJobs) {
  const fs::path dir = prepare();
  ASSERT_EQ(run_qmap_in(dir, "debug --config cfg.yaml --no-progress --jobs 1 --output-dir j1", "none").code, 0);
  ASSERT_EQ(run_qmap_in(dir, "debug --config cfg.yaml --no-progress --jobs 3 --output-dir j3", "none").code, 0);
  EXPECT_EQ(slurp(dir / "j1/bad_debug.json"), slurp(dir / "j3/bad_debug.json"));
  EXPECT_EQ(slurp(dir / "j1/bad_debug.html"), slurp(dir / "j3/bad_debug.html"));
}

// Headless Chromium opens the page from disk: the summary, one row per ranked unit and per
// node, one histogram per value and one weight chart per Conv; the screenshot is not blank.
TEST(DebugE2e, HtmlOpensInHeadlessChromium) {
  const fs::path dir = prepare();
  ASSERT_EQ(run_qmap_in(dir, "debug --config cfg.yaml --no-progress --output-dir out", "none").code, 0);
  const json j = read_json(dir / "out/bad_debug.json");
  const fs::path page = dir / "out/bad_debug.html";
  const std::string dom = chromium_dom(page, dir);
  EXPECT_NE(dom.find("id=\"summary\""), std::string::npos);
  EXPECT_EQ(count(dom, "<tr class=\"sens\">"), j["sensitivity"].size());
  EXPECT_EQ(count(dom, "<tr class=\"cum "), j["cumulative"].size());
  EXPECT_EQ(count(dom, "<tr class=\"suspect\">"), j["suspects"].size());
  EXPECT_NE(dom.find("id=\"suspects-yaml\""), std::string::npos);
  EXPECT_NE(dom.find("id=\"suspects-int16-yaml\""), std::string::npos) << "conv2 can have an int16 output";
  EXPECT_NE(dom.find("id=\"sensitivity-chart\""), std::string::npos);
  EXPECT_NE(dom.find("id=\"cumulative-chart\""), std::string::npos);
  EXPECT_EQ(count(dom, "<svg class=\"hist\""), j["histograms"].size());
  EXPECT_EQ(count(dom, "<line class=\"threshold\""), j["histograms"].size());
  EXPECT_EQ(count(dom, "<svg class=\"wrange\""), j["weights"].size());
  EXPECT_NE(dom.find("run_on_cpu: 'conv1;relu1;conv2;relu2;conv3'"), std::string::npos);
  expect_not_blank(chromium_screenshot(page, dir));
}

TEST(DebugE2e, BadInputIsOneNamedErrorAndNoReport) {
  const fs::path dir = prepare(false);
  // Missing config.
  CliRun r = run_qmap_in(dir, "debug --config nosuch.yaml", "none");
  EXPECT_NE(expect_one_error(r, false).find("nosuch.yaml"), std::string::npos) << r.err;
  // A config makertbin has not run yet: its outputs are missing, named with the keys to check.
  r = run_qmap_in(dir, "debug --config cfg.yaml --output-dir out", "none");
  EXPECT_EQ(expect_one_error(r, false),
            "debug: 'model_output/bad_optimized_float_model.onnx': no such file: qmap debug reads what `qmap "
            "makertbin --config cfg.yaml` writes (model_parameters.working_dir and output_model_file_prefix)");
  EXPECT_TRUE(debug_files(dir / "out").empty());
  ASSERT_EQ(run_qmap_in(dir, "makertbin --config cfg.yaml --model-type onnx --no-progress", "none").code, 0);
  // Bad options: CLI11 names the option and the rule, exit code non-zero, nothing written.
  for (const char* bad : {"--samples 0", "--top -1", "--model-type tflite", "--jobs 0", "--nosuch"}) {
    r = run_qmap_in(dir, std::string("debug --config cfg.yaml --output-dir out ") + bad, "none");
    EXPECT_NE(r.code, 0) << bad;
    EXPECT_NE(r.err.find(std::string(bad).substr(0, std::string(bad).find(' '))), std::string::npos) << bad << r.err;
  }
  EXPECT_TRUE(debug_files(dir / "out").empty());
  // An unwritable output folder: a path through a regular file.
  std::ofstream(dir / "afile") << "x";
  r = run_qmap_in(dir, "debug --config cfg.yaml --no-progress --output-dir afile/out", "none");
  EXPECT_EQ(expect_one_error(r, false).rfind("debug: --output-dir 'afile/out': cannot create", 0), 0u) << r.err;
  // A float model in the quantized model's place: not a makertbin quantized model.
  fs::copy_file(dir / "model_output/bad_quantized_model.onnx", dir / "saved.onnx");
  fs::copy_file(dir / "badnode.onnx", dir / "model_output/bad_quantized_model.onnx",
                fs::copy_options::overwrite_existing);
  r = run_qmap_in(dir, "debug --config cfg.yaml --output-dir out", "none");
  EXPECT_EQ(expect_one_error(r, false),
            "debug: 'model_output/bad_quantized_model.onnx': not a makertbin quantized model (no "
            "qmap_calibration_method metadata)");
  fs::copy_file(dir / "saved.onnx", dir / "model_output/bad_quantized_model.onnx",
                fs::copy_options::overwrite_existing);
  // A calibration table that does not cover the model.
  fs::copy_file(dir / "model_output/bad_calibration_table.txt", dir / "saved.txt");
  std::ofstream(dir / "model_output/bad_calibration_table.txt") << "x 1.0\n";
  r = run_qmap_in(dir, "debug --config cfg.yaml --output-dir out", "none");
  EXPECT_NE(expect_one_error(r, false).find("bad_calibration_table.txt"), std::string::npos) << r.err;
  fs::copy_file(dir / "saved.txt", dir / "model_output/bad_calibration_table.txt",
                fs::copy_options::overwrite_existing);
  // An accuracy-budget metadata entry naming a node the model does not have (an edited file).
  {
    auto q = qmap::import_onnx((dir / "model_output/bad_quantized_model.onnx").string());
    ASSERT_TRUE(q.ok()) << q.status().message();
    q->metadata["qmap_accuracy_budget_run_on_cpu"] = "conv2;nosuch";
    ASSERT_TRUE(qmap::export_onnx(*q, (dir / "model_output/bad_quantized_model.onnx").string()).ok());
    r = run_qmap_in(dir, "debug --config cfg.yaml --output-dir out", "none");
    EXPECT_EQ(expect_one_error(r, false),
              "debug: 'model_output/bad_quantized_model.onnx': metadata qmap_accuracy_budget_run_on_cpu names node "
              "'nosuch', which 'model_output/bad_optimized_float_model.onnx' does not have: run qmap makertbin "
              "--config cfg.yaml again");
    // An int16 entry that is not node|value|threshold with a known node and a threshold > 0.
    for (const std::string bad : {"conv2|c2", "nosuch|c2|1.5", "conv2|c2|-1", "conv2|c2|1.5x"}) {
      q->metadata.erase("qmap_accuracy_budget_run_on_cpu");
      q->metadata["qmap_accuracy_budget_int16"] = bad;
      ASSERT_TRUE(qmap::export_onnx(*q, (dir / "model_output/bad_quantized_model.onnx").string()).ok());
      r = run_qmap_in(dir, "debug --config cfg.yaml --output-dir out", "none");
      EXPECT_EQ(expect_one_error(r, false),
                "debug: 'model_output/bad_quantized_model.onnx': metadata qmap_accuracy_budget_int16 entry '" + bad +
                    "': expected node|value|threshold with a node of 'model_output/bad_optimized_float_model.onnx' "
                    "and a threshold > 0: run qmap makertbin --config cfg.yaml again");
    }
    fs::copy_file(dir / "saved.onnx", dir / "model_output/bad_quantized_model.onnx",
                  fs::copy_options::overwrite_existing);
  }
  // Outputs of another conversion in the working_dir (makertbin re-run with conv3 on the CPU):
  // the quantized model no longer matches this config, and the first differing node is named.
  std::ofstream(dir / "cpu3.yaml") << config("  run_on_cpu: conv3\n");
  ASSERT_EQ(run_qmap_in(dir, "makertbin --config cpu3.yaml --model-type onnx --no-progress", "none").code, 0);
  r = run_qmap_in(dir, "debug --config cfg.yaml --output-dir out", "none");
  EXPECT_NE(expect_one_error(r, false).find("does not match"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("run qmap makertbin --config cfg.yaml again"), std::string::npos) << r.err;
  ASSERT_EQ(run_qmap_in(dir, "makertbin --config cfg.yaml --model-type onnx --no-progress", "none").code, 0);
  // A config without calibration data.
  std::string text = config();
  text = text.substr(0, text.find("  cal_data_dir")) + "  calibration_type: skip\n";
  std::ofstream(dir / "skip.yaml") << text;
  r = run_qmap_in(dir, "debug --config skip.yaml --output-dir out", "none");
  EXPECT_EQ(expect_one_error(r, false).rfind("debug: calibration_parameters.cal_data_dir of 'skip.yaml' is empty", 0),
            0u)
      << r.err;
  EXPECT_TRUE(debug_files(dir / "out").empty());
  // And the restored outputs debug fine.
  r = run_qmap_in(dir, "debug --config cfg.yaml --no-progress --output-dir out", "none");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(debug_files(dir / "out").size(), 2u);
}

}  // namespace
