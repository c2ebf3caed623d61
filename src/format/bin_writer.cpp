// .bin writer: sections are built in memory in file order (METADATA, IO, TENSORS, STEPS,
// PLACEMENT, [MEMORY_PLAN], [PACKED], BLOBS), then laid out after the header and section table
// on 64-byte boundaries, and the two checksums are computed: the structure's (everything
// after the header up to BLOBS) and the payload's (BLOBS, which ends the file).
// Field-by-field encoding is documented in docs/format.md §3.
#include "format/bin_writer.h"

#include <bit>
#include <cstring>
#include <map>
#include <type_traits>

#include "core/file_io.h"

namespace qmap {

static_assert(std::endian::native == std::endian::little,
              "the .bin is little-endian and the writer copies host integers as they are");

namespace {

using binfmt::kAlignment;

uint64_t align_up(uint64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

class ByteWriter {
 public:
  template <typename T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    const size_t at = buf_.size();
    buf_.resize(at + sizeof(T));
    std::memcpy(buf_.data() + at, &v, sizeof(T));
  }
  void u8(uint8_t v) { put(v); }
  void u16(uint16_t v) { put(v); }
  void u32(uint32_t v) { put(v); }
  void u64(uint64_t v) { put(v); }
  void i32(int32_t v) { put(v); }
  void i64(int64_t v) { put(v); }
  void f32(float v) { put(v); }
  void count(size_t n) {
    QMAP_CHECK(n <= UINT32_MAX, "count {} does not fit the .bin's u32", n);
    u32(static_cast<uint32_t>(n));
  }
  void str(const std::string& s) {
    count(s.size());
    buf_.append(s);
  }
  template <typename T>
  void vec(const std::vector<T>& v) {
    count(v.size());
    for (const T& x : v) put(x);
  }
  void dims(const Dims& d) { vec(d); }
  void raw(const void* p, size_t n) { buf_.append(static_cast<const char*>(p), n); }
  void pad_to(uint64_t alignment) { buf_.resize(static_cast<size_t>((buf_.size() + alignment - 1) / alignment * alignment), '\0'); }
  std::string& bytes() { return buf_; }
  const std::string& bytes() const { return buf_; }

 private:
  std::string buf_;
};

// The BLOBS section under construction; references are (offset, size) in bytes relative to
// the section's start, each blob starting on a 64-byte boundary. Empty blobs are (0, 0).
//
// Two areas: everything a load reads (biases, multipliers, tables, constants, row sums) first,
// then the weights (int8 convolution weights and packed weights), which a load only maps: the
// first area's pages are then few and together, and a mapped load faults in little else.
// The weights' offsets start at `weights_at`, the first area's size rounded up to 64, which
// the writer learns from a first pass. That pass (`measure`) copies the first area only, to
// size it; the weights (most of a .bin) are counted, not copied.
class BlobWriter {
 public:
  BlobWriter(uint64_t weights_at, bool measure) : weights_at_(weights_at), measure_(measure) {}
  void ref(ByteWriter& w, const void* p, size_t n, bool weights = false) {
    if (n == 0) {
      w.u64(0);
      w.u64(0);
      return;
    }
    if (weights && measure_) {
      weights_size_ = align_up(weights_size_);
      w.u64(weights_at_ + weights_size_);
      w.u64(n);
      weights_size_ += n;
      return;
    }
    ByteWriter& area = weights ? weights_ : blobs_;
    area.pad_to(kAlignment);
    w.u64((weights ? weights_at_ : 0) + area.bytes().size());
    w.u64(n);
    area.raw(p, n);
  }
  template <typename T>
  void ref(ByteWriter& w, const std::vector<T>& v) { ref(w, v.data(), v.size() * sizeof(T)); }
  template <typename T>
  void ref(ByteWriter& w, const SharedArray<T>& v) {
    ref(w, v.data(), v.size() * sizeof(T), std::is_same_v<T, int8_t> || std::is_same_v<T, std::byte>);
  }
  void tensor(ByteWriter& w, const Tensor& t) {
    w.i32(static_cast<int32_t>(t.dtype()));
    w.dims(t.dims());
    ref(w, t.raw(), t.nbytes());
  }
  // The first area's size rounded up to 64: where the weights start.
  uint64_t weights_at() const { return align_up(blobs_.bytes().size()); }
  // The section: the first area, zeros to weights_at (the offset this writer was made with),
  // the weights.
  std::string take() {
    QMAP_CHECK(!measure_, "BLOBS: a measuring writer has no weights to give");
    if (!weights_.bytes().empty()) {
      QMAP_CHECK(weights_at() == weights_at_, "BLOBS: weights at {}, expected {}", weights_at(), weights_at_);
      blobs_.pad_to(kAlignment);
      blobs_.raw(weights_.bytes().data(), weights_.bytes().size());
    }
    return std::move(blobs_.bytes());
  }

