// `qmap debug`'s analysis (accuracy_debug.h).
#include "makertbin/accuracy_debug.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "calib/calib_table.h"
#include "calib/calibrate.h"
#include "calib/dataset.h"
#include "calib/mixed_precision.h"
#include "calib/output_scorer.h"
#include "calib/statistics.h"
#include "config/makertbin_config.h"
#include "core/text.h"
#include "core/thread_pool.h"
#include "import/onnx/onnx_import.h"
#include "makertbin/makertbin.h"
#include "ops/custom/custom_op.h"
#include "quant/quantize.h"
#include "target/target_spec.h"

namespace qmap {

namespace fs = std::filesystem;

namespace {

// Histogram bins kept per value: 2048 statistics bins summed 32 at a time (a chart's width).
constexpr int kReportBins = 64;
// A value clips "visibly" above this fraction of its elements (one in a thousand): reported
// as a reason beside a suspect.
constexpr double kClipNote = 1e-3;
// A Conv's per-channel weight ranges are "spread" beyond this max/median ratio: one channel
// takes most of a per-tensor scale's 127 steps (reported as a reason beside a suspect).
constexpr double kSpreadNote = 10.0;

ActivationHistogram histogram_of(const std::string& name, const ValueStats& vs, float threshold) {
  ActivationHistogram h;
  h.value = name;
  h.threshold = threshold;
  h.min = vs.min;
  h.max = vs.max;
  h.abs_max = vs.abs_max;
  h.bins.assign(kReportBins, 0);
  const size_t per = vs.histogram.size() / kReportBins;
  uint64_t clipped = 0, total = 0;
  for (size_t b = 0; b < vs.histogram.size(); ++b) {
    h.bins[std::min<size_t>(b / std::max<size_t>(per, 1), kReportBins - 1)] += vs.histogram[b];
    total += vs.histogram[b];
    // Bins whose lower edge is at or beyond the threshold: clipped at the statistics' bin
    // resolution (abs_max / 2048).
    if (static_cast<double>(b) * vs.bin_width() >= threshold) clipped += vs.histogram[b];
  }
  h.clipped = total ? static_cast<double>(clipped) / static_cast<double>(total) : 0.0;
  return h;
}

std::optional<WeightRanges> weight_ranges_of(const Graph& g, const Node& n) {
  if (n.op_type != "Conv" || n.inputs.size() < 2) return std::nullopt;
  const Value& w = g.value(n.inputs[1]);
  if (!w.constant || w.constant->dtype() != DType::kFloat32 || w.constant->dims().empty()) return std::nullopt;
  const Tensor& t = *w.constant;
  const int64_t oc = t.dims()[0];
  if (oc <= 0) return std::nullopt;
  const auto v = t.data<float>();
  const size_t per = v.size() / static_cast<size_t>(oc);
  WeightRanges r;
  r.node = n.name;
  const int64_t group = attr_int(n, "group", 1);
  r.depthwise = group > 1 && group == oc;
  std::vector<double> amax;
  for (int64_t c = 0; c < oc; ++c) {
    float lo = 0, hi = 0;
    for (size_t i = 0; i < per; ++i) {
      lo = std::min(lo, v[static_cast<size_t>(c) * per + i]);
      hi = std::max(hi, v[static_cast<size_t>(c) * per + i]);
    }
    r.min.push_back(lo);
    r.max.push_back(hi);
    amax.push_back(std::max(-static_cast<double>(lo), static_cast<double>(hi)));
  }
  std::vector<double> sorted = amax;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<ptrdiff_t>(sorted.size() / 2), sorted.end());
  const double median = sorted[sorted.size() / 2];
  const double top = *std::max_element(amax.begin(), amax.end());
  r.spread = median > 0 ? top / median : top > 0 ? std::numeric_limits<double>::infinity() : 1.0;
  return r;
}

// What the report saw at a suspect, one clause per fact: its output value's threshold against
// the range it saw (and the share of elements it clips), clipping of its other values, and a
// spread of its weight channels.
std::string suspect_reason(const Graph& g, const QuantUnit& u, const std::map<std::string, const ActivationHistogram*>& hist,
                           const std::map<std::string, const WeightRanges*>& weights, bool per_channel) {
  std::vector<std::string> why;
  std::set<std::string> seen;
  const std::set<std::string> members(u.members.begin(), u.members.end());
  auto clause = [&](const std::string& name, bool always) {
    const auto h = hist.find(name);
    if (h == hist.end() || !seen.insert(name).second) return;
    const ActivationHistogram& a = *h->second;
    if (!always && a.clipped <= kClipNote) return;
    why.push_back(fmt::format("'{}' threshold {:.4g} for max |x| {:.4g} ({:.0f}% of it), clips {:.3f}% of the elements",
                              name, a.threshold, a.abs_max, a.abs_max > 0 ? 100.0 * a.threshold / a.abs_max : 100.0,
                              100 * a.clipped));
  };
  // The unit's output: the last member's first output.
  for (const Node& n : g.nodes)
    if (n.name == u.members.back() && !n.outputs.empty()) clause(g.value(n.outputs[0]).name, true);
  for (const Node& n : g.nodes) {
    if (!members.count(n.name)) continue;
    for (ValueId v : n.inputs) clause(g.value(v).name, false);
    if (const auto w = weights.find(n.name); w != weights.end() && (w->second->spread > kSpreadNote || !per_channel))
      why.push_back(fmt::format("{}weight channels: the widest spans {:.1f}x the median channel's range{}",
                                w->second->depthwise ? "depthwise " : "", w->second->spread,
                                per_channel ? "" : " (per-tensor weight scale: per_channel: True would help)"));
  }
  std::string s;
  for (const auto& w : why) s += (s.empty() ? "" : "; ") + w;
  return s.empty() ? "no statistics for its values" : s;
}

// The run_on_cpu line that keeps `units` in float: the config's own run_on_cpu first, then the
// units' members in graph order.
std::string run_on_cpu_line(const std::vector<std::string>& cpu_nodes, const std::vector<QuantUnit>& units,
                            const QuantizedModel& full) {
  std::set<std::string> members;
  for (const QuantUnit& u : units) members.insert(u.members.begin(), u.members.end());
  std::vector<std::string> cpu = cpu_nodes;
  for (const QuantNodeInfo& qn : full.nodes)
    if (members.count(qn.name) && std::find(cpu.begin(), cpu.end(), qn.name) == cpu.end()) cpu.push_back(qn.name);
  return fmt::format("  run_on_cpu: '{}'\n", fmt::join(cpu, ";"));
}

// The model re-quantized with `opts`, scored: what a suggested YAML line gives.
Result<OutputScore> score_with(const Graph& optimized, const Thresholds& thresholds, const QuantizeOptions& opts,
                               const OutputScorer& scorer) {
  QMAP_ASSIGN_OR_RETURN(const QuantizedModel q, quantize_graph(optimized, thresholds, opts));
  return scorer.score(q.graph);
}

// The suspects' NPU alternative (DebugReport::suspects_int16_yaml): int16 outputs for the
// suspect units that can have one, after the config's own node_info OutputType: int16 names;
// run_on_cpu for the rest. Measured like the float lines, with each int16 output at its max |v|
// over the samples.
Status suggest_int16(const Graph& optimized, const Thresholds& thresholds, const QuantizeOptions& qopts,
                     const QuantizedModel& full, const Statistics& stats, const std::vector<std::string>& cpu_nodes,
                     const std::vector<QuantUnit>& suspects, const MakertbinConfig& cfg, const OutputScorer& scorer,
                     DebugReport& r) {
  std::map<std::string, const QuantNodeInfo*> info;
  for (const QuantNodeInfo& qn : full.nodes) info[qn.name] = &qn;
  std::vector<std::string> wide = cfg.calibration.int16_outputs;
  std::vector<QuantUnit> narrow;  // the suspects that cannot have an int16 output: float
  QuantizeOptions o = qopts;
  for (const QuantUnit& u : suspects) {
    const auto it = info.find(u.name);
    if (it == info.end() || !it->second->int16_capable) {
      narrow.push_back(u);
      continue;
    }
    if (std::find(wide.begin(), wide.end(), u.name) == wide.end()) wide.push_back(u.name);
    o.int16_outputs.insert(u.name);
    if (const auto st = stats.values.find(it->second->value); st != stats.values.end() && st->second.abs_max > 0)
      o.int16_thresholds[it->second->value] = st->second.abs_max;
  }
  if (narrow.size() == suspects.size()) return ok_status();  // none can
  std::string entries;
  for (const std::string& n : wide) entries += fmt::format("{}{}: {{OutputType: int16}}", entries.empty() ? "" : ", ", n);
  r.suspects_int16_yaml = "model_parameters:\n  node_info: {" + entries + "}\n";
  if (!cpu_nodes.empty() || !narrow.empty())
    r.suspects_int16_yaml += "calibration_parameters:\n" + run_on_cpu_line(cpu_nodes, narrow, full);
  QMAP_ASSIGN_OR_RETURN(const OutputScore s, score_with(optimized, thresholds, units_on_cpu(o, narrow), scorer));
  r.suspects_int16_cosine = s.cosine;
  r.suspects_int16_sqnr_db = s.sqnr_db;
  return ok_status();
}

}  // namespace

