// The `.bin` model file (docs/format.md): the layout constants shared by the writer
// (bin_writer.h) and the reader (bin_reader.h), the metadata a .bin carries besides the
// IntProgram, and the NPU/CPU placement of steps.
//
// Everything here is runtime-capable: it depends on core/, ir/ types and the IntProgram
// structs only (no protobuf, YAML or ONNX), so the runtime library can link it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/color_format.h"
#include "program/int_program.h"

namespace qmap::binfmt {

// ---- File layout (all integers little-endian, fixed width; docs/format.md §2) ----
inline constexpr char kMagic[8] = {'Q', 'M', 'A', 'P', 'B', 'I', 'N', '\0'};
// v4: each step stores its kind's own parameters (program/step_params.h, docs/format.md §4)
// where v1-v3 stored every kind's fields for every step. v5: step kind 13, channel_lut. A
// reader reads kMinFormatVersion..kFormatVersion (a v4 file is a v5 file without the new
// kind); v1-v3 files are refused with a message that says to rebuild them (docs/format.md §4
// lists the history). v6: the optional PACKED section (fast kernels' packed weights), BLOBS
// last, and two checksums: the structure's (everything before BLOBS), which every read
// checks, and the payload's (BLOBS), which a load may skip (ReadOptions::check_payload).
// v7: step kind 14, add_q15 (a v6 file is a v7 file without it). v8: the MEMORY_PLAN may put an
// element-wise step's output at its input's offset (in place, runtime/memory_plan.h), which a
// v7 runtime's plan check refuses; a v7 file is a v8 file whose plan has no in-place output.
inline constexpr uint32_t kFormatVersion = 8;
inline constexpr uint32_t kMinFormatVersion = 4;
inline constexpr uint32_t kHeaderSize = 64;     // bytes
inline constexpr uint32_t kSectionEntrySize = 24;  // bytes per section table entry
inline constexpr uint64_t kAlignment = 64;      // sections and blobs start on 64-byte boundaries

// Header field offsets (bytes from the start of the file).
inline constexpr size_t kOffMagic = 0;
inline constexpr size_t kOffVersion = 8;
inline constexpr size_t kOffFlags = 12;
inline constexpr size_t kOffFileSize = 16;
inline constexpr size_t kOffHeaderSize = 24;
inline constexpr size_t kOffSectionCount = 28;
inline constexpr size_t kOffSectionTable = 32;
inline constexpr size_t kOffChecksum = 40;
inline constexpr size_t kOffPayloadChecksum = 48;  // v6

// Section types (stable: files store them).
enum class SectionType : uint32_t {
  kMetadata = 1,
  kIo = 2,
  kTensors = 3,
  kSteps = 4,
  kBlobs = 5,
  kPlacement = 6,
  kMemoryPlan = 7,  // optional
  kPacked = 8,      // optional, v6
};
// The section types of a file of format `version` (1..this).
uint32_t max_section_type(uint32_t version);
// The first format version whose files may hold step kind `kind` (channel_lut came with v5).
uint32_t step_kind_since(uint16_t kind);
const char* section_name(uint32_t type);  // "METADATA", ...; "?" when unknown

// Attribute value type codes (stable; AttrType order is not part of the file format).
enum class AttrCode : uint8_t { kInt = 1, kFloat = 2, kString = 3, kInts = 4, kFloats = 5, kStrings = 6, kTensor = 7 };

// Stable codes of the input-spec enums (the C++ enums' values are not a file format).
uint32_t color_type_code(ColorType t);  // rgb 1, bgr 2, yuv444 3, nv12 4, gray 5, featuremap 6
std::optional<ColorType> color_type_from_code(uint32_t c);
uint32_t layout_code(Layout l);  // NCHW 1, NHWC 2
std::optional<Layout> layout_from_code(uint32_t c);
uint32_t color_range_code(ColorRange r);  // regular 1, bt601_video 2
std::optional<ColorRange> color_range_from_code(uint32_t c);

// The checksum of the header (docs/format.md §2): XXH64 with seed 0 (four independent 64-bit
// lanes over 32-byte stripes, about 10 GB/s). v4 and v5 hash everything after the header.
uint64_t xxh64(std::span<const std::byte> bytes, uint64_t seed = 0);
// The two v6 checksums of a whole file whose BLOBS section starts at blobs_at: the structure's,
// XXH64 of bytes [64, blobs_at), and the payload's, XXH64 of bytes [blobs_at, end).
struct FileChecksums {
  uint64_t structure = 0, payload = 0;
};
FileChecksums file_checksums(std::span<const std::byte> file, uint64_t blobs_at);

// Kept in the memory plan for tensors that live outside the arena (inputs, outputs, constants).
inline constexpr uint64_t kNotInArena = UINT64_MAX;

}  // namespace qmap::binfmt

namespace qmap {

// How one model input is fed at run time (input_parameters of the YAML it was built with).
struct BinInputSpec {
  std::string name;  // the program input tensor's name
  ColorType type_rt = ColorType::kFeaturemap;
  Layout layout_rt = Layout::kNCHW;
  ColorRange range = ColorRange::kRegular;
  ColorType type_train = ColorType::kFeaturemap;
  Layout layout_train = Layout::kNCHW;
  Dims shape;  // input_shape in layout_train as the YAML gave it (may be empty)
};

// Optional offline memory plan: every intermediate tensor's byte offset in one arena.
struct BinMemoryPlan {
  uint64_t arena_bytes = 0;
  std::vector<uint64_t> offsets;  // per program tensor; binfmt::kNotInArena outside the arena
};

struct BinMetadata {
  std::string qmap_version;
  std::string march;
  std::string yaml_text;  // the makertbin YAML, verbatim
  std::string created_by;  // e.g. "qmap makertbin"; no timestamp, so builds are byte-identical
  // One per program input, in order. Empty when writing: featuremap specs named after the
  // input tensors are stored.
  std::vector<BinInputSpec> inputs;
  std::vector<std::string> removed_nodes;  // nodes remove_node_type deleted, in order
  std::optional<BinMemoryPlan> memory_plan;
};

// NPU/CPU placement of a step: float steps run on the CPU, every other kind on the NPU.
// Consecutive steps on the same device form one subgraph; subgraphs are numbered from 0 in
// execution order (NPU and CPU share the numbering).
struct StepPlacement {
  bool cpu = false;
  int32_t subgraph = 0;
};
std::vector<StepPlacement> step_placement(const IntProgram& p);

struct PlacementSummary {
  int npu_subgraphs = 0;
  int cpu_subgraphs = 0;
};
PlacementSummary summarize_placement(const std::vector<StepPlacement>& placement);

}  // namespace qmap
