// The weighted layers of a float graph that the quantizer puts on the NPU with int8 weights:
// Conv with a 2-D window and Gemm (alpha = beta = 1, no transA, 1-D or absent bias), each with
// a constant float32 weight. Bias correction (bias_correction.h) and adaptive rounding
// (adaround.h) work on them.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"
#include "ir/tensor.h"
#include "kernels/f32/window_geometry.h"
#include "quant/quantize.h"
#include "quant/quantize_params.h"

namespace qmap {

// One weighted layer: where its input and weights are, and how its taps map to weights.
struct WeightedLayer {
  size_t node = 0;         // index in graph.nodes
  std::string x, y;        // input and output value names (float graph)
  bool gemm = false;       // Gemm: x [M, K], W as B (transB or not); Conv: x [N, C, spatial]
  bool trans_b = false;
  kernels::f32::WindowGeometry geo;      // Conv: 2-D view of the window
  int64_t channels = 0;    // output channels
  int64_t taps = 0;        // Conv C_in * KH * KW (all groups), Gemm K
  Tensor w, wq;            // float and dequantized int8 weights
  int weight_axis = -1;    // the quantizer's weight axis (-1: per tensor)
};

// The graph's weighted layers among `npu_nodes` (node names the quantizer places on the NPU),
// in graph order; weight_axis per the quantizer (-1 with per_channel false).
Result<std::vector<WeightedLayer>> find_weighted_layers(const Graph& g, const std::set<std::string>& npu_nodes,
                                                        bool per_channel);

// The names of the nodes `q` places on the NPU.
std::set<std::string> npu_node_names(const QuantizedModel& q);

// Weight of output channel c at tap k (k in the layer's tap numbering; 0 when tap k is
// outside c's group).
float weight_at(const WeightedLayer& l, const Tensor& w, int64_t c, int64_t k);

// The float values of int8 weights q along `axis` (-1: one scale).
Tensor dequantized(const QuantizedWeights& q, int axis);

}  // namespace qmap
