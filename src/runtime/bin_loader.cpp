// load_model_bin: the .bin -> Model step: the program layer's reader (program/bin_reader.h,
// read_bin: checks every byte it hands over, and every step through check_step) then
// model_from_program with each input's runtime color type and layout from the metadata, and the
// file's memory plan when it stores one (checked, not trusted). Custom steps are bound to the
// loaded plugins' ops first (the .bin names them; it never holds their code).
#include <algorithm>
#include <limits>
#include <optional>

#include "program/bin_reader.h"
#include "runtime/prepack.h"
#include "runtime/model_impl.h"

namespace qmap::rt {

namespace {

// Whether prepare will pack convolution weights on `isa`: it has fast kernels and the file
// holds no packed weights for it.
bool packs_at_load(const IntProgram& p, kernels::Isa isa) {
  if (isa == kernels::Isa::kRef) return false;
  bool conv = false;
  for (size_t si = 0; si < p.steps.size() && !conv; ++si) conv = p.steps[si].conv_weights() != nullptr;
  if (!conv) return false;
  return std::none_of(p.packed.begin(), p.packed.end(), [&](const PackedWeights& pw) { return packed_for(pw, isa); });
}

}  // namespace

Result<Model> load_model_bin(std::span<const std::byte> bytes, const std::string& name, kernels::Isa isa,
                             const CustomOpSet& custom_ops, std::shared_ptr<std::byte[]> owner, bool check_weights,
                             const std::function<Result<FileBytes>()>& copy_instead) {
  QMAP_ASSIGN_OR_RETURN(LoadedBin bin, read_bin(bytes, name, std::move(owner), BinReadOptions{.check_payload = check_weights}));
  if (copy_instead && packs_at_load(bin.program, isa)) {
    // The kernels will read every weight to pack it: one read of the file into memory costs
    // less than faulting the mapping in page by page (ResNet-50: 18 ms against 35 ms).
    QMAP_ASSIGN_OR_RETURN(FileBytes copy, copy_instead());
    return load_model_bin(copy.span(), name, isa, custom_ops, copy.data, check_weights);
  }
  QMAP_RETURN_IF_ERROR(resolve_custom_ops(bin.program, custom_ops, name));
  std::vector<InputFormat> formats;
  for (const BinInputSpec& s : bin.metadata.inputs) formats.push_back(input_format_of(s.type_rt, s.layout_rt));
  std::optional<StoredMemoryPlan> plan;
  if (const auto& fp = bin.metadata.memory_plan) {
    constexpr uint64_t kMax = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
    if (fp->arena_bytes > kMax)
      return error("runtime: '{}': memory plan arena of {} bytes: too large", name, fp->arena_bytes);
    plan = StoredMemoryPlan{static_cast<int64_t>(fp->arena_bytes), {}};
    for (uint64_t off : fp->offsets) {
      if (off != binfmt::kNotInArena && off > kMax)
        return error("runtime: '{}': memory plan offset {}: outside any arena", name, off);
      plan->offsets.push_back(off == binfmt::kNotInArena ? -1 : static_cast<int64_t>(off));
    }
  }
  // The reader ran the step validator: prepare takes its verdicts instead of running it again.
  return model_from_program(std::move(bin.program), formats, name, plan ? &*plan : nullptr,
                            std::move(bin.metadata.yaml_text), isa, &bin.outputs_fixed);
}

}  // namespace qmap::rt
