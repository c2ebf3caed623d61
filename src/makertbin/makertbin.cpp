// run_makertbin (makertbin.h) as its pipeline: import -> float passes -> calibrate
// (calib/calibrate.h) -> adaptive rounding (optional) -> bias correction -> accuracy budget
// (optional) -> quantize -> lower and write the .bin -> node table; each stage one function,
// timed ("<stage> done in N.NN s" and the "stage times" line).
#include "makertbin/makertbin.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>

#include <fmt/format.h>

#include "calib/calib_table.h"
#include "calib/calibrate.h"
#include "calib/dataset.h"
#include "calib/mixed_precision.h"
#include "calib/output_scorer.h"
#include "calib/qdq_thresholds.h"
#include "calib/statistics.h"
#include "config/makertbin_config.h"
#include "core/file_io.h"
#include "core/thread_pool.h"
#include "format/model_bin.h"
#include "import/import_model.h"
#include "import/onnx/onnx_export.h"
#include "ops/custom/custom_op.h"
#include "passes/model_boundary.h"
#include "passes/passes.h"
#include "passes/preprocess.h"
#include "quant/adaround.h"
#include "quant/bias_correction.h"
#include "quant/lower.h"
#include "quant/quantize.h"
#include "report/node_compare.h"
#include "report/perf_model.h"
#include "report/text_table.h"
#include "target/placement.h"
#include "target/target_spec.h"

namespace qmap {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Samples adaptive rounding measures its layers' input statistics on (spread over the set):
// enough output positions for the 1x1 layers of a 7x7 stage (64 * 49 = 3136 >= 2 * 960 taps).
constexpr size_t kAdaRoundSamples = 64;
// Samples bias correction measures mean shifts on (spread over the calibration set):
// enough that the per-channel means settle (their spread over sample subsets is a few percent
// of the shift they correct on MobileNetV2), few enough to keep it a few seconds.
constexpr size_t kBiasCorrectionSamples = 32;
// Calibration samples, disjoint from those and spread between them, that decide whether bias
// correction is kept (auto).
constexpr size_t kBiasCorrectionHeldOut = 16;

// What every stage reads: the options, the config, the working dir, the log, and the stage
// times the last log line sums up.
struct Pipeline {
  const MakertbinOptions& options;
  Logger& L;
  MakertbinConfig cfg;
  fs::path work;
  int threads = 1;
  std::vector<std::pair<std::string, double>> times;

