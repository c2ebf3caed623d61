// makertbin's `.bin` output: lower the quantized (QDQ) graph, serialize it with the
// conversion's metadata, write `<prefix>.bin` atomically. Toolchain side (needs the
// lowering and the YAML config); the runtime only needs bin_reader.h.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "config/makertbin_config.h"
#include "core/status.h"
#include "program/bin_format.h"
#include "ir/graph.h"
#include "kernels/isa.h"

namespace qmap {

// The metadata makertbin stores: this qmap's version, the march, the YAML verbatim, each
// input's runtime and training type/layout/range/shape, and the nodes remove_node_type
// deleted. `cfg.inputs` must carry the model's input names (makertbin completes them).
BinMetadata makertbin_bin_metadata(const MakertbinConfig& cfg, const std::vector<std::string>& removed_nodes);

struct BinStats {
  std::map<std::string, uint64_t> packed_bytes;  // ISA name -> bytes of its packed weights
};

// lower_qdq_graph -> serialize_bin -> write_file_atomic. Input specs are matched to the
// program's inputs by name (the .bin lists them in the graph's order); an input without a
// spec is an error naming it. Errors from lowering keep their "lower: ..." text. `prepack`:
// the ISAs (this CPU's) whose packed convolution weights the file stores (PACKED section).
Result<BinStats> write_model_bin(const Graph& qdq_graph, const BinMetadata& metadata, const std::string& path,
                                 const std::vector<kernels::Isa>& prepack = {});

// Whether the tools should read `path` as a .bin: the .bin extension, or the file starts with
// the .bin magic (`qmap info`, `qmap perf`; anything else is read as ONNX).
bool looks_like_bin(const std::string& path);

}  // namespace qmap