 private:
  uint64_t weights_at_;
  bool measure_;
  uint64_t weights_size_ = 0;  // measure: the weights area's size so far
  ByteWriter blobs_, weights_;
};

void write_metadata(ByteWriter& w, const BinMetadata& m) {
  w.str(m.qmap_version);
  w.str(m.march);
  w.str(m.yaml_text);
  w.str(m.created_by);
  w.count(m.removed_nodes.size());
  for (const std::string& s : m.removed_nodes) w.str(s);
}

void write_io(ByteWriter& w, const IntProgram& p, const std::vector<BinInputSpec>& specs) {
  w.count(p.inputs.size());
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    const BinInputSpec& s = specs[i];
    w.i32(p.inputs[i]);
    w.str(s.name);
    w.u32(binfmt::color_type_code(s.type_rt));
    w.u32(binfmt::layout_code(s.layout_rt));
    w.u32(binfmt::color_range_code(s.range));
    w.u32(binfmt::color_type_code(s.type_train));
    w.u32(binfmt::layout_code(s.layout_train));
    w.dims(s.shape);
  }
  w.vec(p.outputs);
}

void write_tensors(ByteWriter& w, BlobWriter& blobs, const IntProgram& p) {
  w.count(p.tensors.size());
  for (const ProgramTensor& t : p.tensors) {
    w.str(t.name);
    w.i32(static_cast<int32_t>(t.dtype));
    w.dims(t.dims);
    w.u8(t.quant ? 1 : 0);
    w.f32(t.quant ? t.quant->scale : 0.f);
    w.i32(t.quant ? t.quant->zero_point : 0);
    w.u8(t.constant ? 1 : 0);
    if (t.constant) blobs.tensor(w, *t.constant);
  }
  w.count(p.aliases.size());
  for (const auto& [name, t] : p.aliases) {
    w.str(name);
    w.i32(t);
  }
}

void write_attr(ByteWriter& w, BlobWriter& blobs, const AttrValue& v) {
  // AttrValue's alternatives in order: int64, float, string, ints, floats, strings, Tensor.
  w.u8(static_cast<uint8_t>(v.index() + 1));
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, int64_t>) w.i64(x);
        else if constexpr (std::is_same_v<T, float>) w.f32(x);
        else if constexpr (std::is_same_v<T, std::string>) w.str(x);
        else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
          w.count(x.size());
          for (const std::string& s : x) w.str(s);
        } else if constexpr (std::is_same_v<T, Tensor>) blobs.tensor(w, x);
        else w.vec(x);  // ints, floats
      },
      v);
}

// Writes a step's parameters in the order of their description (program/step_params.h).
class StepFieldWriter {
 public:
  StepFieldWriter(ByteWriter& w, BlobWriter& blobs) : w_(w), blobs_(blobs) {}
  template <typename T>
  void field(const char*, const T& x) {
    if constexpr (std::is_same_v<T, bool>) w_.u8(x ? 1 : 0);
    else if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t> || std::is_same_v<T, float>) w_.put(x);
    else if constexpr (std::is_same_v<T, std::string>) w_.str(x);
    else if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<uint8_t>>) w_.vec(x);
    else if constexpr (std::is_same_v<T, std::map<std::string, AttrValue>>) {
      w_.count(x.size());
      for (const auto& [key, v] : x) {
        w_.str(key);
        write_attr(w_, blobs_, v);
      }
    } else static_assert(sizeof(T) == 0, "a field type the .bin does not encode: add it to docs/format.md §4 too");
  }
  template <typename T>
  void blob(const char*, const T& x) { blobs_.ref(w_, x); }

 private:
  ByteWriter& w_;
  BlobWriter& blobs_;
};

void write_steps(ByteWriter& w, BlobWriter& blobs, const IntProgram& p) {
  w.count(p.steps.size());
  for (const Step& s : p.steps) {
    w.u16(static_cast<uint16_t>(s.kind));
    w.u16(static_cast<uint16_t>(s.op));
    w.str(s.node);
    w.str(s.op_type);
    w.vec(s.inputs);
    w.vec(s.outputs);
    QMAP_CHECK(s.params.index() == step_params_index(s.kind), "bin writer: step '{}' ({}) holds another kind's parameters",
               s.node, step_kind_name(s.kind));
    StepFieldWriter fields(w, blobs);
    describe_params(fields, s.params);
  }
}

void write_placement(ByteWriter& w, const IntProgram& p) {
  const std::vector<StepPlacement> pl = step_placement(p);
  w.count(pl.size());
  for (const StepPlacement& s : pl) {
    w.u8(s.cpu ? 1 : 0);
    w.i32(s.subgraph);
  }
}

void write_memory_plan(ByteWriter& w, const BinMemoryPlan& m) {
  w.u64(m.arena_bytes);
  w.vec(m.offsets);
}

void write_packed(ByteWriter& w, BlobWriter& blobs, const IntProgram& p) {
  w.count(p.packed.size());
  for (const PackedWeights& pw : p.packed) {
    w.i32(pw.step);
    w.str(pw.layout);
    blobs.ref(w, pw.bytes);
    blobs.ref(w, pw.row_sums);
  }
}