  fs::path out_path(const std::string& suffix) const { return work / (cfg.model.output_model_file_prefix + suffix); }
};

// A stage's timing: "<stage> done in N.NN s" when it ends, and a row of the "stage times" line.
struct Stage {
  Pipeline& p;
  std::string name;
  Clock::time_point start = Clock::now();
  ~Stage() {
    const double s = seconds_since(start);
    p.times.emplace_back(name, s);
    p.L.info("{} done in {:.2f} s", name, s);
  }
};

Status write_model(const Graph& g, const fs::path& path, Logger& L) {
  QMAP_RETURN_IF_ERROR(export_onnx(g, path.string()));
  L.info("wrote {}", path.string());
  return ok_status();
}

// Fills what the YAML left to the model: an empty input_name names the model's only input,
// an empty input_shape takes the model's. Checks names and shapes against the model.
Status complete_input_specs(const Graph& g, std::vector<InputSpec>& specs) {
  std::vector<std::string> names;
  for (ValueId id : g.inputs) names.push_back(g.value(id).name);
  if (specs.size() > names.size())
    return error("makertbin: input_parameters describe {} inputs; the model has {} ({})", specs.size(),
                 names.size(), fmt::join(names, ", "));
  for (InputSpec& s : specs) {
    if (s.name.empty()) {
      if (names.size() != 1)
        return error("makertbin: input_parameters.input_name is empty but the model has {} inputs ({}): "
                     "name them", names.size(), fmt::join(names, ", "));
      s.name = names[0];
    }
    const auto id = g.find_value(s.name);
    if (!id || std::find(g.inputs.begin(), g.inputs.end(), *id) == g.inputs.end())
      return error("makertbin: input_parameters.input_name '{}': the model has no such input (inputs: {})", s.name,
                   fmt::join(names, ", "));
    const Value& v = g.value(*id);
    if (!v.dims) return error("makertbin: input '{}' has no static shape: give input_parameters.input_shape", s.name);
    if (s.shape.empty()) {
      s.shape = *v.dims;
    } else if (s.shape != *v.dims) {
      return error("makertbin: input_parameters.input_shape {} of input '{}' does not match the model's {}",
                   dims_str(s.shape), s.name, dims_str(*v.dims));
    }
  }
  return ok_status();
}

// hb_mapper's two tables: per node (ON, subgraph, type, cosine of the integer simulation vs
// float at that node's output on the first calibration sample, threshold) and per output.
Status print_node_tables(const Graph& optimized, const QuantizedModel& quantized, const std::vector<Tensor>& sample,
                         Logger& L) {
  QMAP_ASSIGN_OR_RETURN(const NodeComparison c, compare_nodes(optimized, quantized, {sample}));
  L.info("The converted model node information:");
  L.raw(render_text_table(node_table_rows(c)));
  L.info("The quantized model output:");
  L.raw(render_text_table(output_table_rows(c)));
  return ok_status();
}

// Bias correction (quant/bias_correction.h) on kBiasCorrectionSamples calibration samples
// spread over the set. kAuto keeps it only when it raises the mean output cosine on up to
// kBiasCorrectionHeldOut other samples, interleaved with those (held out: the correction never
// saw them; with too small a set, the correction's own samples, and the log says so). Returns
// the corrected graph, or nullopt when it is not kept. `base` is the graph corrected (the
// optimized float graph, or its adaptively rounded form); the decision scores against
// `optimized`, the float model.
Result<std::optional<Graph>> bias_corrected_graph(const Graph& optimized, const Graph& base, const Thresholds& thresholds,
                                                  const QuantizeOptions& qopts, CalibDataset& dataset,
                                                  AutoMode mode, int threads, Logger& L) {
  std::vector<std::vector<Tensor>> samples, held_out;
  const size_t n = dataset.size();
  // Of m spread samples, held-out ones are every j where j * held / m steps up: spread too.
  const std::vector<size_t> picked = spread_indices(n, kBiasCorrectionSamples + kBiasCorrectionHeldOut);
  const size_t m = picked.size();
  const size_t held = m > kBiasCorrectionSamples ? m - kBiasCorrectionSamples : 0;
  for (size_t j = 0; j < m; ++j) {
    QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> sample, dataset.load_runtime(picked[j]));
    const bool is_held = (j + 1) * held / m != j * held / m;
    (is_held ? held_out : samples).push_back(std::move(sample));
  }
  QMAP_ASSIGN_OR_RETURN(BiasCorrectionResult bc, correct_biases(base, thresholds, qopts, samples, {.threads = threads}));
  L.info("bias correction: {} layers on {} samples; mean output-mean shift corrected per layer: {:.4f} output std",
         bc.layers, samples.size(), bc.mean_relative_shift);
  for (const auto& [name, shift] : bc.layer_shift) L.debug("bias correction: {}: {:.5f} output std", name, shift);
  if (bc.layers == 0) return std::optional<Graph>();
  if (mode == AutoMode::kOn) {
    L.info("bias correction: kept (calibration_parameters.bias_correction: True)");
    return std::optional<Graph>(std::move(bc.graph));
  }
  const bool own = held_out.empty();
  QMAP_ASSIGN_OR_RETURN(const OutputScorer scorer,
                        OutputScorer::create(optimized, own ? samples : held_out, {.threads = threads}));
  QMAP_ASSIGN_OR_RETURN(QuantizedModel plain, quantize_graph(base, thresholds, qopts));
  QMAP_ASSIGN_OR_RETURN(QuantizedModel corrected, quantize_graph(bc.graph, thresholds, qopts));
  QMAP_ASSIGN_OR_RETURN(const OutputScore before, scorer.score(plain.graph));
  QMAP_ASSIGN_OR_RETURN(const OutputScore after, scorer.score(corrected.graph));
  const bool keep = after.cosine > before.cosine;
  L.info("bias correction: {} (output cosine on {} {} samples: {:.6f} without, {:.6f} with)",
         keep ? "kept" : "not kept", own ? samples.size() : held_out.size(),
         own ? "of its own (no held-out calibration sample left)" : "held-out", before.cosine, after.cosine);
  if (!keep) return std::optional<Graph>();
  return std::optional<Graph>(std::move(bc.graph));
}
// The config, the working dir with its log file, and the lines that open the log.
Result<MakertbinConfig> start(const MakertbinOptions& options, fs::path& work, Logger& L) {
  const std::optional<ModelType> model_type = parse_model_type(options.model_type);
  if (!model_type) return error("makertbin: --model-type '{}': expected onnx or caffe", options.model_type);
  QMAP_ASSIGN_OR_RETURN(MakertbinConfig cfg, load_makertbin_config(options.config_path, *model_type));
  work = cfg.model.working_dir;
  std::error_code ec;
  fs::create_directories(work, ec);
  if (ec) return error("makertbin: model_parameters.working_dir '{}': cannot create: {}", work.string(), ec.message());
  QMAP_RETURN_IF_ERROR(L.add_file((work / "makertbin.log").string()));
  L.info("Start qmap makertbin....");
  L.info("qmap version {}", QMAP_VERSION_STRING);
  L.info("config: {}", options.config_path);
  L.info("model type: {}", options.model_type);
  L.info("working dir: {}", work.string());
  L.info("march: {}", cfg.model.march);
  // Temporary files of an earlier run that was killed mid-write (SIGKILL, power loss): the
  // finished outputs are complete (write_file_atomic renames), the temporaries are litter.
  for (const std::string& name : remove_stale_temp_files(work.string()))
    L.info("removed '{}', the temporary file of an earlier run that was killed", name);
  for (const std::string& w : cfg.warnings) L.warn("{}", w);
  for (const std::string& n : cfg.notes) L.info("{}", n);
  return cfg;
}

