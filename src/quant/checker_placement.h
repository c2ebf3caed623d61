// The placement `qmap checker` prints: makertbin's, projected onto the imported graph.
//
// makertbin places the nodes of the optimized float graph (plan_placement: the march's rules,
// then every NPU node without an integer form moved to the CPU). The checker shows the graph
// the user gave, so each imported node takes the placement of what it became:
//   - the optimized node of the same name (most nodes);
//   - else the optimized node that now writes one of its outputs (a BatchNormalization or a
//     Mul folded into the Conv before it);
//   - else an optimized node of the same name among its consumers (a Pad merged into the
//     Conv that reads it);
//   - else the march's rule for it alone.
// Folded and removed nodes stay as place_graph says; the subgraphs are split again on the
// imported graph with these placements.
#pragma once

#include "core/status.h"
#include "ir/graph.h"
#include "target/placement.h"
#include "target/target_spec.h"

namespace qmap {

// Errors: the float passes failing on the graph (an importer bug), or ops the march supports
// nowhere (callers list those from place_graph first).
Result<GraphPlacement> checker_placement(const Graph& imported, const TargetSpec& spec);

}  // namespace qmap
