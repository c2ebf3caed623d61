// The quantizer: the optimized float graph plus per-value thresholds become a standard QDQ
// ONNX graph (opset 17) that ONNX Runtime runs unchanged and that the integer simulator
// lowers to integer steps. It follows the quantization contract of docs/quantization.md
// ("Quantization"): 8-bit symmetric activations (uint8 with scale T/255 where the graph
// proves the tensor non-negative, else int8 with scale T/127; int16 with scale T/32767 for the
// units QuantizeOptions::int16_outputs names), int8 symmetric weights per
// output channel (or per tensor), int32 biases at scale s_x * s_w[c], fused
// Conv/Gemm/MatMul(+Relu/Clip) and Add(+Relu) groups without Q/DQ inside, pass-through ops
// keeping their input's scale, high-precision Conv/Gemm/MatMul graph outputs, CPU ops in
// float with DQ/Q at the borders, and the uint8 image input read by DequantizeLinear(1, 0).
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"
#include "quant/quantize_params.h"
#include "quant/quantize_rules.h"
#include "target/placement.h"
#include "target/target_spec.h"

namespace qmap {

struct QuantizeOptions {
  bool per_channel = true;            // false: one weight scale per tensor (max|W| / 127)
  std::set<std::string> run_on_cpu;   // node names forced to the CPU (float)
  // Node names forced to the NPU even where the march says CPU; each must have an integer
  // form here (else an error names it).
  std::set<std::string> run_on_npu;
  // Placement via place_graph; nullptr: every node that has an integer form is NPU, every
  // other node CPU.
  const TargetSpec* target = nullptr;
  // Quantization units (a node, or a fused group named by its head or tail) whose output
  // activation is int16 instead of 8-bit: symmetric, zero point 0, scale T/32767 (the
  // higher-precision form of docs/quantization.md). Each NPU one must be int16-capable
  // (QuantNodeInfo::int16_capable), else an error names the node and what stops it; one the
  // placement puts on the CPU runs in float and is left alone.
  std::set<std::string> int16_outputs;
  // Optional thresholds of int16 outputs by value name (makertbin gives max |v| over the
  // calibration data: 16 bits need not clip); a value without one keeps its calibrated
  // threshold, and neither is ever lowered.
  std::map<std::string, float> int16_thresholds;
  // Optional: quantized weights kept between calls (quantize_params.h). The result is the same
  // with or without it; a search that quantizes one graph many times sets one.
  std::shared_ptr<WeightQuantCache> weight_cache;
};

// One per node of the float graph, in its order: the rows of makertbin's node table.
struct QuantNodeInfo {
  std::string name, op_type;
  Placement where = Placement::kCpu;  // after run_on_cpu / run_on_npu
  int subgraph = -1;
  std::string reason;                 // placement's note (why CPU), may be empty
  std::string group;                  // the fused group's head node ("" if none)
  // Threshold (float units) of the node's first output as quantized; for a fused group's
  // members that of the group's output. NaN when that output is not quantized (float on the
  // CPU, high-precision int32 output).
  float threshold = 0;
  std::string value;                  // the value `threshold` is of ("" when NaN)
  bool output_unsigned = false;       // uint8 (scale T/255) rather than int8 (T/127)
  bool output_int16 = false;          // int16 (scale T/32767): named in int16_outputs
  // Whether int16_outputs may name this node's unit: an NPU Conv/Gemm/MatMul or Add (or the
  // group it heads) whose requantized output only NPU Conv/Gemm/MatMul data inputs, NPU Adds,
  // CPU ops and graph outputs read.
  bool int16_capable = false;
};

struct QuantizedModel {
  Graph graph;
  // Every non-constant value of the float graph -> the QDQ-graph value holding its
  // dequantized float value (itself when it stays float or is a graph input/output).
  std::map<std::string, std::string> value_map;
  std::vector<QuantNodeInfo> nodes;
  int num_subgraphs = 0;
};

// Where each node of the optimized float graph runs once quantized: the march's placement
// (place_graph; every op with an integer form without a march) with run_on_cpu /
// run_on_npu applied, the uint8 image input's Cast on the NPU, and every NPU node without an
// integer form (quant_kind) moved to the CPU with "no integer form for <why>". The one
// source of placement: makertbin quantizes with it and `qmap checker` prints it. Needs no
// thresholds. Errors: unknown run_on_* names, run_on_npu without an integer form, ops the
// march supports nowhere.
struct QuantPlacement {
  GraphPlacement placement;
  std::vector<QuantKind> kind;  // per node; kFloat unless placed on the NPU
};
Result<QuantPlacement> plan_placement(const Graph& optimized_float_graph, const QuantizeOptions& opts);

// Errors name the node: "quantize: Conv 'conv1': no threshold for input 'x'". The result
// passes verify_graph and infer_shapes; the same inputs give the same graph, byte for byte.
Result<QuantizedModel> quantize_graph(const Graph& optimized_float_graph,
                                      const std::map<std::string, float>& thresholds,
                                      const QuantizeOptions& opts);

}  // namespace qmap
