// Adaptive rounding of weights (calibration_parameters.optimization: adaround; docs/
// quantization.md "Adaptive rounding"). Rounding every weight to its nearest int8 value
// minimizes each weight's own error, not the layer's output error. AdaRound (Nagel et al.,
// "Up or Down? Adaptive Rounding for Post-Training Quantization", ICML 2020) chooses, per
// weight, rounding down or up so that the layer's output moves least on the calibration data.
// With the layer's float inputs x (per output position, its K taps), per output channel c,
// scale s_c and integer weights q = floor(w / s_c) + b, b in {0, 1}:
//
//   E_c(b) = mean_p ( sum_k (s_c q_k - w_k) x_pk )^2 = d^T H d,   d = s_c q - w,
//   H = mean_p x_p x_p^T   (the K x K second moment of the layer's input patches)
//
// (the paper's equation 13, the second-order form of the task loss per layer). The paper
// relaxes b to a continuous variable with an annealed regularizer and runs gradient descent;
// qmap solves the same binary problem by greedy coordinate descent instead, which is
// deterministic and needs no learning rate or schedule: from round-to-nearest, sweep the
// weights in order, flip any weight to its other neighbour when that lowers E_c (the change is
// 2 d_k (H d)_k + s_c^2 H_kk, with H d kept up to date), until a sweep flips nothing. E_c never
// rises above round-to-nearest's.
//
// The result is a float graph whose weights lie exactly on their int8 grids (w' = s_c q): the
// quantizer's round-to-nearest then gives q. Every weight that rounds to +-127 stays there, so
// max |w'| = 127 s_c, the float next to max |w|: the scale the quantizer derives again is s_c
// or, at worst, its neighbouring float, which moves no integer weight (w' / s is within 1e-6 of
// q). The test's network keeps every scale bit for bit. Nothing else changes: per-channel
// symmetric int8 weights, int32 bias, the activations and the arithmetic are as before.
//
// Layers: the weighted layers the quantizer puts on the NPU (weighted_layers.h). Skipped, with
// the reason: weights already on their int8 grid (within 1e-4 of a step: nothing to gain, and
// nothing measured), a weight shared by several nodes, and a layer whose samples give fewer output
// positions than 2 K (H would be fitted to the samples, not the data: a classifier on 64
// samples with K = 1280). H is accumulated in float32 over the samples in order (OpenBLAS sgemm,
// as the float engine), from at most max(16 K, 16384) positions: a layer whose samples give
// more takes evenly spaced positions of each sample.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"
#include "ir/tensor.h"
#include "quant/quantize.h"

namespace qmap {

struct AdaRoundOptions {
  int threads = 1;       // layers accumulated and solved in parallel
  int max_sweeps = 50;   // coordinate-descent sweeps per output channel (each flip lowers E_c)
};

struct AdaRoundLayer {
  std::string node;
  int64_t taps = 0;       // K per group
  int64_t positions = 0;  // output positions over all samples
  double error_nearest = 0;   // sum over channels of E_c with round-to-nearest
  double error_adaround = 0;  // ... with the chosen rounding
  int64_t flipped = 0;        // weights rounded the other way than nearest
  int64_t weights = 0;
};

struct AdaRoundResult {
  Graph graph;  // the input graph with rounded weights (on their int8 grids)
  std::vector<AdaRoundLayer> layers;                          // rounded, in graph order
  std::vector<std::pair<std::string, std::string>> skipped;  // node, reason
};

// `graph`: the optimized float graph; `qopts`: the quantizer's options (placement, per_channel);
// `samples`: calibration samples, one tensor per graph input.
Result<AdaRoundResult> adaround_weights(const Graph& graph, const QuantizeOptions& qopts,
                                        const std::vector<std::vector<Tensor>>& samples,
                                        const AdaRoundOptions& options = {});

}  // namespace qmap