// Custom-op plugins (the YAML's custom_op section, then --custom-op-lib): their ops run in
// float on the CPU in every stage; the .bin records which ops it needs, not their code.
Result<CustomOpSet> load_custom_ops(const Pipeline& p) {
  std::vector<std::string> libs = p.cfg.custom_op_libs;
  libs.insert(libs.end(), p.options.custom_op_libs.begin(), p.options.custom_op_libs.end());
  QMAP_ASSIGN_OR_RETURN(CustomOpSet custom_ops, CustomOpSet::load(libs));
  for (const auto& op : custom_ops.ops())
    p.L.info("custom op {} version {} from {}: {}", op->qualified_name(), op->version, op->library, op->summary);
  return custom_ops;
}

struct Imported {
  Graph graph;
  Thresholds qat_thresholds;         // calibration_type load: the model's QDQ thresholds
  std::vector<std::string> removed;  // remove_node_type's deletions, recorded in the .bin
};

// The model and the graph surgery the YAML asks for; load takes the QDQ thresholds out.
Result<Imported> import_stage(Pipeline& p, const CustomOpSet& custom_ops) {
  Stage st{p, "import"};
  Imported im;
  QMAP_ASSIGN_OR_RETURN(im.graph, import_config_model(p.cfg, custom_ops, p.L));
  if (p.cfg.calibration.type == CalibrationType::kLoad) {
    QMAP_ASSIGN_OR_RETURN(im.qat_thresholds, take_thresholds_from_qdq(im.graph));
    p.L.info("calibration_type load: {} thresholds taken from the model's QuantizeLinear/DequantizeLinear nodes",
             im.qat_thresholds.size());
  }
  if (!p.cfg.model.output_nodes.empty()) QMAP_RETURN_IF_ERROR(set_output_nodes(im.graph, p.cfg.model.output_nodes));
  if (!p.cfg.model.remove_node_type.empty()) {
    QMAP_RETURN_IF_ERROR(remove_node_types(im.graph, p.cfg.model.remove_node_type, &im.removed));
    for (const std::string& r : im.removed) p.L.info("remove_node_type: removed '{}'", r);
  }
  return im;
}

Result<TargetSpec> check_placement(const Pipeline& p, const Graph& imported) {
  QMAP_ASSIGN_OR_RETURN(TargetSpec spec, load_target_spec(p.cfg.model.march));
  const GraphPlacement pl = place_graph(imported, spec);
  if (!pl.unsupported_ops.empty())
    return error("makertbin: march {} does not support these operators: {{{}}}", p.cfg.model.march,
                 fmt::join(pl.unsupported_ops, ", "));
  return spec;
}

