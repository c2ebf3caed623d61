// Shape and dtype inference over a whole graph, calling each op's `infer` in node order.
// Values whose contents can be known without running the graph (initializers, Shape of a
// static tensor, and any node whose inputs are all known and small) get Value::constant.
#pragma once

#include "core/status.h"
#include "ir/graph.h"

namespace qmap {

// Fills dtype/dims of every node output. Errors name the node: "shape inference: ...".
// With require_static (the default: the NPU toolchain needs every shape), a value whose
// shape depends on run-time data is an error; without it such values keep unknown dims
// and the float engine infers them while running.
Status infer_shapes(Graph& graph, bool require_static = true);

// Infers (and, when its inputs are known and small, folds) the single node
// graph.nodes[node_index] from its inputs' current dtype/dims/constants. Importers that need
// shapes while they build the graph (Caffe's layer parameters depend on them) call it per
// node; infer_shapes is this over every node plus the final every-shape-known check.
Status infer_node(Graph& graph, size_t node_index);

}  // namespace qmap
