// Range search (range_search.h).
#include "calib/range_search.h"

#include <cmath>
#include <optional>
#include <set>

#include "core/progress.h"

namespace qmap {

namespace {

// The values `q` holds in 8 bits, in graph order: each node's quantized output (a fused
// group's once, under its output value). int16 outputs and float values have no 8-bit step.
std::vector<std::string> eight_bit_values(const QuantizedModel& q) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const QuantNodeInfo& n : q.nodes)
    if (!n.value.empty() && std::isfinite(n.threshold) && !n.output_int16 && seen.insert(n.value).second)
      out.push_back(n.value);
  return out;
}

struct Step {
  float threshold;
  const RangeCandidate* from;
};

// The nearest candidate threshold below `cur` and the nearest above it, each farther than
// kRangeSearchSameThreshold from `cur` (the first candidate in order on ties).
std::vector<Step> neighbours(const std::vector<RangeCandidate>& candidates, const std::string& value, float cur) {
  std::optional<Step> lo, hi;
  for (const RangeCandidate& c : candidates) {
    auto it = c.thresholds.find(value);
    if (it == c.thresholds.end()) continue;
    const float x = it->second;
    if (!(x > 0) || !std::isfinite(x) || std::fabs(x - cur) <= kRangeSearchSameThreshold * cur) continue;
    if (x < cur && (!lo || x > lo->threshold)) lo = Step{x, &c};
    if (x > cur && (!hi || x < hi->threshold)) hi = Step{x, &c};
  }
  std::vector<Step> out;
  if (lo) out.push_back(*lo);
  if (hi) out.push_back(*hi);
  return out;
}

}  // namespace

Result<RangeSearchResult> search_ranges(const Graph& optimized, const QuantizeOptions& qopts,
                                        const std::vector<RangeCandidate>& candidates, const Thresholds& start,
                                        double start_cosine, const OutputScorer& scorer,
                                        const RangeSearchOptions& options) {
  RangeSearchResult r;
  r.thresholds = start;
  r.cosine_before = r.cosine_after = start_cosine;
  QMAP_ASSIGN_OR_RETURN(const QuantizedModel start_model, quantize_graph(optimized, start, qopts));
  const std::vector<std::string> values = eight_bit_values(start_model);
  r.values = values.size();
  ProgressBar bar("range search", values.size(), options.progress);
  for (const std::string& v : values) {
    auto cur_it = r.thresholds.find(v);
    if (cur_it == r.thresholds.end()) {
      bar.advance();
      continue;
    }
    const float cur = cur_it->second;
    std::optional<RangeMove> best;
    for (const Step& s : neighbours(candidates, v, cur)) {
      Thresholds trial = r.thresholds;
      trial[v] = s.threshold;
      QMAP_ASSIGN_OR_RETURN(const QuantizedModel q, quantize_graph(optimized, trial, qopts));
      QMAP_ASSIGN_OR_RETURN(const OutputScore score, scorer.score(q.graph));
      ++r.runs;
      const double bar_to_beat = best ? best->cosine : r.cosine_after + kRangeSearchMinGain;
      if (score.cosine > bar_to_beat) best = RangeMove{v, cur, s.threshold, s.from->method, score.cosine};
    }
    if (best) {
      r.thresholds[v] = best->to;
      r.cosine_after = best->cosine;
      r.moves.push_back(std::move(*best));
    }
    bar.advance();
  }
  return r;
}

}  // namespace qmap
