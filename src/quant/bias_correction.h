// Empirical bias correction (Nagel et al., "Data-Free Quantization Through Weight Equalization
// and Bias Correction", ICCV 2019, section 4.2; AIMET's empirical variant): quantizing the
// weights and the activations upstream of a convolution shifts the mean of its output, and
// ReLU and the layers after it turn that shift into error. For every integer Conv (and Gemm
// with a constant weight) the shift of each output channel's pre-activation mean is measured
// on calibration samples and subtracted from the float bias, which the quantizer then rounds
// into the int32 bias as usual. Nothing else changes: the numeric contract (per-channel int8
// weights, 8-bit activations, int32 bias, fixed-point requantization) holds as before.
//
// The measured shift of output channel c, over the output positions p of all samples:
//   e_c = mean_p( sum_k Wq[c,k] * xq[p,k] ) - mean_p( sum_k W[c,k] * x[p,k] )
//       = sum_k ( Wq[c,k] * mq[k] - W[c,k] * mf[k] )
// where k runs over the input channels and kernel taps of c's group, x is the float model's
// input of the layer, xq the integer simulation's (dequantized, with every layer upstream
// quantized), Wq the dequantized int8 weights, and m[k] the mean of tap k's input over the
// output positions (zero padding included: the per-tap means make the sum exact, borders and
// all). The corrected bias is b_c - e_c.
//
// Layers are corrected one at a time in the order of the integer program, on the quantized
// upstream (Gauss-Seidel): the integer model runs step by step on all samples at once, and at a
// layer's step its input is measured with every earlier layer already corrected, the step's
// int32 bias replaced, and only then the step runs. Correcting all layers at once from one
// simulation instead counts an upstream shift twice (the upstream layer removes it, and the
// downstream layer compensates for it too) and diverges on deep networks.
//
// Deterministic: per-sample sums are reduced in sample order whatever the thread count.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/tensor.h"
#include "ir/graph.h"
#include "quant/quantize.h"

namespace qmap {

struct BiasCorrectionOptions {
  int threads = 1;  // samples run in parallel
};

struct BiasCorrectionResult {
  Graph graph;         // the float graph with corrected biases (Conv/Gemm without one gain one)
  int layers = 0;      // layers corrected
  // Per corrected layer, in graph order: node name and mean_c |e_c| / mean_c std_c (the
  // float output's standard deviation per channel): the shift corrected, in output spreads.
  std::vector<std::pair<std::string, double>> layer_shift;
  double mean_relative_shift = 0;  // its mean over the layers
};

// `graph` is the optimized float graph the quantizer reads, `thresholds` its activation
// thresholds, `samples` runtime inputs (as FloatEngine and IntSimulator take them). Layers that
// stay in float (CPU) are left alone.
Result<BiasCorrectionResult> correct_biases(const Graph& graph, const std::map<std::string, float>& thresholds,
                                            const QuantizeOptions& qopts,
                                            const std::vector<std::vector<Tensor>>& samples,
                                            const BiasCorrectionOptions& options);

}  // namespace qmap