// The original float model: the imported graph with qmap's metadata and the preprocess node.
Result<Graph> preprocess_stage(Pipeline& p, const Graph& imported) {
  Stage st{p, "preprocess node"};
  Graph original = imported;
  original.metadata[kMetadataVersionKey] = QMAP_VERSION_STRING;
  original.metadata[kMetadataMarchKey] = p.cfg.model.march;
  original.metadata[kMetadataYamlKey] = p.cfg.yaml_text;
  QMAP_RETURN_IF_ERROR(insert_preprocess(original, p.cfg.inputs));
  QMAP_RETURN_IF_ERROR(write_model(original, p.out_path("_original_float_model.onnx"), p.L));
  return original;
}

// The optimized float model: the float passes over the original.
Result<Graph> passes_stage(Pipeline& p, const Graph& original) {
  Stage st{p, "float passes"};
  Graph optimized = original;
  std::vector<std::string> pass_log;
  OptimizeOptions opts;
  opts.equalize_cross_layer = p.cfg.calibration.cross_layer_equalization;
  QMAP_RETURN_IF_ERROR(optimize_graph(optimized, opts, &pass_log));
  for (const std::string& line : pass_log) p.L.debug("{}", line);
  if (opts.equalize_cross_layer) {
    const auto pairs = std::count_if(pass_log.begin(), pass_log.end(),
                                     [](const std::string& l) { return l.rfind("equalize_cross_layer:", 0) == 0; });
    p.L.info("cross-layer equalization: {} convolution pairs balanced", pairs);
  }
  p.L.info("float passes: {} rewrites, {} -> {} nodes", pass_log.size(), original.nodes.size(),
           optimized.nodes.size());
  QMAP_RETURN_IF_ERROR(write_model(optimized, p.out_path("_optimized_float_model.onnx"), p.L));
  return optimized;
}

struct Calibrated {
  Calibration calibration;
  std::optional<CalibDataset> dataset;  // none for skip, and load without cal_data_dir
};

// The data set, calib::calibrate, and the calibration table.
Result<Calibrated> calibration_stage(Pipeline& p, const Graph& optimized, Thresholds qat_thresholds,
                                     const QuantizeOptions& qopts) {
  Stage st{p, "calibration"};
  const CalibrationParameters& cp = p.cfg.calibration;
  Calibrated c;
  // load needs no data: the QAT model holds the thresholds (values it leaves out are then
  // taken from seeded random inputs, with a warning).
  const bool no_data =
      cp.type == CalibrationType::kSkip || (cp.type == CalibrationType::kLoad && cp.cal_data_dirs.empty());
  if (!no_data) {
    QMAP_ASSIGN_OR_RETURN(CalibDataset ds,
                          CalibDataset::open(p.cfg.inputs, cp.cal_data_dirs, cp.cal_data_types, cp.preprocess_on));
    c.dataset = std::move(ds);
    p.L.info("calibration data: {} samples", c.dataset->size());
  }
  CalibrateOptions co;
  co.quantize = qopts;
  co.threads = p.threads;
  co.progress = p.options.progress;
  co.qat_thresholds = std::move(qat_thresholds);
  co.calibration_table = p.options.calibration_table;
  QMAP_ASSIGN_OR_RETURN(c.calibration, calibrate(optimized, c.dataset ? &*c.dataset : nullptr, cp, co, p.L));
  const CalibTable table = make_calib_table(optimized, c.calibration.thresholds, c.calibration.method,
                                            c.dataset ? c.dataset->size() : 0, c.calibration.value_methods);
  QMAP_RETURN_IF_ERROR(write_calib_table(p.out_path("_calibration_table.txt").string(), table));
  p.L.info("wrote {}", p.out_path("_calibration_table.txt").string());
  return c;
}

// The march's estimate of a quantization (report/perf_model.h): the QDQ graph lowered as the
// .bin is, its steps placed, priced by the march's cost model.
Result<PerfReport> estimated_perf(const Graph& to_quantize, const Thresholds& thresholds, const QuantizeOptions& qopts,
                                  const TargetSpec& spec) {
  QMAP_ASSIGN_OR_RETURN(const QuantizedModel q, quantize_graph(to_quantize, thresholds, qopts));
  QMAP_ASSIGN_OR_RETURN(const IntProgram program, lower_qdq_graph(q.graph));
  return estimate_perf(program, step_placement(program), spec.cost, 0);
}

