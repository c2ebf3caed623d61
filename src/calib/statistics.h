// Calibration statistics: runs the float engine over the calibration samples and streams
// every observed activation through per-value observers, so memory is bounded by the
// model (one set of activations per worker plus 2048 counters per value), never by the
// sample count.
//
// Two passes over the samples (the engine runs twice):
//   1. min, max and max|x| of each value;
//   2. a kHistogramBins-bin histogram of |x| over [0, max|x|] of each value, which needs
//      the final max|x| of pass 1 to fix the bin width.
// Both are merged with exact, order-independent operations (float min/max, integer
// counts), so the Statistics are bit-identical whatever the thread count or sample order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace qmap {

// Histogram resolution, as in TensorRT's entropy calibrator.
inline constexpr int kHistogramBins = 2048;

struct ValueStats {
  float min = 0.f;      // smallest element seen
  float max = 0.f;      // largest element seen
  float abs_max = 0.f;  // max |x| = max(-min, max)
  uint64_t count = 0;   // elements seen (over all samples)
  // kHistogramBins counts of |x|: bin b holds |x| in [b, b+1) * bin_width(), the last bin
  // also |x| == abs_max. Empty when only pass 1 ran (observe_range).
  std::vector<uint64_t> histogram;

  double bin_width() const { return static_cast<double>(abs_max) / kHistogramBins; }
};

struct Statistics {
  std::map<std::string, ValueStats> values;  // by value name
  size_t num_samples = 0;
};

// Returns the graph inputs of sample `index`, one tensor per Graph::inputs in order. Called
// from several threads at once, so it must be thread-safe.
using SampleLoader = std::function<Result<std::vector<Tensor>>(size_t index)>;

struct CollectOptions {
  int threads = 0;         // workers (each runs its own float engine); <= 0: hardware_concurrency
  bool progress = false;   // progress bars on stderr
  // Names of the values to observe; empty: every calibrated value (calibrated_values).
  std::set<std::string> observe;
  // false: pass 1 only (min, max, abs_max, count; empty histograms), for callers that need
  // the ranges alone, at half the cost.
  bool histograms = true;
};

// The values calibration gives a threshold: every non-constant float32 value of `g`, graph
// inputs first, then node outputs in node order.
std::vector<std::string> calibrated_values(const Graph& g);

// Runs `g` over samples 0..num_samples-1 and returns the statistics of the observed values.
// Errors: no samples, an observed name that is not a calibrated value of g, a loader error
// (the first failing sample by index, whatever the thread count), an engine error, or a
// non-finite element (names the value and the sample).
Result<Statistics> collect_statistics(const Graph& g, size_t num_samples, const SampleLoader& load,
                                      const CollectOptions& opts);

// --- the streaming observers, exposed for tests and for other collectors ---

// Running min/max of a value (pass 1). Merge is exact and commutative.
struct RangeObserver {
  float min = std::numeric_limits<float>::infinity();  // +inf / -inf until an element is seen
  float max = -std::numeric_limits<float>::infinity();
  uint64_t count = 0;
  uint64_t non_finite = 0;  // NaN or +-inf elements seen
  void observe(std::span<const float> x);
  void merge(const RangeObserver& o);
};

// Histogram of |x| over [0, abs_max] in kHistogramBins bins (pass 2). Binning is
// bin = min(int(|x| * inv_width), kHistogramBins - 1) with inv_width = kHistogramBins /
// abs_max computed once as float: one multiply per element, no division. abs_max == 0 puts
// everything in bin 0.
class HistogramObserver {
 public:
  explicit HistogramObserver(float abs_max = 0.f);
  void observe(std::span<const float> x);
  void merge(const HistogramObserver& o);
  const std::vector<uint64_t>& counts() const { return counts_; }
  // The bin of one element, exactly as observe() computes it (for tests and docs).
  int bin_of(float x) const;

 private:
  float inv_width_ = 0.f;
  std::vector<uint64_t> counts_;
};

}  // namespace qmap