static_assert(sizeof(QMultiplier) == 8 && std::is_trivially_copyable_v<QMultiplier>);

}  // namespace

Result<std::string> serialize_bin(const IntProgram& p, const BinMetadata& meta) {
  std::vector<BinInputSpec> specs = meta.inputs;
  if (specs.empty()) {
    for (int32_t t : p.inputs) specs.push_back(BinInputSpec{.name = p.tensors.at(static_cast<size_t>(t)).name});
  }
  if (specs.size() != p.inputs.size())
    return error("bin writer: {} input specs for a program with {} inputs", specs.size(), p.inputs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    const std::string& tn = p.tensors.at(static_cast<size_t>(p.inputs[i])).name;
    if (specs[i].name != tn)
      return error("bin writer: input spec {} is named '{}' but program input {} is '{}'", i, specs[i].name, i, tn);
  }
  if (meta.memory_plan && meta.memory_plan->offsets.size() != p.tensors.size())
    return error("bin writer: the memory plan has {} offsets for {} tensors", meta.memory_plan->offsets.size(),
                 p.tensors.size());

  struct Section {
    binfmt::SectionType type;
    ByteWriter w;
  };
  std::vector<Section> sections;
  // Twice: the first pass learns where BLOBS' weights area starts (its BlobWriter measures:
  // the weights are counted, not copied).
  uint64_t weights_at = 0;
  for (int pass = 0; pass < 2; ++pass) {
    sections.clear();
    BlobWriter blobs(weights_at, /*measure=*/pass == 0);
    auto add = [&](binfmt::SectionType t) -> ByteWriter& {
      sections.push_back({t, {}});
      return sections.back().w;
    };
    write_metadata(add(binfmt::SectionType::kMetadata), meta);
    write_io(add(binfmt::SectionType::kIo), p, specs);
    write_tensors(add(binfmt::SectionType::kTensors), blobs, p);
    write_steps(add(binfmt::SectionType::kSteps), blobs, p);
    write_placement(add(binfmt::SectionType::kPlacement), p);
    if (meta.memory_plan) write_memory_plan(add(binfmt::SectionType::kMemoryPlan), *meta.memory_plan);
    if (!p.packed.empty()) write_packed(add(binfmt::SectionType::kPacked), blobs, p);
    if (pass == 0) {
      weights_at = blobs.weights_at();
      continue;
    }
    add(binfmt::SectionType::kBlobs).bytes() = blobs.take();  // last: the payload checksum's bytes
  }

  // Layout: header, section table, then each section on a 64-byte boundary.
  const uint64_t table_at = binfmt::kHeaderSize;
  uint64_t at = align_up(table_at + sections.size() * binfmt::kSectionEntrySize);
  ByteWriter table;
  uint64_t blobs_at = 0;
  for (Section& s : sections) {
    const uint64_t size = s.w.bytes().size();
    if (s.type == binfmt::SectionType::kBlobs) blobs_at = at;
    table.u32(static_cast<uint32_t>(s.type));
    table.u32(0);  // reserved
    table.u64(at);
    table.u64(size);
    at = align_up(at + size);
  }
  ByteWriter body;  // everything after the header
  body.raw(table.bytes().data(), table.bytes().size());
  for (Section& s : sections) {
    body.pad_to(kAlignment);  // body starts at file offset 64, so its alignment is the file's
    body.raw(s.w.bytes().data(), s.w.bytes().size());
  }
  const uint64_t file_size = binfmt::kHeaderSize + body.bytes().size();

  ByteWriter header;
  header.raw(binfmt::kMagic, sizeof binfmt::kMagic);
  header.u32(binfmt::kFormatVersion);
  header.u32(0);  // flags: none defined
  header.u64(file_size);
  header.u32(binfmt::kHeaderSize);
  header.u32(static_cast<uint32_t>(sections.size()));
  header.u64(table_at);
  // Two checksums (docs/format.md §2): the structure, bytes [64, BLOBS), and the payload,
  // bytes [BLOBS, end).
  const auto all = std::as_bytes(std::span(body.bytes().data(), body.bytes().size()));
  const size_t split = static_cast<size_t>(blobs_at - binfmt::kHeaderSize);
  header.u64(binfmt::xxh64(all.first(split)));    // = file_checksums(file, blobs_at).structure
  header.u64(binfmt::xxh64(all.subspan(split)));  // .payload
  header.pad_to(binfmt::kHeaderSize);
  QMAP_CHECK(header.bytes().size() == binfmt::kHeaderSize, "header is {} bytes", header.bytes().size());
  return std::move(header.bytes()) + body.bytes();
}

Status write_bin(const std::string& path, const IntProgram& program, const BinMetadata& metadata) {
  QMAP_ASSIGN_OR_RETURN(std::string bytes, serialize_bin(program, metadata));
  return write_file_atomic(path, bytes);
}

}  // namespace qmap