// What the quantizer reads: the graph (after adaptive rounding, bias correction and the
// accuracy budget) and the options (run_on_cpu with the budget's nodes).
struct ToQuantize {
  Graph graph;
  QuantizeOptions qopts;
  std::vector<std::string> budget_cpu;  // the nodes the accuracy budget kept in float
};

// The thresholds of int16 outputs (node_info's OutputType: int16, the accuracy budget's):
// each value's max |v| over the calibration data, as calibration measured it; thresholds from
// a calibration table come without ranges, and one range pass gives them.
Status set_int16_thresholds(Pipeline& p, const Graph& optimized, const Calibrated& c, QuantizeOptions& qopts) {
  const bool budget_int16 = p.cfg.calibration.accuracy_budget && p.cfg.calibration.accuracy_budget_int16;
  if (qopts.int16_outputs.empty() && !budget_int16) return ok_status();
  qopts.int16_thresholds = c.calibration.abs_max;
  if (!qopts.int16_thresholds.empty() || !c.dataset) return ok_status();
  CollectOptions co{.threads = p.threads, .progress = p.options.progress, .observe = {}, .histograms = false};
  QMAP_ASSIGN_OR_RETURN(
      const Statistics ranges,
      collect_statistics(optimized, c.dataset->size(), [&](size_t i) { return c.dataset->load_runtime(i); }, co));
  for (const auto& [name, vs] : ranges.values)
    if (vs.abs_max > 0 && std::isfinite(vs.abs_max)) qopts.int16_thresholds[name] = vs.abs_max;
  p.L.info("int16 outputs: thresholds are max |v| over the {} calibration samples (the calibration table has "
           "thresholds only)",
           c.dataset->size());
  return ok_status();
}

// node_info's OutputType: int16 names, checked on the optimized model before calibration: an
// unknown node, or a unit whose readers take 8-bit inputs only, fails here with the key.
Status check_int16_outputs(const Graph& optimized, const QuantizeOptions& qopts) {
  if (qopts.int16_outputs.empty()) return ok_status();
  Thresholds probe;
  for (const std::string& v : calibrated_values(optimized)) probe[v] = 1.f;
  auto q = quantize_graph(optimized, probe, qopts);
  if (!q.ok()) return q.status().with_context("makertbin: model_parameters.node_info OutputType int16: ");
  return ok_status();
}

