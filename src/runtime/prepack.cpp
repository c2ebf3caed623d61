// prepack_conv_weights and find_packed_weights (prepack.h).
#include "runtime/prepack.h"

#include <string_view>

#include "kernels/qconv_kernel.h"

namespace qmap::rt {

std::vector<PackedWeights> prepack_conv_weights(const IntProgram& p, kernels::Isa isa) {
  std::vector<PackedWeights> out;
  for (size_t si = 0; si < p.steps.size(); ++si) {
    if (p.steps[si].conv_weights() == nullptr) continue;
    const std::unique_ptr<kernels::QConvKernel> k = kernels::make_qconv(isa, conv_kernel_params(p, p.steps[si]));
    if (!k) continue;
    const kernels::QConvPacked packed = k->packed();
    if (packed.layout.empty()) continue;
    out.push_back(PackedWeights{static_cast<int32_t>(si), std::string(packed.layout),
                                std::vector<std::byte>(packed.weights.begin(), packed.weights.end()),
                                std::vector<int64_t>(packed.row_sums.begin(), packed.row_sums.end())});
  }
  return out;
}

bool packed_for(const PackedWeights& pw, kernels::Isa isa) {
  const std::string_view name = kernels::isa_name(isa);
  return pw.layout.size() > name.size() && pw.layout.starts_with(name) && pw.layout[name.size()] == '.';
}

const PackedWeights* find_packed_weights(const IntProgram& p, size_t step, kernels::Isa isa) {
  for (const PackedWeights& pw : p.packed)
    if (pw.step == static_cast<int32_t>(step) && packed_for(pw, isa)) return &pw;
  return nullptr;
}

}  // namespace qmap::rt
