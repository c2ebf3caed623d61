// The YAML's model_parameters.output_nodes and remove_node_type (docs/yaml.md): edits of the
// model's input/output boundary made before the float passes.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"

namespace qmap {

// Makes each named tensor a graph output in addition to the model's outputs, in list order
// (already-listed outputs are skipped). A name is looked up first as a node name (all of that
// node's outputs are added) and then as a value name. Errors: "output_nodes: no node or
// value named 'x'"; a constant value cannot be an output.
Status set_output_nodes(Graph& g, const std::vector<std::string>& names);

// hb_mapper's remove_node_type (and hb_model_modifier --all): deletes nodes of the listed
// types that sit right at the model's boundary, so the application does that step itself.
//   at an input:  Transpose, Quantize (QuantizeLinear), Cast, Reshape - the node reads a graph
//                 input that nothing else reads (one path from the input) and otherwise only
//                 constants; the node's output becomes the graph input (new dtype/shape,
//                 the input's name);
//   at an output: Transpose, Dequantize (DequantizeLinear), Cast, Reshape, Softmax - the
//                 node produces a graph output and its data input is read by nothing else and
//                 is not a graph input or output; that input becomes the graph output (the
//                 output's name).
// Removal repeats until nothing at the boundary matches, so Cast -> Transpose at an input both
// go when both types are listed (hb: "deleted in order, updating the model as it goes").
// Nodes of a listed type elsewhere stay. Appends the removed node names to `removed`.
// A type outside the lists above is an error naming it and the allowed types.
Status remove_node_types(Graph& g, const std::vector<std::string>& op_types,
                         std::vector<std::string>* removed);

}  // namespace qmap