// calibration_parameters.accuracy_budget (calib/mixed_precision.h): the fewest most sensitive
// nodes kept in float on the CPU (with their float constants) until the output cosine on the
// method search's samples reaches the budget.
Result<ToQuantize> accuracy_budget_stage(Pipeline& p, const Graph& optimized, ToQuantize in, const Calibrated& c,
                                         const TargetSpec& spec) {
  const std::optional<double> budget = p.cfg.calibration.accuracy_budget;
  if (!budget) return in;
  Stage st{p, "accuracy budget"};
  const Calibration& cal = c.calibration;
  QMAP_ASSIGN_OR_RETURN(const OutputScorer scorer, OutputScorer::create(optimized, cal.samples, {.threads = p.threads}));
  const BudgetPrecision precision = p.cfg.calibration.accuracy_budget_int16 ? BudgetPrecision::kInt16
                                                                           : BudgetPrecision::kFloat;
  // The units' sensitivities run in parallel, one thread each, with the float engine's GEMM
  // for their mostly-float graphs (as qmap debug's).
  const OutputScorer unit_scorer = scorer.with_options({.threads = 1, .float_sgemm_blas = true});
  auto fit_or = fit_accuracy_budget(optimized, in.graph, cal.thresholds, in.qopts, *budget, scorer, unit_scorer,
                                    {.threads = p.threads, .progress = p.options.progress}, precision);
  if (!fit_or.ok()) return fit_or.status().with_context("makertbin: accuracy budget: ");
  BudgetFit& fit = *fit_or;
  const size_t n = cal.samples.size();
  if (fit.moved.empty() && fit.widened.empty() && fit.met) {
    p.L.info("accuracy budget {}: output cosine {:.6f} on {} calibration samples: reached, no node moved", *budget,
             fit.before.cosine, n);
    return in;
  }
  if (!fit.met)
    return error(
        "makertbin: calibration_parameters.accuracy_budget {}: not reached even with all {} movable NPU nodes in "
        "float (output cosine {:.6f} on {} calibration samples, {:.6f} as quantized): lower the budget",
        *budget, fit.moved.size(), fit.after.cosine, n, fit.before.cosine);
  std::vector<std::string> names, wide_names;
  ToQuantize out{std::move(fit.graph), fit.options, {}};
  for (const QuantUnit& u : fit.moved) {
    names.push_back(fmt::format("{} ({})", u.name, u.op_type));
    out.budget_cpu.insert(out.budget_cpu.end(), u.members.begin(), u.members.end());
  }
  for (const QuantUnit& u : fit.widened) wide_names.push_back(fmt::format("{} ({})", u.name, u.op_type));
  if (fit.int16_fell_short)
    p.L.info("accuracy budget {}: int16 outputs for every node that can have one fall short; moving nodes to "
             "float instead",
             *budget);
  p.L.info("accuracy budget {}: output cosine {:.6f} on {} calibration samples as quantized; of {} NPU units (a "
           "fused group is one), {} given int16 outputs: {}; {} kept in float on the CPU: {} (each list most "
           "sensitive first); output cosine {:.6f} ({} quantize and score runs)",
           *budget, fit.before.cosine, n, fit.units, fit.widened.size(),
           wide_names.empty() ? std::string("none") : fmt::format("{}", fmt::join(wide_names, ", ")), fit.moved.size(),
           names.empty() ? std::string("none") : fmt::format("{}", fmt::join(names, ", ")), fit.after.cosine,
           fit.evaluations);
  QMAP_ASSIGN_OR_RETURN(const PerfReport before, estimated_perf(in.graph, cal.thresholds, in.qopts, spec));
  QMAP_ASSIGN_OR_RETURN(const PerfReport after, estimated_perf(out.graph, cal.thresholds, out.qopts, spec));
  p.L.info("accuracy budget: estimated latency on march {}: {:.3f} ms -> {:.3f} ms ({:+.1f}%), NPU/CPU switches {} -> "
           "{} (qmap perf's cost model)",
           p.cfg.model.march, before.est_total_us / 1e3, after.est_total_us / 1e3,
           before.est_total_us > 0 ? 100.0 * (after.est_total_us / before.est_total_us - 1.0) : 0.0, before.switches,
           after.switches);
  return out;
}

// Bias correction: the float graph the quantizer reads gets corrected biases; the optimized
// float model (written before, and the reference of the node table) keeps its own.
Result<Graph> bias_correction_stage(Pipeline& p, const Graph& optimized, Graph base, Calibrated& c,
                                    const QuantizeOptions& qopts) {
  const AutoMode mode = p.cfg.calibration.bias_correction;
  if (mode == AutoMode::kOff) {
    p.L.info("bias correction: off (calibration_parameters.bias_correction: False)");
    return base;
  }
  if (!c.dataset || p.cfg.calibration.type == CalibrationType::kLoad) return base;
  Stage st{p, "bias correction"};
  QMAP_ASSIGN_OR_RETURN(std::optional<Graph> corrected,
                        bias_corrected_graph(optimized, base, c.calibration.thresholds, qopts, *c.dataset, mode,
                                             p.threads, p.L));
  if (corrected) return std::move(*corrected);
  return base;
}

