// `qmap perf` end to end: a .bin written from the runtime test network (every integer step
// kind, a Softmax on the CPU, so an NPU and a CPU subgraph), its quantized ONNX, and broken
// inputs. The report's files, its JSON against the program, the HTML in headless Chromium
// (DOM: the summary and one row per layer; a screenshot that is not blank), and for every
// error one named line and no report left behind.
#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli_util.h"
#include "format/model_bin.h"
#include "image/decode.h"
#include "import/onnx/onnx_export.h"
#include "program/bin_reader.h"
#include "runtime/runtime_test_graphs.h"

namespace {

using namespace qmap::e2e;
using json = nlohmann::json;

// The test network as a .bin and as its quantized ONNX in `dir`.
void write_models(const fs::path& dir) {
  fs::remove_all(dir);
  fs::create_directories(dir);
  const qmap::testing::RuntimeNet net = qmap::testing::runtime_test_net(7);
  const qmap::Status st = qmap::write_model_bin(net.qdq, qmap::BinMetadata{}, (dir / "net.bin").string()).status();
  ASSERT_TRUE(st.ok()) << st.message();
  const qmap::Status st2 = qmap::export_onnx(net.qdq, (dir / "netq.onnx").string());
  ASSERT_TRUE(st2.ok()) << st2.message();
}

json read_json(const fs::path& p) { return json::parse(slurp(p)); }

// Nothing but the named files under the output folder (no temporary folder left over).
std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(PerfE2e, BinReportHasEveryFileAndOneLayerPerStep) {
  const fs::path dir = test_dir();
  write_models(dir);
  const CliRun r = run_qmap_in(dir, "perf net.bin --march generic --output-dir out", "none");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Estimated latency"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("DDR occupation per frame"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Report written to 'out/net'"), std::string::npos) << r.out;
  EXPECT_EQ(entries(dir / "out"), std::vector<std::string>{"net"});

  auto bin = qmap::read_bin_file((dir / "net.bin").string());
  ASSERT_TRUE(bin.ok()) << bin.status().message();
  const size_t steps = bin->program.steps.size();
  const json j = read_json(dir / "out/net/net.json");
  EXPECT_EQ(j["schema"], "qmap.perf/1");
  EXPECT_EQ(j["march"], "generic");
  ASSERT_EQ(j["layers"].size(), steps);
  // The network ends in a Softmax on the CPU: NPU and CPU subgraphs, each with its files.
  ASSERT_GE(j["subgraphs"].size(), 2u);
  int64_t macs = 0;
  for (size_t i = 0; i < steps; ++i) {
    EXPECT_EQ(j["layers"][i]["node"], bin->program.steps[i].node);
    macs += j["layers"][i]["macs"].get<int64_t>();
  }
  EXPECT_EQ(j["summary"]["macs"].get<int64_t>(), macs);
  EXPECT_GT(macs, 0);
  EXPECT_TRUE(j["measured"].is_null());
  for (const auto& sg : j["subgraphs"]) {
    const std::string base = fmt::format("out/net/net_subgraph_{}", sg["id"].get<int>());
    ASSERT_TRUE(fs::exists(dir / (base + ".html"))) << base;
    const json sj = read_json(dir / (base + ".json"));
    EXPECT_EQ(sj["subgraph"], sg["id"]);
    EXPECT_EQ(sj["layers"].size(), static_cast<size_t>(sg["last_step"].get<int>() - sg["first_step"].get<int>() + 1));
  }
  // The graph: Graphviz's SVG (scripts/install-deps.sh installs graphviz), also inline in the page.
  ASSERT_TRUE(fs::exists(dir / "out/net/net.svg")) << r.out;
  const std::string html = slurp(dir / "out/net/net.html");
  EXPECT_EQ(count(html, "<tr class=\"layer "), steps);
  EXPECT_NE(html.find("<div class=\"graph\"><svg"), std::string::npos);
  // Self-contained: nothing fetched from elsewhere.
  EXPECT_EQ(html.find("http://www.w3.org/1999/xlink\" href=\"http"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
}

TEST(PerfE2e, MeasureAddsTimesForEveryLayer) {
  const fs::path dir = test_dir();
  write_models(dir);
  const CliRun r = run_qmap_in(dir, "perf net.bin --measure --iters 3 --output-dir out", "none");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("Measured latency (3 runs"), std::string::npos) << r.out;
  const json j = read_json(dir / "out/net/net.json");
  ASSERT_FALSE(j["measured"].is_null());
  EXPECT_EQ(j["measured"]["runs"], 3);
  const json& t = j["measured"]["total_us"];
  EXPECT_LE(t["min"].get<double>(), t["median"].get<double>());
  EXPECT_LE(t["median"].get<double>(), t["max"].get<double>());
  for (const auto& l : j["layers"]) {
    ASSERT_TRUE(l["measured_us"].is_number()) << l["node"];
    EXPECT_GE(l["measured_us"].get<double>(), 0);
  }
  EXPECT_NE(slurp(dir / "out/net/net.html").find("measured latency, total"), std::string::npos);
}

// The quantized ONNX lowers to the same program as the .bin: the same per-layer estimate.
TEST(PerfE2e, QuantizedOnnxGivesTheBinsEstimate) {
  const fs::path dir = test_dir();
  write_models(dir);
  ASSERT_EQ(run_qmap_in(dir, "perf net.bin --march generic --output-dir a", "none").code, 0);
  const CliRun r = run_qmap_in(dir, "perf netq.onnx --march generic --output-dir b", "none");
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const json ja = read_json(dir / "a/net/net.json"), jb = read_json(dir / "b/netq/netq.json");
  EXPECT_EQ(jb["source_kind"], "quantized onnx");
  EXPECT_EQ(ja["layers"], jb["layers"]);
  EXPECT_EQ(ja["summary"], jb["summary"]);
}

