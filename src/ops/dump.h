// Readable text dump of the IR (`qmap info --ir`), also the form pass tests compare.
//
//   graph 'name' opset 17
//   input  %x: float32[1x3x8x8]
//   const  %w: float32[4x3x3x3]
//   %y: float32[1x4x8x8] = Conv 'conv1' (%x, %w) {group=1, pads=[1,1,1,1]}
//   output %y
#pragma once

#include <string>

#include "ir/graph.h"

namespace qmap {

std::string dump_graph(const Graph& graph);

}  // namespace qmap
