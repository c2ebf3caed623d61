// calibrate: the thresholds of a float graph's values, by the YAML's calibration_type
// (docs/quantization.md, "Calibration methods"):
//   max, max + max_percentile, kl, mse  one method over the statistics (methods.h);
//   default  the candidate search: max, a percentile ladder (or the user's max_percentile
//            alone), kl and mse, each quantized and simulated on samples spread over the set;
//            the best mean output cosine (OutputScorer) wins; then range_search
//            (range_search.h) moves single values' thresholds along the candidates' ladder;
//   mix      the same candidates, then per value the one whose simulation of that value is
//            closest to float; kept when it scores at least the best candidate;
//   load     the thresholds of the model's QuantizeLinear/DequantizeLinear nodes, max for the
//            values they leave out;
//   skip     max over seeded random inputs (for performance work only);
// or, with a calibration table, the table's thresholds.
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "calib/dataset.h"
#include "calib/methods.h"
#include "calib/statistics.h"
#include "config/makertbin_config.h"
#include "core/log.h"
#include "core/status.h"
#include "ir/graph.h"
#include "quant/quantize.h"

namespace qmap {

// k sample indices spread evenly over a calibration set of n (all of them when k >= n).
// Calibration sets are often sorted by class (file names start with the label, as in
// ../shared's cifar10 images): the first k samples may show one or two classes, and a choice
// made on them does not carry over. On the CIFAR-10 ResNet-8 the method search on the first 4
// images (all airplanes) picked percentile 0.9995 (output cosine 0.9910 on 900 other images)
// where kl, picked on 16 spread ones, gives 0.9969 (docs/accuracy.md).
std::vector<size_t> spread_indices(size_t n, size_t k);

// The values the quantizer stores as uint8 (proven non-negative by the graph), so the
// calibration methods use 255 levels exactly where the quantized model has them
// (MethodOptions::is_unsigned).
Result<std::set<std::string>> quantizer_unsigned_values(const Graph& g, const Statistics& stats,
                                                        const QuantizeOptions& qopts);

struct CalibrateOptions {
  QuantizeOptions quantize;  // how the candidates are quantized (and which values are uint8)
  int threads = 1;           // statistics, methods and the candidates' simulations
  bool progress = false;     // progress bar of the statistics pass
  // load: the thresholds take_thresholds_from_qdq found in the model.
  Thresholds qat_thresholds;
  // Non-empty: the thresholds are read from this calibration table; no method runs.
  std::string calibration_table;
};

struct CandidateScore {
  std::string method;  // "max", "max-percentile:0.99995", "kl", "mse", "mix"
  double cosine = 0;   // mean output cosine against float (OutputScorer)
};

struct Calibration {
  Thresholds thresholds;
  // The method that made the thresholds, as the calibration table and the quantized model's
  // metadata name it: the calibration_type ("kl", "load", ...), the candidate default chose,
  // "mix", "max-percentile:<p>" for max with max_percentile, or the table's method; with
  // "+range-search" appended when range_search moved values.
  std::string method;
  // The values range_search moved -> the candidate method whose threshold each took (the
  // calibration table's per-value label).
  std::map<std::string, std::string> value_methods;
  // default, mix: each candidate's score in the order tried (mix's own set last).
  std::vector<CandidateScore> candidates;
  // The samples the search scores: kSearchSamples spread over the data set, or (skip, load
  // without data) one seeded random sample. makertbin's node table runs the first.
  std::vector<std::vector<Tensor>> samples;
  // max |v| of each value over the statistics' samples (empty when the thresholds came from a
  // calibration table): the threshold of an int16 output (QuantizeOptions::int16_thresholds),
  // whose 16 bits hold the whole range at a finer step than 8 bits hold a clipped one.
  Thresholds abs_max;
};

// `dataset` may be null for skip and load (then statistics come from seeded random inputs).
// Logs what makertbin's log shows of calibration: the candidates' scores and the choice.
Result<Calibration> calibrate(const Graph& graph, CalibDataset* dataset, const CalibrationParameters& parameters,
                              const CalibrateOptions& options, Logger& log);

}  // namespace qmap