// Headless Chromium (Debian's chromium, scripts/install-deps.sh) opens the page from disk:
// its DOM has the summary and one row per layer, and the screenshot is not blank.
TEST(PerfE2e, HtmlOpensInHeadlessChromium) {
  const fs::path dir = test_dir();
  write_models(dir);
  ASSERT_EQ(run_qmap_in(dir, "perf net.bin --output-dir out", "none").code, 0);
  const size_t steps = read_json(dir / "out/net/net.json")["layers"].size();
  const fs::path page = dir / "out/net/net.html";
  const std::string dom = chromium_dom(page, dir);
  EXPECT_NE(dom.find("id=\"summary\""), std::string::npos);
  EXPECT_NE(dom.find("estimated latency"), std::string::npos);
  EXPECT_EQ(count(dom, "<tr class=\"layer "), steps);
  EXPECT_NE(dom.find("id=\"roofline-chart\""), std::string::npos);
  const fs::path shot = chromium_screenshot(page, dir);
  ASSERT_FALSE(shot.empty());
  expect_not_blank(shot);
}

TEST(PerfE2e, BadInputIsOneNamedErrorAndNoReport) {
  const fs::path dir = test_dir();
  write_models(dir);
  // Missing model.
  CliRun r = run_qmap_in(dir, "perf missing.bin --output-dir out", "none");
  EXPECT_EQ(expect_one_error(r, false), "perf: model 'missing.bin': no such file");
  EXPECT_TRUE(entries(dir / "out").empty());
  // Corrupt .bin: the reader's error names the file.
  {
    const std::string good = slurp(dir / "net.bin");
    std::ofstream(dir / "cut.bin", std::ios::binary) << good.substr(0, good.size() / 2);
  }
  r = run_qmap_in(dir, "perf cut.bin --output-dir out", "none");
  EXPECT_EQ(expect_one_error(r, false).rfind("bin 'cut.bin': truncated", 0), 0u) << r.err;
  EXPECT_TRUE(entries(dir / "out").empty());
  // Unknown march.
  r = run_qmap_in(dir, "perf net.bin --march nosuch --output-dir out", "none");
  EXPECT_NE(expect_one_error(r, false).find("perf: --march: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nosuch"), std::string::npos) << r.err;
  EXPECT_TRUE(entries(dir / "out").empty());
  // Unwritable output folder: a path through a regular file.
  std::ofstream(dir / "afile") << "x";
  r = run_qmap_in(dir, "perf net.bin --output-dir afile/out", "none");
  EXPECT_EQ(expect_one_error(r, false).rfind("perf: --output-dir 'afile/out': cannot create", 0), 0u) << r.err;
  // Read-only output folder (root ignores permissions, so only checked as a normal user).
  if (geteuid() != 0) {
    fs::create_directories(dir / "ro");
    fs::permissions(dir / "ro", fs::perms::owner_read | fs::perms::owner_exec);
    r = run_qmap_in(dir, "perf net.bin --output-dir ro", "none");
    EXPECT_NE(expect_one_error(r, false).find("perf: --output-dir 'ro'"), std::string::npos) << r.err;
    fs::permissions(dir / "ro", fs::perms::owner_all);
    EXPECT_TRUE(entries(dir / "ro").empty());
  }
}

// Without Graphviz's `dot` on the PATH: one line says so, only the picture is skipped.
TEST(PerfE2e, MissingDotSkipsOnlyThePicture) {
  const fs::path dir = test_dir();
  write_models(dir);
  const std::string cmd = "cd '" + dir.string() + "' && PATH=/nonexistent '" QMAP_BIN
                          "' perf net.bin --output-dir out >stdout.txt 2>stderr.txt </dev/null";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << slurp(dir / "stderr.txt");
  const std::string out = slurp(dir / "stdout.txt");
  EXPECT_EQ(count(out, "graphviz 'dot' not found"), 1u) << out;
  EXPECT_FALSE(fs::exists(dir / "out/net/net.svg"));
  EXPECT_TRUE(fs::exists(dir / "out/net/net.json"));
  EXPECT_TRUE(fs::exists(dir / "out/net/net.dot"));
  const std::string html = slurp(dir / "out/net/net.html");
  EXPECT_NE(html.find("id=\"graph-missing\""), std::string::npos);
  EXPECT_NE(html.find("<table id=\"summary\">"), std::string::npos);
}

// A file where the report's folder goes is not replaced: an error naming it, nothing written.
TEST(PerfE2e, FileInTheReportsPlaceIsAnError) {
  const fs::path dir = test_dir();
  write_models(dir);
  fs::create_directories(dir / "out");
  std::ofstream(dir / "out/net") << "not a folder";
  const CliRun r = run_qmap_in(dir, "perf net.bin --output-dir out", "none");
  EXPECT_EQ(expect_one_error(r, false), "perf: 'out/net': exists and is not a folder: the report needs that name");
  EXPECT_EQ(entries(dir / "out"), std::vector<std::string>{"net"});
  EXPECT_EQ(slurp(dir / "out/net"), "not a folder");
}

}  // namespace