// optimization: adaround (quant/adaround.h): the NPU layers' weights rounded on their int8 grids
// to the rounding that moves each layer's output least on kAdaRoundSamples spread samples.
Result<Graph> adaround_stage(Pipeline& p, const Graph& optimized, Calibrated& c, const QuantizeOptions& qopts) {
  if (!p.cfg.calibration.adaround || !c.dataset) return optimized;
  Stage st{p, "adaround"};
  std::vector<std::vector<Tensor>> samples;
  for (size_t i : spread_indices(c.dataset->size(), kAdaRoundSamples)) {
    QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> sample, c.dataset->load_runtime(i));
    samples.push_back(std::move(sample));
  }
  QMAP_ASSIGN_OR_RETURN(AdaRoundResult r, adaround_weights(optimized, qopts, samples, {.threads = p.threads}));
  double nearest = 0, rounded = 0;
  int64_t flipped = 0, weights = 0;
  for (const AdaRoundLayer& l : r.layers) {
    nearest += l.error_nearest;
    rounded += l.error_adaround;
    flipped += l.flipped;
    weights += l.weights;
    p.L.debug("adaround: {}: output error {:.4g} -> {:.4g} ({} of {} weights rounded the other way, {} positions)",
              l.node, l.error_nearest, l.error_adaround, l.flipped, l.weights, l.positions);
  }
  for (const auto& [node, why] : r.skipped) p.L.info("adaround: {} left at round-to-nearest: {}", node, why);
  p.L.info("adaround: {} layers on {} samples; their summed output error {:.4g} -> {:.4g} ({:.1f}% lower); {:.1f}% of "
           "their weights rounded the other way",
           r.layers.size(), samples.size(), nearest, rounded, nearest > 0 ? 100.0 * (1.0 - rounded / nearest) : 0.0,
           weights > 0 ? 100.0 * static_cast<double>(flipped) / static_cast<double>(weights) : 0.0);
  return std::move(r.graph);
}

// The QDQ model: <prefix>_quantized_model.onnx.
Result<QuantizedModel> quantization_stage(Pipeline& p, const Graph& to_quantize, const Graph& original,
                                          const Calibration& cal, const QuantizeOptions& qopts,
                                          const std::vector<std::string>& budget_cpu) {
  Stage st{p, "quantization"};
  QMAP_ASSIGN_OR_RETURN(QuantizedModel quantized, quantize_graph(to_quantize, cal.thresholds, qopts));
  quantized.graph.metadata = original.metadata;
  quantized.graph.metadata["qmap_calibration_method"] = cal.method;
  if (!budget_cpu.empty()) quantized.graph.metadata[kMetadataBudgetCpuKey] = fmt::format("{}", fmt::join(budget_cpu, ";"));
  std::vector<std::string> int16;  // "node|value|threshold", the threshold exact in float32
  for (const QuantNodeInfo& r : quantized.nodes)
    if (qopts.int16_outputs.count(r.name)) int16.push_back(fmt::format("{}|{}|{:.9g}", r.name, r.value, r.threshold));
  if (!int16.empty()) quantized.graph.metadata[kMetadataBudgetInt16Key] = fmt::format("{}", fmt::join(int16, ";"));
  QMAP_RETURN_IF_ERROR(write_model(quantized.graph, p.out_path("_quantized_model.onnx"), p.L));
  return quantized;
}

// The deployable program: lowered and written as <prefix>.bin (format/model_bin.h).
Status bin_stage(Pipeline& p, const QuantizedModel& quantized, const std::vector<std::string>& removed) {
  Stage st{p, "bin"};
  QMAP_ASSIGN_OR_RETURN(const BinStats stats, write_model_bin(quantized.graph, makertbin_bin_metadata(p.cfg, removed),
                                                               p.out_path(".bin").string(), p.cfg.compiler.prepack));
  std::vector<std::string> packed;
  for (const auto& [isa, bytes] : stats.packed_bytes) packed.push_back(fmt::format("{} {:.1f} MB", isa, bytes / 1e6));
  p.L.info("wrote {} (packed convolution weights: {})", p.out_path(".bin").string(),
           packed.empty() ? std::string("none") : fmt::format("{}", fmt::join(packed, ", ")));
  return ok_status();
}

// The node table: float vs integer simulation on the first search sample.
Status node_table_stage(Pipeline& p, const Graph& optimized, const QuantizedModel& quantized,
                        const std::vector<Tensor>& sample) {
  Stage st{p, "node comparison"};
  return print_node_tables(optimized, quantized, sample, p.L);
}

}  // namespace

QuantizeOptions makertbin_quantize_options(const MakertbinConfig& cfg, const TargetSpec& spec) {
  QuantizeOptions qopts;
  qopts.per_channel = cfg.calibration.per_channel;
  qopts.run_on_cpu = {cfg.calibration.run_on_cpu.begin(), cfg.calibration.run_on_cpu.end()};
  qopts.run_on_npu = {cfg.calibration.run_on_npu.begin(), cfg.calibration.run_on_npu.end()};
  qopts.int16_outputs = {cfg.calibration.int16_outputs.begin(), cfg.calibration.int16_outputs.end()};
  qopts.target = &spec;
  // The method search, range search, bias correction's check, the accuracy budget and qmap
  // debug's per-node runs quantize the same weights again and again.
  qopts.weight_cache = std::make_shared<WeightQuantCache>();
  return qopts;
}

