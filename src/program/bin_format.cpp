// .bin layout helpers: section names, stable enum codes, the checksum and step placement.
#include "program/bin_format.h"

#include <algorithm>
#include <cstring>

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
    case 8: return "PACKED";
    default: return "?";
  }
}

uint32_t max_section_type(uint32_t version) {
  return static_cast<uint32_t>(version >= 6 ? SectionType::kPacked : SectionType::kMemoryPlan);
}

uint32_t step_kind_since(uint16_t kind) {
  if (kind == static_cast<uint16_t>(StepKind::kChannelLut)) return 5;
  if (kind == static_cast<uint16_t>(StepKind::kAddQ15)) return 7;
  return 1;
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

namespace {
// XXH64 (Yann Collet's xxHash, 64-bit variant), written from its specification.
constexpr uint64_t kP1 = 0x9E3779B185EBCA87ull, kP2 = 0xC2B2AE3D27D4EB4Full, kP3 = 0x165667B19E3779F9ull,
                   kP4 = 0x85EBCA77C2B2AE63ull, kP5 = 0x27D4EB2F165667C5ull;
inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
inline uint64_t load64(const std::byte* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);  // little-endian hosts only (the .bin is little-endian throughout)
  return v;
}
inline uint32_t load32(const std::byte* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
inline uint64_t xxh_round(uint64_t acc, uint64_t input) { return rotl(acc + input * kP2, 31) * kP1; }
inline uint64_t xxh_merge(uint64_t h, uint64_t v) { return (h ^ xxh_round(0, v)) * kP1 + kP4; }
}  // namespace

uint64_t xxh64(std::span<const std::byte> bytes, uint64_t seed) {
  const std::byte* p = bytes.data();
  const size_t len = bytes.size();
  const std::byte* const end = p + len;
  uint64_t h;
  if (len >= 32) {
    uint64_t v1 = seed + kP1 + kP2, v2 = seed + kP2, v3 = seed, v4 = seed - kP1;
    for (const std::byte* limit = end - 32; p <= limit; p += 32) {
      v1 = xxh_round(v1, load64(p));
      v2 = xxh_round(v2, load64(p + 8));
      v3 = xxh_round(v3, load64(p + 16));
      v4 = xxh_round(v4, load64(p + 24));
    }
    h = rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18);
    h = xxh_merge(xxh_merge(xxh_merge(xxh_merge(h, v1), v2), v3), v4);
  } else {
    h = seed + kP5;
  }
  h += len;
  for (; p + 8 <= end; p += 8) h = rotl(h ^ xxh_round(0, load64(p)), 27) * kP1 + kP4;
  if (p + 4 <= end) {
    h = rotl(h ^ (uint64_t{load32(p)} * kP1), 23) * kP2 + kP3;
    p += 4;
  }
  for (; p < end; ++p) h = rotl(h ^ (static_cast<uint64_t>(static_cast<uint8_t>(*p)) * kP5), 11) * kP1;
  h ^= h >> 33;
  h *= kP2;
  h ^= h >> 29;
  h *= kP3;
  h ^= h >> 32;
  return h;
}

FileChecksums file_checksums(std::span<const std::byte> file, uint64_t blobs_at) {
  const size_t split = static_cast<size_t>(std::clamp<uint64_t>(blobs_at, kHeaderSize, file.size()));
  return {xxh64(file.subspan(kHeaderSize, split - kHeaderSize)), xxh64(file.subspan(split))};
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
