// Structural verifier for the IR, run after import and after every pass in tests and
// debug builds: topological order, one producer per value, input/output counts and
// attribute names/types against each op's definition.
#pragma once

#include "core/status.h"
#include "ir/graph.h"

namespace qmap {

// Checks that the node's attributes match its op's AttrSpec list (names, types, required).
Status validate_attributes(const Node& node);

Status verify_graph(const Graph& graph);

}  // namespace qmap
