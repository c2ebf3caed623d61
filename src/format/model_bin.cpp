// makertbin's .bin output (see model_bin.h).
#include "format/model_bin.h"

#include <algorithm>
#include <cstring>
#include <fstream>

#include "format/bin_writer.h"
#include "quant/lower.h"
#include "runtime/memory_plan.h"
#include "runtime/prepack.h"

namespace qmap {

BinMetadata makertbin_bin_metadata(const MakertbinConfig& cfg, const std::vector<std::string>& removed_nodes) {
  BinMetadata m;
  m.qmap_version = QMAP_VERSION_STRING;
  m.march = cfg.model.march;
  m.yaml_text = cfg.yaml_text;
  m.created_by = "qmap makertbin";
  m.removed_nodes = removed_nodes;
  for (const InputSpec& s : cfg.inputs)
    m.inputs.push_back({s.name, s.type_rt, s.layout_rt, s.range, s.type_train, s.layout_train, s.shape});
  return m;
}

Result<BinStats> write_model_bin(const Graph& qdq_graph, const BinMetadata& metadata, const std::string& path,
                                 const std::vector<kernels::Isa>& prepack) {
  QMAP_ASSIGN_OR_RETURN(IntProgram program, lower_qdq_graph(qdq_graph));
  BinStats stats;
  for (kernels::Isa isa : prepack) {
    for (PackedWeights& pw : rt::prepack_conv_weights(program, isa)) {
      stats.packed_bytes[kernels::isa_name(isa)] += pw.bytes.size();
      program.packed.push_back(std::move(pw));
    }
  }
  BinMetadata m = metadata;
  if (!m.inputs.empty()) {
    m.inputs.clear();
    for (int32_t t : program.inputs) {
      const std::string& name = program.tensors[static_cast<size_t>(t)].name;
      auto it = std::find_if(metadata.inputs.begin(), metadata.inputs.end(),
                             [&](const BinInputSpec& s) { return s.name == name; });
      if (it == metadata.inputs.end())
        return error("makertbin: writing '{}': model input '{}' has no input_parameters entry", path, name);
      m.inputs.push_back(*it);
    }
  }
  // The arena plan, computed here once (offline): the runtime checks and adopts it at load.
  QMAP_ASSIGN_OR_RETURN(rt::MemoryPlan plan, rt::plan_memory(program));
  BinMemoryPlan stored;
  stored.arena_bytes = static_cast<uint64_t>(plan.arena_bytes);
  for (int64_t off : plan.offset) stored.offsets.push_back(off < 0 ? binfmt::kNotInArena : static_cast<uint64_t>(off));
  m.memory_plan = std::move(stored);
  QMAP_RETURN_IF_ERROR(write_bin(path, program, m));
  return stats;
}

bool looks_like_bin(const std::string& path) {
  if (path.size() >= 4 && path.compare(path.size() - 4, 4, ".bin") == 0) return true;
  char magic[sizeof binfmt::kMagic] = {};
  std::ifstream f(path, std::ios::binary);
  return f.read(magic, sizeof magic) && std::memcmp(magic, binfmt::kMagic, sizeof magic) == 0;
}

}  // namespace qmap
