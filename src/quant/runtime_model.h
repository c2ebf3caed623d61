// A runtime Model (include/qmap/runtime.h) built in memory from a QDQ graph: lower_qdq_graph,
// then the runtime's own preparation, with each input's runtime color type and layout taken
// from the makertbin YAML stored in the graph's metadata ("qmap_makertbin_yaml"; without it
// every input is a featuremap). The same Model a .bin of that graph loads as, without the
// file: `qmap verify` without --bin, tests, and sessions that want the runtime's code path.
// Its kernels are the ones a .bin would load with (QMAP_ISA, else the best the CPU has).
#pragma once

#include <string>

#include "core/status.h"
#include "ir/graph.h"
#include "qmap/runtime.h"

namespace qmap {

Result<rt::Model> runtime_model_from_qdq_graph(const Graph& qdq, const std::string& name);

}  // namespace qmap
