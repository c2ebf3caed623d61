// calibrate (calibrate.h): samples, statistics, the methods and the candidate search.
#include "calib/calibrate.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <set>

#include <fmt/format.h>

#include "calib/calib_table.h"
#include "calib/output_scorer.h"
#include "calib/range_search.h"
#include "calib/statistics.h"
#include "engine/float_engine.h"
#include "quant/int_simulator.h"
#include "report/node_compare.h"

namespace qmap {

namespace {

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
// The seed of calibration_type skip's random inputs.
constexpr uint32_t kRandomInputSeed = 20251125;

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

// The search samples: kSearchSamples spread over the data set, or one seeded random sample.
Result<std::vector<std::vector<Tensor>>> search_samples(const Graph& g, CalibDataset* dataset,
                                                        CalibrationType type, Logger& L) {
  std::vector<std::vector<Tensor>> samples;
  if (dataset) {
    for (size_t i : spread_indices(dataset->size(), kSearchSamples)) {
      QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> sample, dataset->load_runtime(i));
      samples.push_back(std::move(sample));
    }
    return samples;
  }
  if (type == CalibrationType::kSkip)
    L.warn("calibration_type skip: thresholds from seeded random inputs; the quantized model's accuracy "
           "is meaningless (use it for performance work only)");
  QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> sample, random_inputs(g, kRandomInputSeed));
  samples.push_back(std::move(sample));
  return samples;
}

// One candidate of the search: its name, thresholds, score and quantized model.
struct Candidate {
  std::string name;
  Thresholds t;
  double score = 0;
  QuantizedModel model;
};

// For each candidate: cosine of every original value (via value_map) against float, on `sample`.
Result<std::vector<std::map<std::string, double>>> value_cosines(const Graph& float_graph,
                                                                 const std::vector<Candidate>& cands,
                                                                 const std::vector<Tensor>& sample) {
  QMAP_ASSIGN_OR_RETURN(FloatEngine engine, FloatEngine::create(float_graph, {.keep_all_values = true}));
  QMAP_RETURN_IF_ERROR(engine.run(sample).status());
  std::vector<std::map<std::string, double>> out;
  for (const Candidate& c : cands) {
    const QuantizedModel& m = c.model;
    QMAP_ASSIGN_OR_RETURN(IntSimulator sim, IntSimulator::create(m.graph, true));
    QMAP_RETURN_IF_ERROR(sim.run(sample).status());
    std::map<std::string, double> cos;
    for (const auto& entry : m.value_map)
      if (auto c = value_cosine(engine.all_values(), sim.all_values(), m.value_map, entry.first)) cos[entry.first] = *c;
    out.push_back(std::move(cos));
  }
  return out;
}

// What the methods run on: the graph, its statistics and the quantizer's uint8 values.
struct MethodContext {
  const Graph& graph;
  const Statistics& stats;
  const std::set<std::string>& unsigned_values;
  const CalibrateOptions& options;

  Result<Thresholds> thresholds_of(CalibMethod m, double percentile) const {
    MethodOptions mo;
    mo.method = m;
    mo.max_percentile = percentile;
    mo.threads = options.threads;
    mo.is_unsigned = [this](const std::string& v) { return unsigned_values.count(v) != 0; };
    return compute_thresholds(stats, mo);
  }
};