Result<DebugReport> run_accuracy_debug(const AccuracyDebugOptions& o) {
  if (o.samples == 0) return error("debug: --samples 0: expected 1 or more");
  const std::optional<ModelType> model_type = parse_model_type(o.model_type);
  if (!model_type) return error("debug: --model-type '{}': expected onnx or caffe", o.model_type);
  QMAP_ASSIGN_OR_RETURN(MakertbinConfig cfg, load_makertbin_config(o.config_path, *model_type));
  std::vector<std::string> libs = cfg.custom_op_libs;
  libs.insert(libs.end(), o.custom_op_libs.begin(), o.custom_op_libs.end());
  QMAP_ASSIGN_OR_RETURN(const CustomOpSet custom_ops, CustomOpSet::load(libs));
  {
    // Only to complete the input specs (names, shapes) as makertbin did; the importer's
    // notes are makertbin's to print.
    Logger quiet(stderr, LogLevel::kError);
    QMAP_RETURN_IF_ERROR(import_config_model(cfg, custom_ops, quiet).status());
  }
  if (cfg.calibration.cal_data_dirs.empty())
    return error(
        "debug: calibration_parameters.cal_data_dir of '{}' is empty: the debugger runs the calibration "
        "samples",
        o.config_path);

  DebugReport r;
  r.model = cfg.model.output_model_file_prefix;
  r.config = o.config_path;
  const fs::path work = cfg.model.working_dir;
  r.float_model = (work / (r.model + "_optimized_float_model.onnx")).string();
  r.quantized_model = (work / (r.model + "_quantized_model.onnx")).string();
  r.calibration_table = (work / (r.model + "_calibration_table.txt")).string();
  for (const std::string& p : {r.float_model, r.quantized_model, r.calibration_table})
    if (!fs::is_regular_file(p))
      return error(
          "debug: '{}': no such file: qmap debug reads what `qmap makertbin --config {}` writes "
          "(model_parameters.working_dir and output_model_file_prefix)",
          p, o.config_path);

  OnnxImportOptions import;
  import.custom_ops = &custom_ops;
  QMAP_ASSIGN_OR_RETURN(Graph optimized, import_onnx(r.float_model, import));
  QMAP_ASSIGN_OR_RETURN(Graph quantized_file, import_onnx(r.quantized_model, import));
  const auto method = quantized_file.metadata.find("qmap_calibration_method");
  if (method == quantized_file.metadata.end() || !quantized_file.metadata.count(kMetadataYamlKey))
    return error("debug: '{}': not a makertbin quantized model (no qmap_calibration_method metadata)",
                 r.quantized_model);
  r.calibration_method = method->second;
  QMAP_ASSIGN_OR_RETURN(const CalibTable table, read_calib_table(r.calibration_table));
  const Thresholds thresholds = table.thresholds();
  QMAP_RETURN_IF_ERROR(check_thresholds_cover(optimized, thresholds, r.calibration_table));

  QMAP_ASSIGN_OR_RETURN(const TargetSpec spec, load_target_spec(cfg.model.march));
  QuantizeOptions qopts = makertbin_quantize_options(cfg, spec);
  r.per_channel = qopts.per_channel;
  // The nodes makertbin's accuracy budget kept in float: the file was quantized with them on
  // the CPU, and the suspects' YAML line keeps them there.
  std::vector<std::string> cpu_nodes = cfg.calibration.run_on_cpu;
  if (const auto b = quantized_file.metadata.find(kMetadataBudgetCpuKey); b != quantized_file.metadata.end())
    for (const std::string& node : split_trimmed(b->second, ';')) {
      if (node.empty()) continue;
      if (std::none_of(optimized.nodes.begin(), optimized.nodes.end(), [&](const Node& n) { return n.name == node; }))
        return error("debug: '{}': metadata {} names node '{}', which '{}' does not have: run qmap makertbin "
                     "--config {} again",
                     r.quantized_model, kMetadataBudgetCpuKey, node, r.float_model, o.config_path);
      r.budget_cpu.push_back(node);
      if (qopts.run_on_cpu.insert(node).second) cpu_nodes.push_back(node);
    }
  // The nodes it gave int16 outputs, with their thresholds ("node|value|threshold").
  if (const auto b = quantized_file.metadata.find(kMetadataBudgetInt16Key); b != quantized_file.metadata.end())
    for (const std::string& entry : split_trimmed(b->second, ';')) {
      if (entry.empty()) continue;
      const std::vector<std::string> f = split_trimmed(entry, '|');
      // The threshold as the calibration table reads its own (from_chars: locale-independent).
      float t = 0.f;
      const bool parsed = f.size() == 3 && [&] {
        const auto [p, ec] = std::from_chars(f[2].data(), f[2].data() + f[2].size(), t);
        return ec == std::errc() && p == f[2].data() + f[2].size() && std::isfinite(t) && t > 0.f;
      }();
      const bool known = parsed && std::any_of(optimized.nodes.begin(), optimized.nodes.end(),
                                               [&](const Node& n) { return n.name == f[0]; });
      if (!known)
        return error("debug: '{}': metadata {} entry '{}': expected node|value|threshold with a node of '{}' and a "
                     "threshold > 0: run qmap makertbin --config {} again",
                     r.quantized_model, kMetadataBudgetInt16Key, entry, r.float_model, o.config_path);
      qopts.int16_outputs.insert(f[0]);
      qopts.int16_thresholds[f[1]] = t;
    }

  // The quantizer's view of the model (value_map, placement, groups) with the file's graph:
  // the same nodes, and the file's constants (bias correction's biases).
  QMAP_ASSIGN_OR_RETURN(QuantizedModel full, quantize_graph(optimized, thresholds, qopts));
  {
    const auto& a = full.graph.nodes;
    const auto& b = quantized_file.nodes;
    for (size_t i = 0; i < std::max(a.size(), b.size()); ++i) {
      const std::string want = i < a.size() ? fmt::format("'{}' ({})", a[i].name, a[i].op_type) : "nothing";
      const std::string got = i < b.size() ? fmt::format("'{}' ({})", b[i].name, b[i].op_type) : "nothing";
      if (want != got)
        return error(
            "debug: '{}' does not match '{}' quantized with '{}' and the config's options: node {} is {} in "
            "the file, {} re-quantized: run qmap makertbin --config {} again",
            r.quantized_model, r.float_model, r.calibration_table, i, got, want, o.config_path);
    }
  }
  full.graph = std::move(quantized_file);

  // The samples: spread over the calibration set, as makertbin's method search picks them
  // (sets sorted by class would otherwise show the debugger one or two classes).
  QMAP_ASSIGN_OR_RETURN(CalibDataset dataset,
                        CalibDataset::open(cfg.inputs, cfg.calibration.cal_data_dirs, cfg.calibration.cal_data_types,
                                           cfg.calibration.preprocess_on));
  std::vector<std::vector<Tensor>> samples;
  for (size_t i : spread_indices(dataset.size(), o.samples)) {
    QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> s, dataset.load_runtime(i));
    samples.push_back(std::move(s));
  }
  r.samples = samples.size();
  const int threads = o.jobs > 0 ? o.jobs : cfg.compiler.jobs > 0 ? cfg.compiler.jobs : default_thread_count();

  // The runtime's integer kernels (bit-exact with the reference, faster), as makertbin's
  // method search uses. Most of a sensitivity run's graph is float on the CPU: those steps use
  // the float engine's GEMM (OpenBLAS), as the float reference does, instead of the runtime's
  // portable one (which made 58% of MobileNetV2's debug time). One thread a score: the units
  // run in parallel.
  QMAP_ASSIGN_OR_RETURN(const OutputScorer scorer,
                        OutputScorer::create(optimized, samples, {.threads = 1, .float_sgemm_blas = true}));

  // ---- per-unit sensitivity (calib/mixed_precision.h) ----
  auto ranked_or =
      rank_unit_sensitivity(optimized, thresholds, qopts, full, scorer, {.threads = threads, .progress = o.progress});
  if (!ranked_or.ok()) return ranked_or.status().with_context("debug: ");
  const std::vector<UnitSensitivity>& ranked = *ranked_or;
  for (const UnitSensitivity& u : ranked)
    r.sensitivity.push_back({u.unit.name, u.unit.op_type, u.unit.members, u.score.cosine, u.score.mse, u.score.sqnr_db});

  // ---- the cumulative error of the whole quantized model ----
  QMAP_ASSIGN_OR_RETURN(r.cumulative, compare_nodes(optimized, full, samples));

  // ---- activation histograms over the same samples ----
  CollectOptions copts;
  copts.threads = threads;
  copts.progress = o.progress;
  QMAP_ASSIGN_OR_RETURN(
      const Statistics stats,
      collect_statistics(
          optimized, samples.size(), [&](size_t i) -> Result<std::vector<Tensor>> { return samples[i]; }, copts));
  for (const std::string& v : calibrated_values(optimized)) {
    const auto st = stats.values.find(v);
    const auto t = thresholds.find(v);
    if (st != stats.values.end() && t != thresholds.end())
      r.histograms.push_back(histogram_of(v, st->second, t->second));
  }
  for (const Node& node : optimized.nodes)
    if (auto w = weight_ranges_of(optimized, node)) r.weights.push_back(std::move(*w));

  // ---- suspects ----
  std::map<std::string, const ActivationHistogram*> hist;
  for (const auto& h : r.histograms) hist[h.value] = &h;
  std::map<std::string, const WeightRanges*> weights;
  for (const auto& w : r.weights) weights[w.node] = &w;
  std::vector<QuantUnit> suspect_units;
  for (size_t i = 0; i < std::min(o.top, ranked.size()); ++i) {
    const QuantUnit& u = ranked[i].unit;
    r.suspects.push_back({u.name, u.members, ranked[i].score.cosine, ranked[i].score.sqnr_db,
                          suspect_reason(optimized, u, hist, weights, qopts.per_channel)});
    suspect_units.push_back(u);
  }
  if (!r.suspects.empty()) {
    r.suspects_yaml = "calibration_parameters:\n" + run_on_cpu_line(cpu_nodes, suspect_units, full);
    // What those lines give: the model re-quantized with the suspects in float.
    QMAP_ASSIGN_OR_RETURN(const OutputScore s,
                          score_with(optimized, thresholds, units_on_cpu(qopts, suspect_units), scorer));
    r.suspects_on_cpu_cosine = s.cosine;
    r.suspects_on_cpu_sqnr_db = s.sqnr_db;
    QMAP_RETURN_IF_ERROR(
        suggest_int16(optimized, thresholds, qopts, full, stats, cpu_nodes, suspect_units, cfg, scorer, r));
  }
  return r;
}

}  // namespace qmap
