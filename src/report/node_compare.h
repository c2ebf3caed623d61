// Per-node comparison of a quantized model's integer simulation with the float model: the
// node table makertbin prints (hb_mapper's "Cosine Similarity" column) and the cumulative
// error `qmap debug` charts. Each float value is found in the QDQ graph through the
// quantizer's value_map; a fused group (Conv + Relu) produces one integer tensor after its
// last node, so every member reports that tensor's cosine (the head's own float output
// never exists in integer).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"
#include "quant/quantize.h"
#include "report/compare.h"
#include "report/text_table.h"

namespace qmap {

// t as float32 (a copy cast from int32/8-bit dtypes; the same tensor when already float32).
Tensor as_float(const Tensor& t);

// Cosine of the float graph's value `name` against its integer simulation, found through the
// quantizer's value_map; nullopt when either side does not hold it as a comparable tensor.
std::optional<double> value_cosine(const std::map<std::string, Tensor>& float_values,
                                   const std::map<std::string, Tensor>& int_values,
                                   const std::map<std::string, std::string>& value_map, const std::string& name);

struct NodeCosine {
  std::string name, op_type;
  Placement where = Placement::kCpu;
  int subgraph = -1;
  std::string value;               // the float value compared (the fused group's output)
  std::optional<double> cosine;    // mean over the samples; nullopt: not comparable
  std::optional<float> threshold;  // the quantized output's threshold; nullopt: not quantized
};

struct OutputDistance {
  std::string name;
  TensorDistance distance;  // each field the mean over the samples
};

struct NodeComparison {
  std::vector<NodeCosine> nodes;  // QuantizedModel::nodes order (the float graph's)
  std::vector<OutputDistance> outputs;
};

// Runs `optimized` in the FloatEngine and quantized.graph in the IntSimulator (reference
// kernels) over `samples` (at least one) and compares every node's output and every graph
// output. quantized.value_map and .nodes must describe quantized.graph.
Result<NodeComparison> compare_nodes(const Graph& optimized, const QuantizedModel& quantized,
                                     const std::vector<std::vector<Tensor>>& samples);

// makertbin's two tables: {Node, ON, Subgraph, Type, Cosine Similarity, Threshold} and
// {Output, Cosine Similarity, L1/L2/Chebyshev Distance}, header row first.
std::vector<TextRow> node_table_rows(const NodeComparison& c);
std::vector<TextRow> output_table_rows(const NodeComparison& c);

}  // namespace qmap
