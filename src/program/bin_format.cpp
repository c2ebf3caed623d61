// .bin layout helpers: section names, stable enum codes, the checksum and step placement.
#include "program/bin_format.h"

namespace qmap::binfmt {

const char* section_name(uint32_t type) {
  switch (type) {
    case 1: return "METADATA";
    case 2: return "IO";
    case 3: return "TENSORS";
    case 4: return "STEPS";
    case 5: return "BLOBS";
    case 6: return "PLACEMENT";
    case 7: return "MEMORY_PLAN";
    default: return "?";
  }
}

namespace {
// code = index + 1, so 0 is never a valid code (a zeroed field is caught).
constexpr ColorType kColorTypes[] = {ColorType::kRgb,  ColorType::kBgr,  ColorType::kYuv444,
                                     ColorType::kNv12, ColorType::kGray, ColorType::kFeaturemap};
constexpr Layout kLayouts[] = {Layout::kNCHW, Layout::kNHWC};
constexpr ColorRange kRanges[] = {ColorRange::kRegular, ColorRange::kBt601Video};

template <typename E, size_t N>
uint32_t code_of(const E (&table)[N], E v) {
  for (size_t i = 0; i < N; ++i)
    if (table[i] == v) return static_cast<uint32_t>(i + 1);
  QMAP_CHECK(false, "enum value {} has no .bin code", static_cast<int>(v));
  return 0;
}
template <typename E, size_t N>
std::optional<E> from_code(const E (&table)[N], uint32_t c) {
  if (c == 0 || c > N) return std::nullopt;
  return table[c - 1];
}
}  // namespace

uint32_t color_type_code(ColorType t) { return code_of(kColorTypes, t); }
std::optional<ColorType> color_type_from_code(uint32_t c) { return from_code(kColorTypes, c); }
uint32_t layout_code(Layout l) { return code_of(kLayouts, l); }
std::optional<Layout> layout_from_code(uint32_t c) { return from_code(kLayouts, c); }
uint32_t color_range_code(ColorRange r) { return code_of(kRanges, r); }
std::optional<ColorRange> color_range_from_code(uint32_t c) { return from_code(kRanges, c); }

uint64_t fnv1a64(std::span<const std::byte> bytes) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (std::byte b : bytes) {
    h ^= static_cast<uint8_t>(b);
    h *= 0x100000001b3ull;
  }
  return h;
}

}  // namespace qmap::binfmt

namespace qmap {

std::vector<StepPlacement> step_placement(const IntProgram& p) {
  std::vector<StepPlacement> out;
  out.reserve(p.steps.size());
  for (const Step& s : p.steps) {
    const bool cpu = s.kind == StepKind::kFloat;
    const int32_t id = out.empty() ? 0 : out.back().subgraph + (out.back().cpu != cpu ? 1 : 0);
    out.push_back({cpu, id});
  }
  return out;
}

PlacementSummary summarize_placement(const std::vector<StepPlacement>& placement) {
  PlacementSummary s;
  for (size_t i = 0; i < placement.size(); ++i) {
    if (i > 0 && placement[i].subgraph == placement[i - 1].subgraph) continue;
    ++(placement[i].cpu ? s.cpu_subgraphs : s.npu_subgraphs);
  }
  return s;
}

}  // namespace qmap
