// Folding a per-output-channel affine map y[c] = s[c] * x[c] + t[c] into the weights and
// bias of the Conv / ConvTranspose / Gemm that produces x. fold_batchnorm (BN is such a map)
// and fold_scale_into_conv (Caffe's Scale = Mul + Add) share it. The channel axis is axis 1
// of the producer's output: NCHW for the conv family, [M, N] for Gemm.
#pragma once

#include <optional>
#include <vector>

#include "ir/graph.h"

namespace qmap {

struct ChannelAffine {
  std::vector<double> s;  // per output channel; size = channel count
  std::vector<double> t;
};

// The output channel count of node `n` when it can absorb a ChannelAffine: Conv or
// ConvTranspose with constant float32 W (and B, if present), or Gemm with constant float32 B
// (and C, if present) and a known 2-D output. nullopt otherwise.
std::optional<int64_t> affine_channels(const Graph& g, const Node& n);

// Rewrites node `producer` (accepted by affine_channels) to compute s * y + t: weights of
// output channel c scaled by s[c], bias b'[c] = s[c] * b[c] + t[c] (a missing bias is 0;
// Gemm's beta is folded into C and set to 1). Arithmetic in double from the float32 values,
// rounded once to float32. New initializers, so weights shared with other nodes stay intact.
void fold_affine_into(Graph& g, size_t producer, const ChannelAffine& a);

// The per-channel values of constant `c` broadcast against a tensor of dims `out` along
// axis 1: c right-aligned to out (rank <= rank of out) with every dim 1 except possibly
// axis 1, which is 1 or out[1]. Returns out[1] values, or nullopt when c varies elsewhere or
// would enlarge the result.
std::optional<std::vector<double>> per_channel_values(const Tensor& c, const Dims& out);

}  // namespace qmap
