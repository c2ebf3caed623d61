// The perf report's JSON schema "qmap.perf/1" is stable: exactly the documented keys (a
// literal list here, so any change to the JSON fails until the list, and docs/perf.md, are
// changed on purpose), each of them listed in docs/perf.md. Also the HTML page's structure
// (one row per layer, the summary table) and the cost model's optional keys.
#include <gtest/gtest.h>

#include <set>

#include "core/file_io.h"
#include "report/perf_report.h"

namespace qmap {
namespace {

using json = nlohmann::ordered_json;

// A two-step program (conv, then a float Softmax on the CPU): both subgraph kinds.
PerfReport small_report(bool measured) {
  IntProgram p;
  auto tensor = [&](Dims d, DType t) {
    ProgramTensor pt;
    pt.name = "t" + std::to_string(p.tensors.size());
    pt.dtype = t;
    pt.dims = std::move(d);
    p.tensors.push_back(std::move(pt));
    return static_cast<int32_t>(p.tensors.size() - 1);
  };
  const int32_t x = tensor({1, 4, 8, 8}, DType::kUInt8), y = tensor({1, 4, 8, 8}, DType::kFloat32),
                z = tensor({1, 4, 8, 8}, DType::kFloat32);
  p.inputs = {x};
  p.outputs = {z};
  Step c;
  c.node = "conv";
  c.inputs = {x};
  c.outputs = {y};
  auto& cp = c.set<ConvFloatOutParams>(StepKind::kConvFloatOut);
  cp.geom = {.n = 1, .c = 4, .h = 8, .w = 8, .m = 4, .oh = 8, .ow = 8};
  cp.weights.assign(16, 1);
  p.steps.push_back(c);
  Step s;
  s.kind = StepKind::kFloat;
  s.node = "softmax";
  s.op_type = "Softmax";
  s.inputs = {y};
  s.outputs = {z};
  p.steps.push_back(s);
  auto spec = load_target_spec("generic");
  EXPECT_TRUE(spec.ok());
  PerfReport r = estimate_perf(p, step_placement(p), spec->cost, 1024);
  r.model = "small";
  r.source = "small.bin";
  r.source_kind = "bin";
  r.march = "generic";
  if (measured) {
    PerfMeasurement m;
    m.runs = 2;
    m.isa = "ref";
    attach_measurement(r, {1.5, 2.5}, m);
  }
  return r;
}

// Key paths: "a", "a.b", arrays of objects as "a[].b" (from their first element).
void collect(const json& j, const std::string& prefix, std::vector<std::string>& out) {
  if (j.is_object()) {
    for (const auto& [k, v] : j.items()) {
      out.push_back(prefix + k);
      collect(v, prefix + k + ".", out);
    }
  } else if (j.is_array() && !j.empty() && j[0].is_object()) {
    collect(j[0], prefix.substr(0, prefix.size() - 1) + "[].", out);
  }
}

std::vector<std::string> paths(const json& j) {
  std::vector<std::string> out;
  collect(j, "", out);
  return out;
}

const std::vector<std::string> kModelKeys = {
    "schema", "model", "source", "source_kind", "march", "cost_model", "cost_model.clock_mhz",
    "cost_model.int8_macs_per_cycle", "cost_model.depthwise_macs_per_cycle", "cost_model.vector_ops_per_cycle",
    "cost_model.ddr_bandwidth_gbps", "cost_model.sram_kib", "cost_model.sram_bandwidth_gbps", "cost_model.cpu_gflops",
    "cost_model.subgraph_switch_us", "cost_model.layer_overhead_us", "cost_model.simple_ops_per_cycle",
    "cost_model.output_ops_per_cycle", "cost_model.depthwise_channel_cycles", "cost_model.eval_overhead_us",
    "cost_model.cpu_shares_sram", "cost_model.conv_pixel_vector", "cost_model.conv_row_halo", "cost_model.move_run_cycles", "summary", "summary.estimated_latency_us", "summary.estimated_npu_us",
    "summary.estimated_cpu_us", "summary.subgraph_switches", "summary.switch_us", "summary.macs", "summary.gops",
    "summary.weight_bytes", "summary.ddr_load_bytes", "summary.ddr_store_bytes", "summary.ddr_bytes",
    "summary.arena_bytes", "summary.layers", "summary.npu_subgraphs", "summary.cpu_subgraphs", "measured",
    "subgraphs", "subgraphs[].id", "subgraphs[].on", "subgraphs[].first_step", "subgraphs[].last_step",
    "subgraphs[].macs", "subgraphs[].weight_bytes", "subgraphs[].ddr_load_bytes", "subgraphs[].ddr_store_bytes",
    "subgraphs[].estimated_us", "subgraphs[].measured_us", "layers", "layers[].step", "layers[].node", "layers[].op",
    "layers[].kind", "layers[].on", "layers[].subgraph", "layers[].unit", "layers[].input_shapes",
    "layers[].output_shapes", "layers[].macs", "layers[].ops", "layers[].weight_bytes", "layers[].bytes_in",
    "layers[].bytes_out", "layers[].ddr_load_bytes", "layers[].ddr_store_bytes", "layers[].sram_bytes",
    "layers[].compute_us", "layers[].memory_us", "layers[].estimated_cycles", "layers[].estimated_us",
    "layers[].bound", "layers[].measured_us", "layers[].share", "layers[].gmacs_per_s"};

const std::vector<std::string> kMeasuredKeys = {"measured.runs",   "measured.threads",      "measured.isa",
                                                "measured.total_us", "measured.total_us.median",
                                                "measured.total_us.min", "measured.total_us.max",
                                                "measured.npu_us", "measured.npu_us.median",
                                                "measured.npu_us.min", "measured.npu_us.max",
                                                "measured.cpu_us", "measured.cpu_us.median",
                                                "measured.cpu_us.min", "measured.cpu_us.max",
                                                "measured.layer_sum_us"};

TEST(PerfReport, JsonSchemaIsStable) {
  EXPECT_EQ(paths(perf_json(small_report(false))), kModelKeys);
  std::vector<std::string> with = kModelKeys;
  const auto at = std::find(with.begin(), with.end(), "measured") + 1;
  with.insert(at, kMeasuredKeys.begin(), kMeasuredKeys.end());
  EXPECT_EQ(paths(perf_json(small_report(true))), with);
  // A subgraph file: the subgraph's id, its own summary, its subgraph and layers only.
  const json sg = perf_json(small_report(true), 1);
  EXPECT_EQ(sg["subgraph"], 1);
  std::vector<std::string> summary;
  for (const auto& [k, v] : sg["summary"].items()) summary.push_back(k);
  EXPECT_EQ(summary, (std::vector<std::string>{"on", "first_step", "last_step", "estimated_latency_us",
                                               "measured_latency_us", "macs", "gops", "weight_bytes",
                                               "ddr_load_bytes", "ddr_store_bytes", "ddr_bytes"}));
  ASSERT_EQ(sg["layers"].size(), 1u);
  EXPECT_EQ(sg["layers"][0]["node"], "softmax");
  EXPECT_EQ(sg["subgraphs"].size(), 1u);
}

TEST(PerfReport, DocsListEveryKey) {
  auto doc = read_file(std::string(QMAP_SOURCE_DIR) + "/docs/perf.md");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  std::vector<std::string> all = kModelKeys;
  all.insert(all.end(), kMeasuredKeys.begin(), kMeasuredKeys.end());
  for (const std::string& k : all) {
    // measured.total_us.median etc. are documented as `measured.total_us` with {median, min, max}.
    const std::string key = k.size() > 7 && (k.ends_with(".median") || k.ends_with(".min") || k.ends_with(".max"))
                                ? k.substr(0, k.rfind('.'))
                                : k;
    EXPECT_NE(doc->find("| `" + key + "` |"), std::string::npos) << "docs/perf.md does not list " << key;
  }
  EXPECT_NE(doc->find("| `subgraph` |"), std::string::npos);
}

TEST(PerfReport, HtmlHasSummaryAndOneRowPerLayer) {
  const PerfReport r = small_report(true);
  const std::string html = perf_html(r, "<svg id=\"g\"></svg>", "");
  EXPECT_NE(html.find("<table id=\"summary\">"), std::string::npos);
  size_t rows = 0;
  for (size_t pos = html.find("<tr class=\"layer "); pos != std::string::npos; pos = html.find("<tr class=\"layer ", pos + 1))
    ++rows;
  EXPECT_EQ(rows, r.layers.size());
  EXPECT_NE(html.find("id=\"time-chart\""), std::string::npos);
  EXPECT_NE(html.find("id=\"roofline-chart\""), std::string::npos);
  EXPECT_NE(html.find("<div class=\"graph\"><svg id=\"g\">"), std::string::npos);
  // Without the picture, the reason is shown instead.
  EXPECT_NE(perf_html(r, "", "perf: graphviz 'dot' not found").find("graphviz &#39;dot&#39; not found"), std::string::npos);
  // Node names are escaped.
  PerfReport odd = r;
  odd.layers[0].node = "<b>&";
  EXPECT_NE(perf_html(odd, "", "").find("&lt;b&gt;&amp;"), std::string::npos);
}

TEST(PerfReport, CostModelOptionalKeysParseAndCheck) {
  const std::string base =
      "name: t\ndescription: d\nnpu_ops: {Conv: {}}\ncost_model: {clock_mhz: 500, int8_macs_per_cycle: 256, "
      "ddr_bandwidth_gbps: 4, sram_kib: 512, cpu_gflops: 10, subgraph_switch_us: 20";
  auto plain = parse_target_spec(base + "}\n", "t.yaml");
  ASSERT_TRUE(plain.ok()) << plain.status().message();
  EXPECT_EQ(plain->cost.depthwise_rate(), 256);  // defaults
  EXPECT_EQ(plain->cost.vector_rate(), 256);
  EXPECT_EQ(plain->cost.simple_rate(), 256);
  EXPECT_FALSE(plain->cost.cpu_shares_sram);
  auto full = parse_target_spec(base + ", depthwise_macs_per_cycle: 32, vector_ops_per_cycle: 16, "
                                       "simple_ops_per_cycle: 64, sram_bandwidth_gbps: 32, layer_overhead_us: 0.25, "
                                       "output_ops_per_cycle: 8, depthwise_channel_cycles: 100, "
                                       "eval_overhead_us: 1.5, cpu_shares_sram: true}\n",
                                "t.yaml");
  ASSERT_TRUE(full.ok()) << full.status().message();
  EXPECT_EQ(full->cost.depthwise_rate(), 32);
  EXPECT_EQ(full->cost.vector_rate(), 16);
  EXPECT_EQ(full->cost.simple_rate(), 64);
  EXPECT_EQ(full->cost.sram_bandwidth_gbps, 32);
  EXPECT_EQ(full->cost.layer_overhead_us, 0.25);
  EXPECT_EQ(full->cost.output_ops_per_cycle, 8);
  EXPECT_EQ(full->cost.depthwise_channel_cycles, 100);
  EXPECT_EQ(full->cost.eval_overhead_us, 1.5);
  EXPECT_TRUE(full->cost.cpu_shares_sram);
  auto bad = parse_target_spec(base + ", vector_ops_per_cycle: 0}\n", "t.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cost_model.vector_ops_per_cycle"), std::string::npos) << bad.status().message();
  auto bad_bool = parse_target_spec(base + ", cpu_shares_sram: maybe}\n", "t.yaml");
  ASSERT_FALSE(bad_bool.ok());
  EXPECT_NE(bad_bool.status().message().find("'maybe' must be true or false"), std::string::npos)
      << bad_bool.status().message();
}

}  // namespace
}  // namespace qmap
