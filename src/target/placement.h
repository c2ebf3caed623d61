// Placement: where each node of an imported graph runs on a march, and the split of the
// NPU nodes into subgraphs.
//
//   NPU      the op is an NPU op of the march and every limit holds;
//   CPU      a CPU-only op, or an NPU op with a failed limit (the reason says which);
//   folded   every output is a compile-time constant (Value::constant, set by shape
//            inference for Shape -> Gather -> Concat chains and constant inputs): the
//            compiler replaces the node by its value, nothing runs;
//   removed  Identity and Dropout (inference): canonicalization deletes them, their
//            consumers read the input directly;
//   unsupported  an op the march lists neither as NPU nor as CPU: the model cannot run.
//
// Subgraphs: NPU nodes are grouped so that the graph of subgraphs and CPU nodes stays
// acyclic — an NPU node joins a subgraph only if no path from that subgraph to it leaves
// the subgraph (through a CPU node or another subgraph). Folded nodes carry no runtime
// edge; removed nodes are transparent. Subgraphs are numbered in a topological order of
// that graph (ties broken by the first node's position), so id(0) runs first.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"
#include "target/target_spec.h"

namespace qmap {

enum class Placement { kNpu, kCpu, kFolded, kRemoved, kUnsupported };
const char* placement_name(Placement p);  // "NPU", "CPU", "folded", "removed", "unsupported"

struct NodePlacement {
  Placement where = Placement::kCpu;
  int subgraph = -1;   // NPU nodes: 0-based subgraph id; -1 otherwise
  std::string reason;  // CPU fallback of an NPU op: the first failed limit; otherwise a note
};

struct GraphPlacement {
  std::vector<NodePlacement> nodes;   // one per graph node, same order
  int num_subgraphs = 0;
  std::vector<std::string> unsupported_ops;  // op types placed kUnsupported, sorted, unique

  int count(Placement p) const;
};

// The parameters a node exposes to limits: the op's own (OpDef::npu_params) followed by the
// generic ones (rank, tensor_elements and dtype of each non-constant input and output,
// dynamic_inputs). Reads shapes and constants from the graph's values.
OpParams node_params(const Graph& graph, const Node& node);

// The reason an NPU op cannot run on the NPU (the first failed limit), or nullopt.
std::optional<std::string> npu_reject_reason(const TargetSpec& spec, const NpuOpRule& rule,
                                             const OpParams& params);

struct PlacementOptions {
  // Computes a node's parameters; node_params when empty. Tests inject parameters here to
  // exercise limits on hand-built graphs without depending on each op's npu_params hook.
  std::function<OpParams(const Graph&, const Node&)> params;
  // Placements forced by node name (makertbin's run_on_cpu / run_on_npu, and the quantizer
  // moving to the CPU an NPU node it has no integer form for). Applied after the march's
  // rules and before the subgraph split, so subgraphs follow the forced placement; `where`
  // and `reason` are taken, `subgraph` is ignored. Folded nodes are not forced; removed ones
  // are (the checker shows an Identity the passes kept where it runs).
  std::map<std::string, NodePlacement> forced;
  // The graph went through the float passes: an Identity or Dropout still in it could not be
  // bypassed (it connects a graph input or output whose name must stay) and runs, as a copy
  // on the CPU, instead of being "removed".
  bool canonicalized = false;
};

// Places every node and splits the NPU nodes into subgraphs. Never fails on a graph the
// importer accepted; unsupported ops are reported in the result, not as an error, so the
// caller can name all of them at once.
GraphPlacement place_graph(const Graph& graph, const TargetSpec& spec, const PlacementOptions& options = {});

}  // namespace qmap