// max, the percentile ladder (or the user's max_percentile alone), kl and mse, each quantized
// and scored.
Result<std::vector<Candidate>> score_candidates(const MethodContext& mc, const CalibrationParameters& p,
                                                const OutputScorer& scorer, Logger& L) {
  std::vector<double> percentiles(std::begin(kDefaultPercentiles), std::end(kDefaultPercentiles));
  if (p.max_percentile) percentiles = {*p.max_percentile};
  std::vector<Candidate> cands;
  auto add = [&](std::string name, CalibMethod m, double percentile) -> Status {
    QMAP_ASSIGN_OR_RETURN(Thresholds t, mc.thresholds_of(m, percentile));
    cands.push_back({std::move(name), std::move(t), 0, {}});
    return ok_status();
  };
  QMAP_RETURN_IF_ERROR(add("max", CalibMethod::kMax, 1.0));
  for (double pc : percentiles)
    QMAP_RETURN_IF_ERROR(add(fmt::format("max-percentile:{:.6g}", pc), CalibMethod::kPercentile, pc));
  QMAP_RETURN_IF_ERROR(add("kl", CalibMethod::kKl, 1.0));
  QMAP_RETURN_IF_ERROR(add("mse", CalibMethod::kMse, 1.0));
  for (Candidate& c : cands) {
    QMAP_ASSIGN_OR_RETURN(c.model, quantize_graph(mc.graph, c.t, mc.options.quantize));
    QMAP_ASSIGN_OR_RETURN(const OutputScore s, scorer.score(c.model.graph));
    c.score = s.cosine;
    L.info("calibration method {}: output cosine {:.6f}", c.name, c.score);
  }
  return cands;
}

// mix: per value, the candidate whose integer simulation of that value (each candidate
// quantized as a whole) is closest to float on the first sample; ties keep the globally best
// candidate. The mixed set is then scored like the others and kept unless it scores lower.
Status mix_candidates(const MethodContext& mc, const std::vector<Candidate>& cands, size_t best,
                      const OutputScorer& scorer, Calibration& out, Logger& L) {
  using PerValue = std::vector<std::map<std::string, double>>;
  QMAP_ASSIGN_OR_RETURN(PerValue per_value, value_cosines(mc.graph, cands, scorer.samples().front()));
  out.thresholds = cands[best].t;
  std::map<std::string, int> picks;
  for (auto& [name, t] : out.thresholds) {
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
  QMAP_ASSIGN_OR_RETURN(QuantizedModel q, quantize_graph(mc.graph, out.thresholds, mc.options.quantize));
  QMAP_ASSIGN_OR_RETURN(const OutputScore mixed, scorer.score(q.graph));
  L.info("calibration method mix: output cosine {:.6f}", mixed.cosine);
  out.candidates.push_back({"mix", mixed.cosine});
  if (mixed.cosine < cands[best].score) {
    out.thresholds = cands[best].t;
    L.info("Select {} method (the per-value mix scored lower)", cands[best].name);
    out.method = cands[best].name;
  } else {
    L.info("Select mix method");
    out.method = "mix";
  }
  return ok_status();
}

// The held-out samples of range_search: kSearchSamples more spread over the set, interleaved
// with the search's own (of 2 * kSearchSamples spread indices, those the search does not use).
// Empty when the set has no sample the search does not score.
Result<std::vector<std::vector<Tensor>>> held_out_samples(CalibDataset& dataset) {
  const std::vector<size_t> search = spread_indices(dataset.size(), kSearchSamples);
  const std::set<size_t> used(search.begin(), search.end());
  std::vector<std::vector<Tensor>> out;
  for (size_t i : spread_indices(dataset.size(), 2 * kSearchSamples)) {
    if (used.count(i)) continue;
    QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> sample, dataset.load_runtime(i));
    out.push_back(std::move(sample));
  }
  return out;
}

