#include "makertbin/makertbin.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "calib/calib_table.h"
#include "calib/dataset.h"
#include "calib/methods.h"
#include "calib/statistics.h"
#include "calib/qdq_thresholds.h"
#include "config/makertbin_config.h"
#include "core/thread_pool.h"
#include "format/model_bin.h"
#include "core/file_io.h"
#include "core/thread_pool.h"
#include "format/model_bin.h"
#include "engine/float_engine.h"
#include "import/import_model.h"
#include "import/onnx/onnx_export.h"
#include "ir/infer.h"
#include "ir/verify.h"
#include "ops/custom/custom_op.h"
#include "passes/model_boundary.h"
#include "passes/passes.h"
#include "passes/preprocess.h"
#include "quant/bias_correction.h"
#include "runtime/model_impl.h"
#include "quant/int_simulator.h"
#include "quant/quantize.h"
#include "report/compare.h"
#include "report/node_compare.h"
#include "report/text_table.h"
#include "target/placement.h"
#include "target/target_spec.h"

namespace qmap {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Candidates the `default` method compares: hb_mapper's default tries max, one percentile
// (0.99995) and kl and keeps the best. qmap tries a ladder of percentiles and mse as well:
// on MobileNetV2 percentile 0.9999 loses 0.67 top-1 points where 0.99995 loses 2.0
// (docs/accuracy.md), and the output cosine on a few samples tells them apart.
constexpr double kDefaultPercentiles[] = {0.99999, 0.99995, 0.9999, 0.9995};
// Samples the method search simulates, spread over the calibration set. The output cosine is
// averaged over them; each costs one integer simulation per candidate (about 3 ms for
// MobileNetV2 on the fast kernels). 16 spread samples gave the same choice as 8 and 32 on
// every model of the accuracy suite; 4 were too few on the ResNet-8.
constexpr size_t kSearchSamples = 16;
// Samples bias correction measures mean shifts on (spread over the calibration set):
// enough that the per-channel means settle (their spread over sample subsets is a few percent
// of the shift they correct on MobileNetV2), few enough to keep it a few seconds.
constexpr size_t kBiasCorrectionSamples = 32;
// Calibration samples, disjoint from those and spread between them, that decide whether bias
// correction is kept (auto).
constexpr size_t kBiasCorrectionHeldOut = 16;

struct Stage {
  Logger& log;
  std::string name;
  Clock::time_point start = Clock::now();
  std::vector<std::pair<std::string, double>>* times;
  ~Stage() {
    const double s = seconds_since(start);
    times->emplace_back(name, s);
    log.info("{} done in {:.2f} s", name, s);
  }
};

Status write_model(const Graph& g, const fs::path& path, Logger& L) {
  QMAP_RETURN_IF_ERROR(export_onnx(g, path.string()));
  L.info("wrote {}", path.string());
  return ok_status();
}

// One FloatEngine and one IntSimulator per worker thread, run over the same samples: the
// mean output cosine of a quantized candidate against float.
class CandidateScorer {
 public:
  CandidateScorer(const Graph& float_graph, std::vector<std::vector<Tensor>> samples, int threads)
      : float_graph_(float_graph), samples_(std::move(samples)), threads_(threads) {}

  Status compute_reference() {
    QMAP_ASSIGN_OR_RETURN(FloatEngine engine, FloatEngine::create(float_graph_));
    for (const auto& s : samples_) {
      QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> out, engine.run(s));
      reference_.push_back(std::move(out));
    }
    return ok_status();
  }

  // Mean over samples of the mean over outputs of cosine(float, quantized). Samples run in
  // parallel, one simulator copy per worker; the sum is taken in sample order.
  // The candidates run on the runtime's integer kernels (QMAP_ISA, else the best this CPU
  // has): bit-exact with the reference, so the scores are the same, in a fraction of the time.
  Result<double> score(const Graph& qdq) {
    QMAP_ASSIGN_OR_RETURN(const kernels::Isa isa, rt::select_isa(""));
    QMAP_ASSIGN_OR_RETURN(IntSimulator sim, IntSimulator::create(qdq, false, isa));
    ThreadPool pool(std::min<int>(threads_, static_cast<int>(samples_.size())));
    std::vector<std::optional<IntSimulator>> sims(static_cast<size_t>(pool.size()));
    std::vector<double> per_sample(samples_.size(), 0);
    std::vector<Status> errors(samples_.size());
    pool.parallel_for(samples_.size(), [&](size_t i, int w) {
      auto& local = sims[static_cast<size_t>(w)];
      if (!local) local.emplace(sim);
      auto out = local->run(samples_[i]);
      if (!out) {
        errors[i] = out.status();
        return;
      }
      double c = 0;
      for (size_t k = 0; k < out->size(); ++k) c += compare_tensors(reference_[i][k], as_float((*out)[k])).cosine;
      per_sample[i] = c / static_cast<double>(std::max<size_t>(out->size(), 1));
    });
    double total = 0;
    for (size_t i = 0; i < samples_.size(); ++i) {
      QMAP_RETURN_IF_ERROR(errors[i]);
      total += per_sample[i];
    }
    return total / static_cast<double>(std::max<size_t>(samples_.size(), 1));
  }

