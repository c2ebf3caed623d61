// OutputScorer: how close a quantized (QDQ) graph's outputs are to the float graph's, on a
// fixed set of samples. One scorer for makertbin's method search and bias-correction check
// (calibrate.h) and `qmap debug`'s per-node sensitivity (makertbin/accuracy_debug.h).
#pragma once

#include <vector>

#include "core/status.h"
#include "ir/graph.h"
#include "ir/tensor.h"
#include "kernels/isa.h"

namespace qmap {

// Means over samples of the mean over outputs (each output's distance to float:
// report/compare.h's TensorDistance).
struct OutputScore {
  double cosine = 0;
  double mse = 0;
  // An output equal to float (no noise) counts as 200 dB (and a zero reference against a
  // non-zero output as -200 dB), so the mean stays finite.
  double sqnr_db = 0;
};

struct OutputScorerOptions {
  // Worker threads over the samples (one simulator copy each); the sums are taken in sample
  // order, so the score does not depend on it. 1: on the calling thread only (for callers
  // that run several scores in parallel themselves).
  int threads = 1;
  // Float steps (nodes left on the CPU) use OpenBLAS's sgemm, as the float reference does,
  // instead of the runtime's portable one: faster when most of the graph is float (`qmap
  // debug` quantizes one node at a time); the scores differ from the portable GEMM's in
  // float rounding only.
  bool float_sgemm_blas = false;
};

class OutputScorer {
 public:
  // Runs the float graph over the samples once (the reference). The candidates run on the
  // runtime's integer kernels (QMAP_ISA, else the best this CPU has): bit-exact with the
  // integer reference, so the scores are the same, in a fraction of the time.
  static Result<OutputScorer> create(const Graph& float_graph, std::vector<std::vector<Tensor>> samples,
                                     const OutputScorerOptions& options = {});

  // The same samples and float reference, scored with other options (no float run).
  OutputScorer with_options(const OutputScorerOptions& options) const {
    OutputScorer s = *this;
    s.options_ = options;
    return s;
  }

  // The distance of `qdq`'s outputs to the reference. Safe to call from several threads.
  Result<OutputScore> score(const Graph& qdq) const;

  const std::vector<std::vector<Tensor>>& samples() const { return samples_; }

 private:
  OutputScorer() = default;
  std::vector<std::vector<Tensor>> samples_;
  std::vector<std::vector<Tensor>> reference_;
  OutputScorerOptions options_;
  kernels::Isa isa_{};
};

}  // namespace qmap