// range_search (range_search.h) from the method search's choice `best`. auto keeps the moved
// thresholds only when they raise the mean output cosine on held-out samples too; without
// held-out samples auto does not search.
Status refine_ranges(const MethodContext& mc, const CalibrationParameters& p, CalibDataset* dataset,
                     const std::vector<Candidate>& cands, size_t best, const OutputScorer& scorer, Calibration& out,
                     Logger& L) {
  std::vector<std::vector<Tensor>> held_out;
  if (dataset) {
    QMAP_ASSIGN_OR_RETURN(held_out, held_out_samples(*dataset));
  }
  if (p.range_search == AutoMode::kAuto && held_out.empty()) {
    L.info("range search: not run (auto needs calibration samples beyond the search's {}; range_search: True "
           "runs it without the held-out check)",
           scorer.samples().size());
    return ok_status();
  }
  std::vector<RangeCandidate> ladder;
  for (const Candidate& c : cands) ladder.push_back({c.name, c.t});
  QMAP_ASSIGN_OR_RETURN(const RangeSearchResult r,
                        search_ranges(mc.graph, mc.options.quantize, ladder, cands[best].t, cands[best].score, scorer,
                                      {.progress = mc.options.progress}));
  for (const RangeMove& m : r.moves)
    L.debug("range search: {} {} -> {} ({}), output cosine {:.6f}", m.value, m.from, m.to, m.method, m.cosine);
  L.info("range search: {} of {} values moved in {} runs; output cosine on the {} search samples {:.6f} -> {:.6f}",
         r.moves.size(), r.values, r.runs, scorer.samples().size(), r.cosine_before, r.cosine_after);
  if (r.moves.empty()) return ok_status();
  if (p.range_search == AutoMode::kAuto) {
    QMAP_ASSIGN_OR_RETURN(const OutputScorer held,
                          OutputScorer::create(mc.graph, std::move(held_out), {.threads = mc.options.threads}));
    QMAP_ASSIGN_OR_RETURN(const QuantizedModel after, quantize_graph(mc.graph, r.thresholds, mc.options.quantize));
    QMAP_ASSIGN_OR_RETURN(const OutputScore b, held.score(cands[best].model.graph));
    QMAP_ASSIGN_OR_RETURN(const OutputScore a, held.score(after.graph));
    const bool keep = a.cosine > b.cosine;
    L.info("range search: {} (output cosine on {} held-out samples: {:.6f} without, {:.6f} with)",
           keep ? "kept" : "not kept", held.samples().size(), b.cosine, a.cosine);
    if (!keep) return ok_status();
  } else {
    L.info("range search: kept (calibration_parameters.range_search: True)");
  }
  out.thresholds = r.thresholds;
  out.method += "+range-search";
  for (const RangeMove& m : r.moves) out.value_methods[m.value] = m.method;
  return ok_status();
}

// default and mix: the candidates, scored on the search samples; default keeps the best, then
// (range_search) moves single values' thresholds by the output.
Status search_methods(const MethodContext& mc, const CalibrationParameters& p, CalibDataset* dataset,
                      Calibration& out, Logger& L) {
  QMAP_ASSIGN_OR_RETURN(const OutputScorer scorer,
                        OutputScorer::create(mc.graph, out.samples, {.threads = mc.options.threads}));
  QMAP_ASSIGN_OR_RETURN(const std::vector<Candidate> cands, score_candidates(mc, p, scorer, L));
  size_t best = 0;
  for (size_t c = 0; c < cands.size(); ++c) {
    out.candidates.push_back({cands[c].name, cands[c].score});
    if (cands[c].score > cands[best].score) best = c;
  }
  if (p.type == CalibrationType::kMix) return mix_candidates(mc, cands, best, scorer, out, L);
  out.thresholds = cands[best].t;
  L.info("Select {} method", cands[best].name);
  out.method = cands[best].name;  // the table and the model say which method made the thresholds
  if (p.range_search == AutoMode::kOff) return ok_status();
  return refine_ranges(mc, p, dataset, cands, best, scorer, out, L);
}

// load: the model's thresholds; values the QAT model did not quantize (and values the float
// passes renamed) still need one: those are calibrated with max.
Status load_thresholds(const MethodContext& mc, bool have_data, Calibration& out, Logger& L) {
  QMAP_ASSIGN_OR_RETURN(out.thresholds, mc.thresholds_of(CalibMethod::kMax, 1.0));
  size_t taken = 0;
  for (const auto& [name, t] : mc.options.qat_thresholds) {
    auto it = out.thresholds.find(name);
    if (it == out.thresholds.end()) continue;
    it->second = t;
    ++taken;
  }
  L.info("calibration_type load: {} of {} values use the model's thresholds, the others max", taken,
         out.thresholds.size());
  if (!have_data && taken < out.thresholds.size())
    L.warn("calibration_type load without cal_data_dir: {} of {} values have no threshold in the model and "
           "take max |x| over seeded random inputs; give cal_data_dir to calibrate them on real data",
           out.thresholds.size() - taken, out.thresholds.size());
  return ok_status();
}