  // For each model: cosine of every original value (via value_map) against float, on the
  // first sample.
  Result<std::vector<std::map<std::string, double>>> value_cosines(const std::vector<QuantizedModel>& models) {
    QMAP_ASSIGN_OR_RETURN(FloatEngine engine, FloatEngine::create(float_graph_, {.keep_all_values = true}));
    QMAP_RETURN_IF_ERROR(engine.run(samples_.front()).status());
    std::vector<std::map<std::string, double>> out;
    for (const QuantizedModel& m : models) {
      QMAP_ASSIGN_OR_RETURN(IntSimulator sim, IntSimulator::create(m.graph, true));
      QMAP_RETURN_IF_ERROR(sim.run(samples_.front()).status());
      std::map<std::string, double> cos;
      for (const auto& entry : m.value_map)
        if (auto c = value_cosine(engine.all_values(), sim.all_values(), m.value_map, entry.first)) cos[entry.first] = *c;
      out.push_back(std::move(cos));
    }
    return out;
  }

 private:
  const Graph& float_graph_;
  std::vector<std::vector<Tensor>> samples_;
  int threads_;
  std::vector<std::vector<Tensor>> reference_;
};

// Seeded inputs for calibration_type skip: uint8 image inputs uniform in 0..255, float
// inputs uniform in [-1, 1). A fixed xorshift so runs are reproducible.
Result<std::vector<Tensor>> random_inputs(const Graph& g, uint32_t seed) {
  std::vector<Tensor> out;
  uint32_t s = seed ? seed : 1;
  auto next = [&s] {
    s ^= s << 13;
    s ^= s >> 17;
    s ^= s << 5;
    return (s >> 8) / 16777216.0;
  };
  for (ValueId id : g.inputs) {
    const Value& v = g.value(id);
    if (!v.dims) return error("makertbin: input '{}' has no static shape", v.name);
    Tensor t(v.dtype, *v.dims);
    if (v.dtype == DType::kUInt8) {
      for (auto& x : t.data<uint8_t>()) x = static_cast<uint8_t>(next() * 256.0);
    } else if (v.dtype == DType::kFloat32) {
      for (auto& x : t.data<float>()) x = static_cast<float>(2.0 * next() - 1.0);
    } else {
      return error("makertbin: input '{}' is {}: calibration_type skip feeds uint8 or float32 inputs only",
                   v.name, dtype_name(v.dtype));
    }
    out.push_back(std::move(t));
  }
  return out;
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

// The values the quantizer will store as uint8 (proven non-negative by the graph), so the
// calibration methods use 255 levels exactly where the quantized model has them.
Result<std::set<std::string>> quantizer_unsigned_values(const Graph& g, const Statistics& stats,
                                                        const QuantizeOptions& qopts) {
  Thresholds probe;
  for (const auto& [name, vs] : stats.values) probe[name] = vs.abs_max > 0 ? vs.abs_max : 1.0f;
  QMAP_ASSIGN_OR_RETURN(QuantizedModel q, quantize_graph(g, probe, qopts));
  std::set<std::string> out;
  for (const QuantNodeInfo& n : q.nodes) {
    if (!n.output_unsigned) continue;
    for (const Node& node : g.nodes)
      if (node.name == n.name)
        for (ValueId v : node.outputs) out.insert(g.value(v).name);
  }
  return out;
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
// the corrected graph, or nullopt when it is not kept.
Result<std::optional<Graph>> bias_corrected_graph(const Graph& optimized, const Thresholds& thresholds,
                                                  const QuantizeOptions& qopts, CalibDataset& dataset,
                                                  BiasCorrectionMode mode, int threads, Logger& L) {
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
  QMAP_ASSIGN_OR_RETURN(BiasCorrectionResult bc, correct_biases(optimized, thresholds, qopts, samples, {.threads = threads}));
  L.info("bias correction: {} layers on {} samples; mean output-mean shift corrected per layer: {:.4f} output std",
         bc.layers, samples.size(), bc.mean_relative_shift);
  for (const auto& [name, shift] : bc.layer_shift) L.debug("bias correction: {}: {:.5f} output std", name, shift);
  if (bc.layers == 0) return std::optional<Graph>();
  if (mode == BiasCorrectionMode::kOn) {
    L.info("bias correction: kept (calibration_parameters.bias_correction: True)");
    return std::optional<Graph>(std::move(bc.graph));
  }
  const bool own = held_out.empty();
  CandidateScorer scorer(optimized, own ? samples : held_out, threads);
  QMAP_RETURN_IF_ERROR(scorer.compute_reference());
  QMAP_ASSIGN_OR_RETURN(QuantizedModel plain, quantize_graph(optimized, thresholds, qopts));
  QMAP_ASSIGN_OR_RETURN(QuantizedModel corrected, quantize_graph(bc.graph, thresholds, qopts));
  QMAP_ASSIGN_OR_RETURN(const double before, scorer.score(plain.graph));
  QMAP_ASSIGN_OR_RETURN(const double after, scorer.score(corrected.graph));
  const bool keep = after > before;
  L.info("bias correction: {} (output cosine on {} {} samples: {:.6f} without, {:.6f} with)",
         keep ? "kept" : "not kept", own ? samples.size() : held_out.size(),
         own ? "of its own (no held-out calibration sample left)" : "held-out", before, after);
  if (!keep) return std::optional<Graph>();
  return std::optional<Graph>(std::move(bc.graph));
}
}  // namespace

std::vector<size_t> spread_indices(size_t n, size_t k) {
  k = std::min(k, n);
  std::vector<size_t> idx(k);
  for (size_t j = 0; j < k; ++j) idx[j] = j * n / k;
  return idx;
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
  std::vector<std::pair<std::string, double>> times;

  const std::optional<ModelType> model_type = parse_model_type(options.model_type);
  if (!model_type) return error("makertbin: --model-type '{}': expected onnx or caffe", options.model_type);
  QMAP_ASSIGN_OR_RETURN(MakertbinConfig cfg, load_makertbin_config(options.config_path, *model_type));

  const fs::path work = cfg.model.working_dir;
  std::error_code ec;
  fs::create_directories(work, ec);
  if (ec) return error("makertbin: model_parameters.working_dir '{}': cannot create: {}", work.string(), ec.message());
  QMAP_RETURN_IF_ERROR(L.add_file((work / "makertbin.log").string()));
  const std::string prefix = cfg.model.output_model_file_prefix;
  auto out_path = [&](const std::string& suffix) { return work / (prefix + suffix); };

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
  const int threads = options.jobs > 0           ? options.jobs
                      : cfg.compiler.jobs > 0    ? cfg.compiler.jobs
                                                 : default_thread_count();
  L.info("worker threads: {}", threads);
  const CalibrationType ctype = cfg.calibration.type;
  // Custom-op plugins (the YAML's custom_op section, then --custom-op-lib): their ops run in
  // float on the CPU in every stage; the .bin records which ops it needs, not their code.
  std::vector<std::string> libs = cfg.custom_op_libs;
  libs.insert(libs.end(), options.custom_op_libs.begin(), options.custom_op_libs.end());
  QMAP_ASSIGN_OR_RETURN(const CustomOpSet custom_ops, CustomOpSet::load(libs));
  for (const auto& op : custom_ops.ops())
    L.info("custom op {} version {} from {}: {}", op->qualified_name(), op->version, op->library, op->summary);

  // ---- import and the graph surgery the YAML asks for ----
  Graph imported;
  Thresholds qat_thresholds;
  std::vector<std::string> removed;  // remove_node_type's deletions, recorded in the .bin
  {
    Stage st{L, "import", Clock::now(), &times};
    QMAP_ASSIGN_OR_RETURN(imported, import_config_model(cfg, custom_ops, L));
    if (ctype == CalibrationType::kLoad) {
      QMAP_ASSIGN_OR_RETURN(qat_thresholds, take_thresholds_from_qdq(imported));
      L.info("calibration_type load: {} thresholds taken from the model's QuantizeLinear/DequantizeLinear nodes",
             qat_thresholds.size());
    }
    if (!cfg.model.output_nodes.empty()) QMAP_RETURN_IF_ERROR(set_output_nodes(imported, cfg.model.output_nodes));
    if (!cfg.model.remove_node_type.empty()) {
      QMAP_RETURN_IF_ERROR(remove_node_types(imported, cfg.model.remove_node_type, &removed));
      for (const std::string& r : removed) L.info("remove_node_type: removed '{}'", r);
    }
  }
  QMAP_ASSIGN_OR_RETURN(TargetSpec spec, load_target_spec(cfg.model.march));
  {
    const GraphPlacement pl = place_graph(imported, spec);
    if (!pl.unsupported_ops.empty())
      return error("makertbin: march {} does not support these operators: {{{}}}", cfg.model.march,
                   fmt::join(pl.unsupported_ops, ", "));
  }

  // ---- the float models ----
  Graph original = imported;
  original.metadata[kMetadataVersionKey] = QMAP_VERSION_STRING;
  original.metadata[kMetadataMarchKey] = cfg.model.march;
  original.metadata[kMetadataYamlKey] = cfg.yaml_text;
  {
    Stage st{L, "preprocess node", Clock::now(), &times};
    QMAP_RETURN_IF_ERROR(insert_preprocess(original, cfg.inputs));
    QMAP_RETURN_IF_ERROR(write_model(original, out_path("_original_float_model.onnx"), L));
  }
  Graph optimized = original;
  {
    Stage st{L, "float passes", Clock::now(), &times};
    std::vector<std::string> pass_log;
    QMAP_RETURN_IF_ERROR(optimize_graph(optimized, OptimizeOptions{}, &pass_log));
    for (const std::string& line : pass_log) L.debug("{}", line);
    L.info("float passes: {} rewrites, {} -> {} nodes", pass_log.size(), original.nodes.size(),
           optimized.nodes.size());
    QMAP_RETURN_IF_ERROR(write_model(optimized, out_path("_optimized_float_model.onnx"), L));
  }

  // ---- calibration ----
  QuantizeOptions qopts;
  qopts.per_channel = cfg.calibration.per_channel;
  qopts.run_on_cpu = {cfg.calibration.run_on_cpu.begin(), cfg.calibration.run_on_cpu.end()};
  qopts.run_on_npu = {cfg.calibration.run_on_npu.begin(), cfg.calibration.run_on_npu.end()};
  qopts.target = &spec;

  Thresholds thresholds;
  std::string method = calibration_type_name(ctype);
  std::optional<CalibDataset> dataset;
  std::vector<std::vector<Tensor>> search_samples;
  {
    Stage st{L, "calibration", Clock::now(), &times};
    // load needs no data: the QAT model holds the thresholds (values it leaves out are then
    // taken from seeded random inputs, with a warning).
    const bool no_data = ctype == CalibrationType::kSkip ||
                         (ctype == CalibrationType::kLoad && cfg.calibration.cal_data_dirs.empty());
    if (!no_data) {
      QMAP_ASSIGN_OR_RETURN(CalibDataset ds, CalibDataset::open(cfg.inputs, cfg.calibration.cal_data_dirs,
                                                                cfg.calibration.cal_data_types,
                                                                cfg.calibration.preprocess_on));
      dataset = std::move(ds);
      L.info("calibration data: {} samples", dataset->size());
      for (size_t i : spread_indices(dataset->size(), kSearchSamples)) {
        QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> sample, dataset->load_runtime(i));
        search_samples.push_back(std::move(sample));
      }
    } else {
      if (ctype == CalibrationType::kSkip)
        L.warn("calibration_type skip: thresholds from seeded random inputs; the quantized model's accuracy "
               "is meaningless (use it for performance work only)");
      QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> sample, random_inputs(optimized, 20251125));
      search_samples.push_back(std::move(sample));
    }

    if (!options.calibration_table.empty()) {
      QMAP_ASSIGN_OR_RETURN(CalibTable table, read_calib_table(options.calibration_table));
      thresholds = table.thresholds();
      QMAP_RETURN_IF_ERROR(check_thresholds_cover(optimized, thresholds, options.calibration_table));
      method = table.method.empty() ? "table" : table.method;
      L.info("thresholds read from {} ({} values)", options.calibration_table, thresholds.size());
    } else {
      // Statistics over the calibration data, or (skip, load without data) over the seeded
      // random samples.
      const size_t num_samples = dataset ? dataset->size() : search_samples.size();
      const auto loader = [&](size_t i) -> Result<std::vector<Tensor>> {
        if (dataset) return dataset->load_runtime(i);
        return search_samples[i];
      };
      CollectOptions copts;
      copts.threads = threads;
      copts.progress = options.progress;
      QMAP_ASSIGN_OR_RETURN(Statistics stats, collect_statistics(optimized, num_samples, loader, copts));
      QMAP_ASSIGN_OR_RETURN(const std::set<std::string> unsigned_values, quantizer_unsigned_values(optimized, stats, qopts));
      auto thresholds_of = [&](CalibMethod m, double percentile) {
        MethodOptions mo;
        mo.method = m;
        mo.max_percentile = percentile;
        mo.threads = threads;
        mo.is_unsigned = [&unsigned_values](const std::string& v) { return unsigned_values.count(v) != 0; };
        return compute_thresholds(stats, mo);
      };
      if (ctype == CalibrationType::kSkip) {
        QMAP_ASSIGN_OR_RETURN(thresholds, thresholds_of(CalibMethod::kMax, 1.0));
      } else if (ctype == CalibrationType::kLoad) {
        // Values the QAT model did not quantize (and values the float passes renamed) still
        // need a threshold: those are calibrated with max.
        QMAP_ASSIGN_OR_RETURN(thresholds, thresholds_of(CalibMethod::kMax, 1.0));
        size_t taken = 0;
        for (const auto& [name, t] : qat_thresholds) {
          auto it = thresholds.find(name);
          if (it == thresholds.end()) continue;
          it->second = t;
          ++taken;
        }
        L.info("calibration_type load: {} of {} values use the model's thresholds, the others max", taken,
               thresholds.size());
        if (!dataset && taken < thresholds.size())
          L.warn("calibration_type load without cal_data_dir: {} of {} values have no threshold in the model and "
                 "take max |x| over seeded random inputs; give cal_data_dir to calibrate them on real data",
                 thresholds.size() - taken, thresholds.size());
      } else if (ctype == CalibrationType::kDefault || ctype == CalibrationType::kMix) {
        // The percentile ladder, or the user's max_percentile alone.
        std::vector<double> percentiles(std::begin(kDefaultPercentiles), std::end(kDefaultPercentiles));
        if (cfg.calibration.max_percentile) percentiles = {*cfg.calibration.max_percentile};
        struct Candidate {
          std::string name;
          Thresholds t;
          double score = 0;
        };
        std::vector<Candidate> cands;
        auto add = [&](std::string name, CalibMethod m, double p) -> Status {
          QMAP_ASSIGN_OR_RETURN(Thresholds t, thresholds_of(m, p));
          cands.push_back({std::move(name), std::move(t), 0});
          return ok_status();
        };
        QMAP_RETURN_IF_ERROR(add("max", CalibMethod::kMax, 1.0));
        for (double p : percentiles)
          QMAP_RETURN_IF_ERROR(add(fmt::format("max-percentile:{:.6g}", p), CalibMethod::kPercentile, p));
        QMAP_RETURN_IF_ERROR(add("kl", CalibMethod::kKl, 1.0));
        QMAP_RETURN_IF_ERROR(add("mse", CalibMethod::kMse, 1.0));
        CandidateScorer scorer(optimized, search_samples, threads);
        QMAP_RETURN_IF_ERROR(scorer.compute_reference());
        size_t best = 0;
        std::vector<QuantizedModel> models;
        for (size_t c = 0; c < cands.size(); ++c) {
          QMAP_ASSIGN_OR_RETURN(QuantizedModel q, quantize_graph(optimized, cands[c].t, qopts));
          QMAP_ASSIGN_OR_RETURN(cands[c].score, scorer.score(q.graph));
          L.info("calibration method {}: output cosine {:.6f}", cands[c].name, cands[c].score);
          if (cands[c].score > cands[best].score) best = c;
          models.push_back(std::move(q));
        }
        if (ctype == CalibrationType::kDefault) {
          thresholds = cands[best].t;
          L.info("Select {} method", cands[best].name);
          method = cands[best].name;  // the table and the model say which method made the thresholds
        } else {
          // mix: per value, the candidate whose integer simulation of that value (each candidate
          // quantized as a whole) is closest to float on the first sample; ties keep the
          // globally best candidate. The mixed set is then scored like the others.
          using PerValue = std::vector<std::map<std::string, double>>;
          QMAP_ASSIGN_OR_RETURN(PerValue per_value, scorer.value_cosines(models));
          thresholds = cands[best].t;
          std::map<std::string, int> picks;
          for (auto& [name, t] : thresholds) {
            size_t pick = best;
            for (size_t c = 0; c < cands.size(); ++c) {
              auto it = per_value[c].find(name);
              auto bt = per_value[pick].find(name);
              if (it != per_value[c].end() && bt != per_value[pick].end() && it->second > bt->second) pick = c;
            }
            t = cands[pick].t.at(name);
            ++picks[cands[pick].name];
          }
          for (const auto& [name, count] : picks) L.info("mix: {} values use {}", count, name);
          QMAP_ASSIGN_OR_RETURN(QuantizedModel q, quantize_graph(optimized, thresholds, qopts));
          QMAP_ASSIGN_OR_RETURN(double mixed, scorer.score(q.graph));
          L.info("calibration method mix: output cosine {:.6f}", mixed);
          if (mixed < cands[best].score) {
            thresholds = cands[best].t;
            L.info("Select {} method (the per-value mix scored lower)", cands[best].name);
            method = cands[best].name;
          } else {
            L.info("Select mix method");
            method = "mix";
          }
        }
      } else {
        CalibMethod m = CalibMethod::kMax;
        double percentile = 1.0;
        if (ctype == CalibrationType::kMax && cfg.calibration.max_percentile) {
          m = CalibMethod::kPercentile;
          percentile = *cfg.calibration.max_percentile;
          method = fmt::format("max-percentile:{:.6g}", percentile);
        } else if (ctype == CalibrationType::kKl) {
          m = CalibMethod::kKl;
        } else if (ctype == CalibrationType::kMse) {
          m = CalibMethod::kMse;
        }
        QMAP_ASSIGN_OR_RETURN(thresholds, thresholds_of(m, percentile));
      }
    }
    const CalibTable table =
        make_calib_table(optimized, thresholds, method, dataset ? dataset->size() : 0);
    QMAP_RETURN_IF_ERROR(write_calib_table(out_path("_calibration_table.txt").string(), table));
    L.info("wrote {}", out_path("_calibration_table.txt").string());
  }

  // ---- bias correction: the float graph the quantizer reads gets corrected biases; the
  // optimized float model (written above, and the reference of the node table) keeps its own.
  Graph to_quantize = optimized;
  const BiasCorrectionMode bc_mode = cfg.calibration.bias_correction;
  if (bc_mode != BiasCorrectionMode::kOff && dataset && ctype != CalibrationType::kLoad) {
    Stage st{L, "bias correction", Clock::now(), &times};
    QMAP_ASSIGN_OR_RETURN(std::optional<Graph> corrected,
                          bias_corrected_graph(optimized, thresholds, qopts, *dataset, bc_mode, threads, L));
    if (corrected) to_quantize = std::move(*corrected);
  } else if (bc_mode == BiasCorrectionMode::kOff) {
    L.info("bias correction: off (calibration_parameters.bias_correction: False)");
  }

  // ---- quantization ----
  QuantizedModel quantized;
  {
    Stage st{L, "quantization", Clock::now(), &times};
    QMAP_ASSIGN_OR_RETURN(quantized, quantize_graph(to_quantize, thresholds, qopts));
    quantized.graph.metadata = original.metadata;
    quantized.graph.metadata["qmap_calibration_method"] = method;
    QMAP_RETURN_IF_ERROR(write_model(quantized.graph, out_path("_quantized_model.onnx"), L));
  }
  {
    Stage st{L, "bin", Clock::now(), &times};
    QMAP_RETURN_IF_ERROR(
        write_model_bin(quantized.graph, makertbin_bin_metadata(cfg, removed), out_path(".bin").string()));
    L.info("wrote {}", out_path(".bin").string());
  }

  // ---- the node table: float vs integer simulation on the first sample ----
  {
    Stage st{L, "node comparison", Clock::now(), &times};
    QMAP_RETURN_IF_ERROR(print_node_tables(optimized, quantized, search_samples.front(), L));
  }
  L.info("calibration method: {}", method);
  std::string per_stage;
  for (const auto& [name, sec] : times) per_stage += fmt::format("{}{} {:.2f} s", per_stage.empty() ? "" : ", ", name, sec);
  L.info("stage times: {}", per_stage);
  L.info("End qmap makertbin: conversion took {:.2f} s", seconds_since(t_start));
  return ok_status();
}

}  // namespace qmap
