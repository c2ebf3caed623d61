// The float canonicalization passes run between import and calibration (docs/quantization.md
// "Float passes"). Each pass is a free function that rewrites the graph in place, keeps it
// valid (topological order, unique names, graph input/output names unchanged, shapes
// re-inferred) and keeps its numerics (float results equal up to float32 rounding of the
// folded parameters). Each appends one line per applied rewrite to `log` when given; a pass
// that appends nothing changed nothing. Errors come only from shape inference of the
// rewritten graph (a model the importer accepted does not fail here).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"
#include "passes/graph_edit.h"

namespace qmap {

// Nodes whose inputs are all compile-time constants (initializers, inferred constants;
// Constant nodes) become initializers. A node producing a graph output is kept: the model
// still computes its outputs.
Status fold_constants(Graph& g, PassLog* log = nullptr);

// Identity and inference-mode Dropout (mask output unused) are bypassed. Graph input and
// output names stay: when the removed node produced a graph output, its input's producer
// writes that output instead; when that is impossible (the input is a graph input, a graph
// output, or has other readers) the node stays.
Status remove_identity(Graph& g, PassLog* log = nullptr);

// BatchNormalization (inference form) after a Conv / ConvTranspose / Gemm whose output it
// alone reads is folded into that node's weights and bias. Any other BN on a tensor of rank
// >= 3 becomes a depthwise 1x1 Conv (group = C, W = scale / sqrt(var + eps), B = bias -
// mean * W), which the NPU runs; a BN on a 2-D tensor stays.
Status fold_batchnorm(Graph& g, PassLog* log = nullptr);

// Mul / Add / Sub / Div by a constant that is per output channel (or scalar), applied to the
// output of a Conv / ConvTranspose / Gemm that only it reads, is folded into the weights and
// bias: Caffe's Scale layer arrives as Mul + Add. x - c, c - x, x * c, x + c and x / c
// (c != 0) fold; c / x is not affine and stays.
Status fold_scale_into_conv(Graph& g, PassLog* log = nullptr);

// Pad (constant mode, value 0, non-negative pads on the spatial axes only, constant pads)
// whose output only a Conv or an AveragePool with count_include_pad = 1 and ceil_mode = 0
// reads (auto_pad NOTSET) is merged into that node's pads.
Status fuse_pad_into_conv(Graph& g, PassLog* log = nullptr);

// Flatten(axis 1) / Reshape of a [N, C, 1, 1] tensor to [N, C] followed by Gemm (constant B,
// transA 0, C absent or per column) or MatMul (constant 2-D B) becomes a 1x1 Conv on the 4-D
// tensor followed by a Flatten to the original [N, M] output. A MatMul whose only reader is an
// Add of a per-column constant (an exported Gemm) takes that Add in as the Conv's bias. With spatial dims other than
// 1x1 the pattern is left alone (a Conv would have to cover the whole map). A layer whose
// output is a graph output stays a Gemm (MatMul + bias Add becomes one Gemm), so that the
// quantizer gives it in float from the accumulator instead of requantized to 8 bits.
Status gemm_to_conv(Graph& g, PassLog* log = nullptr);

// Sub(x, c) -> Add(x, -c) and Div(x, c) -> Mul(x, 1 / c) for a float constant c (every
// element nonzero for Div), so the quantizer and later folds see one form.
Status canonicalize_sub_div(Graph& g, PassLog* log = nullptr);

// A Transpose above rank 4 (static input dims) whose permutation keeps runs of adjacent axes
// together, so that at most 4 runs remain, becomes Reshape -> Transpose of the merged axes ->
// Reshape: ShuffleNet's channel shuffle, Reshape [N, g, C/g, H, W] -> Transpose (0, 2, 1, 3, 4)
// -> Reshape [N, C, H, W], becomes a rank-4 Transpose (0, 2, 1, 3) over [N, g, C/g, H*W], which
// a march's rank limit of 4 keeps on the NPU. A Reshape of a rank-5+ Reshape output that only
// it reads then reads the first Reshape's input.
Status reduce_transpose_rank(Graph& g, PassLog* log = nullptr);

// Cross-layer equalization (Nagel et al. 2019): for each Conv A whose output reaches a Conv B
// through single-use values and ops that commute with a positive per-channel scale (Relu,
// LeakyRelu, MaxPool, AveragePool, a Clip without an upper bound), A's output channel i is
// divided by s_i and B's weights of input channel i multiplied by it, s_i = sqrt(r1_i / r2_i)
// for the channel's weight ranges r1_i (A) and r2_i (B), until the scales settle. B is a Conv
// of group 1 or a depthwise one. A Clip with an upper bound (ReLU6) between them ends the
// pair: its bound would become 6 / s_i per channel. The function is unchanged up to float32
// rounding; the int8 weights of B (one scale per output channel) and the activation between
// (one scale per tensor) see balanced channel ranges. One log line per pair.
Status equalize_cross_layer(Graph& g, PassLog* log = nullptr);

struct OptimizeOptions {
  bool fold_constants = true;
  bool remove_identity = true;
  bool canonicalize_sub_div = true;
  bool fuse_pad_into_conv = true;
  bool fold_batchnorm = true;
  bool fold_scale_into_conv = true;
  bool gemm_to_conv = true;
  bool reduce_transpose_rank = true;
  bool equalize_cross_layer = false;  // after the others' fixed point (calibration_parameters.cross_layer_equalization)
  int max_rounds = 16;  // rounds of the whole sequence; stops earlier at a fixed point
};

// Runs the enabled passes in a fixed order (remove_identity, fold_constants,
// canonicalize_sub_div, fuse_pad_into_conv, fold_batchnorm, fold_scale_into_conv,
// gemm_to_conv, reduce_transpose_rank) and repeats the sequence until a round rewrites nothing, then
// equalize_cross_layer when enabled. Appends every rewrite's log line to `log_lines` when given.
Status optimize_graph(Graph& g, const OptimizeOptions& opts, std::vector<std::string>* log_lines);

}  // namespace qmap
