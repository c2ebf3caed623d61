// Range search: each activation's threshold chosen by the network output's error. After the
// `default` method search has picked one method for the whole graph, each value the quantized
// model holds in 8 bits tries the next lower and the next higher threshold that the other
// calibration methods found for it (a local step along the methods' own ladder), in graph
// order, and keeps the one that raises the mean output cosine (OutputScorer) the most.
// docs/quantization.md, "Range search".
//
// Why the output and not the tensor: a threshold trades clipping error against rounding error,
// and how much of each the network can absorb depends on what comes after the tensor. A choice
// by the tensor's own error (or its consumers') lost top-1 on MobileNetV2 (docs/accuracy.md);
// the output's error is what the method search itself ranks by.
#pragma once

#include <string>
#include <vector>

#include "calib/methods.h"
#include "calib/output_scorer.h"
#include "core/status.h"
#include "ir/graph.h"
#include "quant/quantize.h"

namespace qmap {

// One calibration method's thresholds: the ladder a value's threshold may step along.
struct RangeCandidate {
  std::string method;  // as the calibration table labels it: "kl", "max-percentile:0.9999", ...
  Thresholds thresholds;
};

struct RangeMove {
  std::string value;
  float from = 0, to = 0;
  std::string method;  // the candidate whose threshold `to` is
  double cosine = 0;   // the mean output cosine after the move
};

struct RangeSearchResult {
  Thresholds thresholds;        // the start's, with the moves applied
  std::vector<RangeMove> moves;  // in the order made
  size_t values = 0;            // values searched (the start model's 8-bit activations)
  size_t runs = 0;              // quantize-and-score runs
  double cosine_before = 0, cosine_after = 0;
};

struct RangeSearchOptions {
  bool progress = false;  // a progress bar over the values
};

// A move is kept when it raises the mean output cosine by more than this: smaller gains are
// float rounding in the score, not the model.
constexpr double kRangeSearchMinGain = 1e-6;

// Two thresholds closer than this (relative) are one step of the ladder.
constexpr float kRangeSearchSameThreshold = 0.01f;

// `start` is one of the candidates' thresholds (the method search's choice), with
// `start_cosine` its score by `scorer`. Deterministic: the same inputs give the same result.
Result<RangeSearchResult> search_ranges(const Graph& optimized, const QuantizeOptions& qopts,
                                        const std::vector<RangeCandidate>& candidates, const Thresholds& start,
                                        double start_cosine, const OutputScorer& scorer,
                                        const RangeSearchOptions& options = {});

}  // namespace qmap