Result<Graph> import_config_model(MakertbinConfig& cfg, const CustomOpSet& custom_ops, Logger& L) {
  std::map<std::string, Dims> shapes;
  for (const InputSpec& in : cfg.inputs)
    // Without input_name the shape cannot go to the importer; complete_input_specs checks it
    // against the model afterwards.
    if (!in.shape.empty() && !in.name.empty()) shapes[in.name] = in.shape;
  const ModelFiles files = cfg.model_type == ModelType::kCaffe
                               ? ModelFiles{.model = cfg.model.caffe_model, .proto = cfg.model.prototxt}
                               : ModelFiles{.model = cfg.model.onnx_model};
  QMAP_ASSIGN_OR_RETURN(Graph g, import_model(cfg.model_type, files,
                                              {.input_shapes = shapes, .log = &L, .custom_ops = &custom_ops}));
  QMAP_RETURN_IF_ERROR(complete_input_specs(g, cfg.inputs));
  return g;
}

Status run_makertbin(const MakertbinOptions& options, Logger& L) {
  const auto t_start = Clock::now();
  fs::path work;
  QMAP_ASSIGN_OR_RETURN(MakertbinConfig cfg, start(options, work, L));
  Pipeline p{options, L, std::move(cfg), std::move(work)};
  p.threads = options.jobs > 0 ? options.jobs : p.cfg.compiler.jobs > 0 ? p.cfg.compiler.jobs : default_thread_count();
  L.info("worker threads: {}", p.threads);
  QMAP_ASSIGN_OR_RETURN(const CustomOpSet custom_ops, load_custom_ops(p));

  // import -> float passes -> calibrate -> adaround -> bias correction -> accuracy budget ->
  // quantize -> lower and write the .bin -> node table
  QMAP_ASSIGN_OR_RETURN(Imported imported, import_stage(p, custom_ops));
  QMAP_ASSIGN_OR_RETURN(const TargetSpec spec, check_placement(p, imported.graph));
  QMAP_ASSIGN_OR_RETURN(const Graph original, preprocess_stage(p, imported.graph));
  QMAP_ASSIGN_OR_RETURN(const Graph optimized, passes_stage(p, original));
  QuantizeOptions qopts = makertbin_quantize_options(p.cfg, spec);
  QMAP_RETURN_IF_ERROR(check_int16_outputs(optimized, qopts));
  QMAP_ASSIGN_OR_RETURN(Calibrated calibrated,
                        calibration_stage(p, optimized, std::move(imported.qat_thresholds), qopts));
  QMAP_RETURN_IF_ERROR(set_int16_thresholds(p, optimized, calibrated, qopts));
  QMAP_ASSIGN_OR_RETURN(Graph rounded, adaround_stage(p, optimized, calibrated, qopts));
  QMAP_ASSIGN_OR_RETURN(Graph corrected, bias_correction_stage(p, optimized, std::move(rounded), calibrated, qopts));
  QMAP_ASSIGN_OR_RETURN(const ToQuantize to_quantize,
                        accuracy_budget_stage(p, optimized, {std::move(corrected), qopts, {}}, calibrated, spec));
  const Calibration& cal = calibrated.calibration;
  QMAP_ASSIGN_OR_RETURN(const QuantizedModel quantized,
                        quantization_stage(p, to_quantize.graph, original, cal, to_quantize.qopts,
                                           to_quantize.budget_cpu));
  QMAP_RETURN_IF_ERROR(bin_stage(p, quantized, imported.removed));
  QMAP_RETURN_IF_ERROR(node_table_stage(p, optimized, quantized, cal.samples.front()));

  L.info("calibration method: {}", cal.method);
  std::string per_stage;
  for (const auto& [name, sec] : p.times) per_stage += fmt::format("{}{} {:.2f} s", per_stage.empty() ? "" : ", ", name, sec);
  L.info("stage times: {}", per_stage);
  L.info("End qmap makertbin: conversion took {:.2f} s", seconds_since(t_start));
  return ok_status();
}

}  // namespace qmap