// The methods over the statistics, by calibration_type.
Status run_method(const MethodContext& mc, const CalibrationParameters& p, CalibDataset* dataset, Calibration& out,
                  Logger& L) {
  if (p.type == CalibrationType::kLoad) return load_thresholds(mc, dataset != nullptr, out, L);
  if (p.type == CalibrationType::kDefault || p.type == CalibrationType::kMix)
    return search_methods(mc, p, dataset, out, L);
  // skip, max (with max_percentile: percentile), kl, mse: one method.
  CalibMethod m = CalibMethod::kMax;
  double percentile = 1.0;
  if (p.type == CalibrationType::kMax && p.max_percentile) {
    m = CalibMethod::kPercentile;
    percentile = *p.max_percentile;
    out.method = fmt::format("max-percentile:{:.6g}", percentile);
  } else if (p.type == CalibrationType::kKl) {
    m = CalibMethod::kKl;
  } else if (p.type == CalibrationType::kMse) {
    m = CalibMethod::kMse;
  }
  QMAP_ASSIGN_OR_RETURN(out.thresholds, mc.thresholds_of(m, percentile));
  return ok_status();
}

}  // namespace

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

std::vector<size_t> spread_indices(size_t n, size_t k) {
  k = std::min(k, n);
  std::vector<size_t> idx(k);
  for (size_t j = 0; j < k; ++j) idx[j] = j * n / k;
  return idx;
}

Result<Calibration> calibrate(const Graph& graph, CalibDataset* dataset, const CalibrationParameters& parameters,
                              const CalibrateOptions& options, Logger& L) {
  Calibration out;
  out.method = calibration_type_name(parameters.type);
  QMAP_ASSIGN_OR_RETURN(out.samples, search_samples(graph, dataset, parameters.type, L));
  if (!options.calibration_table.empty()) {
    QMAP_ASSIGN_OR_RETURN(CalibTable table, read_calib_table(options.calibration_table));
    out.thresholds = table.thresholds();
    QMAP_RETURN_IF_ERROR(check_thresholds_cover(graph, out.thresholds, options.calibration_table));
    out.method = table.method.empty() ? "table" : table.method;
    L.info("thresholds read from {} ({} values)", options.calibration_table, out.thresholds.size());
    return out;
  }
  // Statistics over the calibration data, or (skip, load without data) over the seeded
  // random samples.
  const size_t num_samples = dataset ? dataset->size() : out.samples.size();
  const auto loader = [&](size_t i) -> Result<std::vector<Tensor>> {
    if (dataset) return dataset->load_runtime(i);
    return out.samples[i];
  };
  CollectOptions copts;
  copts.threads = options.threads;
  copts.progress = options.progress;
  QMAP_ASSIGN_OR_RETURN(const Statistics stats, collect_statistics(graph, num_samples, loader, copts));
  QMAP_ASSIGN_OR_RETURN(const std::set<std::string> unsigned_values,
                        quantizer_unsigned_values(graph, stats, options.quantize));
  for (const auto& [name, vs] : stats.values)
    if (vs.abs_max > 0 && std::isfinite(vs.abs_max)) out.abs_max[name] = vs.abs_max;
  // Units with int16 outputs hold their whole range (QuantizeOptions::int16_thresholds): the
  // candidates are scored as they will be quantized.
  CalibrateOptions with_ranges = options;
  if (!with_ranges.quantize.int16_outputs.empty()) with_ranges.quantize.int16_thresholds = out.abs_max;
  const MethodContext mc{graph, stats, unsigned_values, with_ranges};
  QMAP_RETURN_IF_ERROR(run_method(mc, parameters, dataset, out, L));
  return out;
}

}  // namespace qmap
