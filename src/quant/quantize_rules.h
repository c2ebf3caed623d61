// Per-op quantization rules: which integer form a node of the optimized float graph has on
// the NPU, which of its inputs carry activations, and whether its output is non-negative by
// construction (so it may be uint8). Only structure is used here, never calibration data.
#pragma once

#include <string>
#include <vector>

#include "ir/graph.h"

namespace qmap {

enum class QuantKind {
  kFloat,        // no integer form: runs in float on the CPU
  kWeighted,     // Conv, ConvTranspose (one group), Gemm, MatMul with constant weights:
                 // int8 weights per output channel, int32 bias
  kOwnScale,     // Add, Mul, AveragePool, GlobalAveragePool, ReduceMean over H and W:
                 // integer arithmetic requantized to the output's calibrated scale
  kTable,        // Sigmoid, Tanh, HardSigmoid, HardSwish, LeakyRelu, Elu, Relu, Clip, PRelu
                 // with one slope: a 256-entry table from the input's 8-bit code to the output's
  kPassThrough,  // data movement and max selection: the output keeps the input's scale
  kConcat,       // one shared output scale; inputs requantized to it unless unified
  kImageInput,   // Cast of a uint8 image input: becomes DequantizeLinear(scale 1, zp 0)
};

const char* quant_kind_name(QuantKind k);

// ReduceMean / ReduceMax over exactly H and W of a 4-D input: global average / max pooling.
bool reduces_spatial_axes(const Graph& g, const Node& n);

// Every element equal (and at least one).
bool uniform(const Tensor& t);

// The integer form of `node`, or kFloat with what lacks one in *why_float, to follow
// "no integer form for ": "Softmax", "MatMul with a non-constant or non-2-D right-hand
// side", "Resize mode linear (...)". Every other kind has an integer step in lowering
// (quant/lower.cpp) for every node it is returned for.
QuantKind quant_kind(const Graph& g, const Node& node, std::string* why_float);

// Indices of the inputs that carry 8-bit activations for that kind (others — shapes, pads,
// Clip bounds, split sizes — stay as they are). For kWeighted only the activation, input 0:
// the weight and bias inputs are quantized by their own rules.
std::vector<int> data_inputs(const Node& node, QuantKind kind);

// True when every output value of `node` is >= 0 whatever the inputs' values, given which
// inputs are (non_negative[v] per value id of g; constants are checked element by element).
bool output_non_negative(const Graph& g, const Node& node, const std::vector<bool>& non_negative);

}  // namespace qmap
