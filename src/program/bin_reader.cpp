// .bin reader: header -> section table -> checksum -> sections -> cross checks.
//
// Every read goes through a Cursor bounded by its section's end, so a wrong count or length
// is an error before any allocation; counts are checked against the bytes left (each element
// needs at least its fixed-width part) so a forged count cannot make the reader allocate
// gigabytes. The first error wins and parsing stops there.
#include "program/bin_reader.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <set>
#include <map>

#include "core/file_io.h"
#include "core/limits.h"
#include "program/step_check.h"

namespace qmap {

static_assert(std::endian::native == std::endian::little,
              "the .bin is little-endian and the reader copies its integers as they are");

namespace {

using binfmt::SectionType;

constexpr uint32_t kMaxSections = 64;  // a v1/v2 file has at most 7; bounds the table read

// a * b and a + b in int64 / uint64 with overflow detection.
bool mul_ok(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }
bool add_ok(uint64_t a, uint64_t b, uint64_t* out) { return !__builtin_add_overflow(a, b, out); }

// Where the reader is, for messages, made into text only when one is written (a load makes
// none: formatting a place per step, tensor and blob was a tenth of ResNet-50's load).
// `name` points into the program's tensors or steps, which are sized before they are parsed.
struct Place {
  const char* section = "header";  // "TENSORS", "section table", ...
  const char* item = nullptr;      // "tensor", "step", "input", "entry"; none: the section itself
  int64_t index = 0;
  const std::string* name = nullptr;
  std::string attribute;  // the key, for a tensor attribute's blob (rare; empty costs nothing)

  // "STEPS step 2 'conv'"
  std::string text() const { return item ? fmt::format("{} {}", section, item_text()) : std::string(section); }
  // A blob's holder: "step 2 'conv'", "tensor 3 'w'", "packed entry 1", "step 4 'r' attribute 'shape'".
  std::string owner() const { return (std::string_view(section) == "PACKED" ? "packed " : "") + item_text(); }

 private:
  std::string item_text() const {
    std::string o = fmt::format("{} {}", item, index);
    if (name) o += fmt::format(" '{}'", *name);
    if (!attribute.empty()) o += fmt::format(" attribute '{}'", attribute);
    return o;
  }
};

struct BlobRef {
  uint64_t offset = 0, size = 0;  // bytes, relative to the BLOBS section
  uint64_t at = 0;                // file offset of the reference (for messages)
  Place owner;
  const char* field = "";
  std::string what() const { return owner.owner() + " " + field; }  // "step 2 'conv' weights"
};

class BinReader {
 public:
  BinReader(std::span<const std::byte> file, const std::string& name, std::shared_ptr<std::byte[]> owner,
            BinReadOptions options)
      : file_(file), name_(name), owner_(std::move(owner)), options_(options) {}

  Result<LoadedBin> read();

 private:
  // ---- errors ----
  template <typename... Args>
  void fail(fmt::format_string<Args...> f, Args&&... args) {
    if (err_.ok()) err_ = Status::error(fmt::format("bin '{}': ", name_) + fmt::format(f, std::forward<Args>(args)...));
  }
  bool ok() const { return err_.ok(); }

  // ---- a bounded cursor over the current section ----
  template <typename T>
  T get(const char* field) {
    T v{};
    if (!ok()) return v;
    if (end_ - pos_ < sizeof(T)) {
      fail("{} {} at offset {}: needs {} bytes, the section ends at offset {}", where(), field, pos_, sizeof(T), end_);
      return v;
    }
    std::memcpy(&v, file_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  // A u32 element count; each element needs at least `min_bytes` of the section.
  uint32_t count(const char* field, uint64_t min_bytes) {
    const uint64_t at = pos_;
    const uint32_t n = get<uint32_t>(field);
    if (ok() && min_bytes > 0 && n > (end_ - pos_) / min_bytes) {
      fail("{} {} at offset {}: count {} needs at least {} bytes, {} are left in the section", where(), field, at, n,
           static_cast<uint64_t>(n) * min_bytes, end_ - pos_);
      return 0;
    }
    return ok() ? n : 0;
  }
  std::string str(const char* field) {
    const uint64_t at = pos_;
    const uint32_t n = get<uint32_t>(field);
    if (!ok()) return {};
    if (n > end_ - pos_) {
      fail("{} {} at offset {}: string length {} runs past the section end at offset {}", where(), field, at, n, end_);
      return {};
    }
    std::string s(reinterpret_cast<const char*>(file_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  template <typename T>
  std::vector<T> vec(const char* field) {
    const uint32_t n = count(field, sizeof(T));
    std::vector<T> v(n);
    if (n > 0 && ok()) {
      std::memcpy(v.data(), file_.data() + pos_, n * sizeof(T));
      pos_ += n * sizeof(T);
    }
    return v;
  }
  std::vector<std::string> strs(const char* field) {
    const uint32_t n = count(field, 4);
    std::vector<std::string> v;
    for (uint32_t i = 0; i < n && ok(); ++i) v.push_back(str(field));
    return v;
  }
  // Dims: non-negative, with an element count (and `elem_size` bytes per element) that fits
  // int64. Returns the element count.
  int64_t dims(const char* field, Dims* out, size_t elem_size) {
    const uint64_t at = pos_;
    *out = vec<int64_t>(field);
    if (!ok()) return 0;
    int64_t n = 1;
    for (size_t i = 0; i < out->size(); ++i) {
      if ((*out)[i] < 0) {
        fail("{} {} at offset {}: dimension {} is {}: dimensions are non-negative", where(), field, at, i, (*out)[i]);
        return 0;
      }
      if (!mul_ok(n, (*out)[i], &n)) {
        fail("{} {} at offset {}: {}: the element count overflows int64", where(), field, at, dims_str(*out));
        return 0;
      }
    }
    if (n > kMaxTensorElements) {
      fail("{} {} at offset {}: {}: more than 2^29 elements, over qmap's limit for one tensor", where(), field, at,
           dims_str(*out));
      return 0;
    }
    int64_t bytes = 0;
    if (!mul_ok(n, static_cast<int64_t>(std::max<size_t>(elem_size, 1)), &bytes)) {
      fail("{} {} at offset {}: {} of {}-byte elements: the byte size overflows int64", where(), field, at,
           dims_str(*out), elem_size);
      return 0;
    }
    return n;
  }
  DType dtype(const char* field) {
    const uint64_t at = pos_;
    const int32_t code = get<int32_t>(field);
    DType t = DType::kUndefined;
    if (ok() && !dtype_from_onnx(code, &t))
      fail("{} {} at offset {}: {} ({}): not an element type a .bin carries (float32, uint8, int8, int16, int32, int64, "
           "bool, float64)",
           where(), field, at, code, onnx_dtype_name(code));
    return t;
  }
  BlobRef blob(const char* field, const Place& owner) {
    BlobRef r;
    r.at = pos_;
    r.offset = get<uint64_t>(field);
    r.size = get<uint64_t>(field);
    r.owner = owner;
    r.field = field;
    if (!ok()) return r;
    if (r.size == 0) {
      if (r.offset != 0) fail("{} {} at offset {}: an empty blob has offset {}: empty blobs are (0, 0)", where(), field, r.at, r.offset);
      return r;
    }
    if (r.offset > blobs_size_ || r.size > blobs_size_ - r.offset)
      fail("{} {} at offset {}: blob [{}, +{}) ends past the end of the BLOBS section ({} bytes)", where(), field, r.at,
           r.offset, r.size, blobs_size_);
    else if (r.offset % binfmt::kAlignment != 0)
      fail("{} {} at offset {}: blob offset {} is not a multiple of {}", where(), field, r.at, r.offset,
           binfmt::kAlignment);
    else
      blobs_.push_back(r);
    return r;
  }
  // Copies a blob into `out`; its size must be a whole number of T.
  template <typename T>
  void blob_to(const BlobRef& r, std::vector<T>* out, const char* elem) {
    if (!ok()) return;
    if (r.size % sizeof(T) != 0) {
      fail("{} at offset {}: blob of {} bytes is not a whole number of {} ({} bytes each)", r.what(), r.at, r.size, elem,
           sizeof(T));
      return;
    }
    out->resize(r.size / sizeof(T));
    if (r.size > 0) std::memcpy(out->data(), file_.data() + blobs_at_ + r.offset, r.size);
  }
  // A view into the file's bytes when the caller's buffer outlives the program (the runtime's
  // Model::load: ResNet-50's weights are 25 MB, its biases and multipliers 0.3 MB, and copying
  // them cost more than the rest of the load), else a copy. Blobs start on 64-byte file offsets,
  // so a view of T is aligned whenever the buffer is.
  template <typename T>
  void blob_to(const BlobRef& r, SharedArray<T>* out, const char* elem) {
    if (!ok()) return;  // r may point anywhere then: not even its address is formed
    const std::byte* at = file_.data() + blobs_at_ + r.offset;
    if (owner_ && r.size % sizeof(T) == 0 && reinterpret_cast<uintptr_t>(at) % alignof(T) == 0) {
      *out = SharedArray<T>(owner_, reinterpret_cast<const T*>(at), r.size / sizeof(T));
      return;
    }
    std::vector<T> copy;
    blob_to(r, &copy, elem);
    if (ok()) *out = SharedArray<T>(std::move(copy));
  }
  Tensor tensor_payload(const char* field, const Place& what) {
    const DType t = dtype(field);
    Dims d;
    const int64_t n = dims(field, &d, dtype_size(t));
    const BlobRef r = blob(field, what);
    if (!ok()) return {};
    const uint64_t want = static_cast<uint64_t>(n) * dtype_size(t);
    if (r.size != want) {
      fail("{} at offset {}: blob holds {} bytes; {} {} needs {}", r.what(), r.at, r.size, dtype_name(t), dims_str(d), want);
      return {};
    }
    const std::byte* at = file_.data() + blobs_at_ + r.offset;
    // Blobs start on 64-byte file offsets; a 64-byte aligned buffer makes them aligned too.
    if (owner_ && want > 0 && reinterpret_cast<uintptr_t>(at) % 64 == 0)
      return Tensor::alias(t, d, owner_, const_cast<std::byte*>(at));
    Tensor x = Tensor::uninitialized(t, d);
    if (want > 0) std::memcpy(x.raw(), at, want);
    return x;
  }

  // A step's attribute map (kMove / kFloat steps).
  std::map<std::string, AttrValue> attributes(const Place& owner) {
    std::map<std::string, AttrValue> attrs;
    const uint32_t na = count("attribute count", 5);
    for (uint32_t i = 0; i < na && ok(); ++i) {
      std::string key = str("attribute name");
      const uint64_t tat = pos_;
      const uint8_t code = get<uint8_t>("attribute type");
      if (!ok()) break;
      AttrValue v;
      switch (static_cast<binfmt::AttrCode>(code)) {
        case binfmt::AttrCode::kInt: v = get<int64_t>("attribute int"); break;
        case binfmt::AttrCode::kFloat: v = get<float>("attribute float"); break;
        case binfmt::AttrCode::kString: v = str("attribute string"); break;
        case binfmt::AttrCode::kInts: v = vec<int64_t>("attribute ints"); break;
        case binfmt::AttrCode::kFloats: v = vec<float>("attribute floats"); break;
        case binfmt::AttrCode::kStrings: v = strs("attribute strings"); break;
        case binfmt::AttrCode::kTensor: {
          Place holder = owner;
          holder.attribute = key;
          v = tensor_payload("attribute tensor", holder);
          break;
        }
        default:
          fail("{} attribute '{}' type at offset {} is {}: not an attribute type code (1..7)", where(), key, tat, code);
      }
      attrs[std::move(key)] = std::move(v);
    }
    return attrs;
  }

  // Reads a step's parameters in the order of their description (program/step_params.h),
  // the one the writer follows.
  class StepFields {
   public:
    StepFields(BinReader& r, const Place& owner) : r_(r), owner_(owner) {}
    template <typename T>
    void field(const char* name, T& x) {
      if (!r_.ok()) return;
      if constexpr (std::is_same_v<T, bool>) {
        const uint64_t at = r_.pos_;
        const uint8_t v = r_.get<uint8_t>(name);
        if (r_.ok() && v > 1) r_.fail("{} {} at offset {} is {}: 0 or 1", r_.where(), name, at, v);
        x = v == 1;
      } else if constexpr (std::is_same_v<T, int32_t> || std::is_same_v<T, int64_t> || std::is_same_v<T, float>) {
        x = r_.get<T>(name);
      } else if constexpr (std::is_same_v<T, std::string>) {
        x = r_.str(name);
      } else if constexpr (std::is_same_v<T, std::vector<int64_t>> || std::is_same_v<T, std::vector<uint8_t>>) {
        x = r_.vec<typename T::value_type>(name);
      } else if constexpr (std::is_same_v<T, std::map<std::string, AttrValue>>) {
        x = r_.attributes(owner_);
      } else {
        static_assert(sizeof(T) == 0, "a field type the .bin does not encode");
      }
    }
    // A std::vector (a copy) or a SharedArray (a view of the file when it may be one) of E.
    template <typename T>
    void blob(const char* name, T& x) {
      using E = typename T::value_type;
      constexpr const char* elem = std::is_same_v<E, int8_t>        ? "int8"
                                   : std::is_same_v<E, int32_t>     ? "int32"
                                   : std::is_same_v<E, QMultiplier> ? "(m, shift) int32 pairs"
                                   : std::is_same_v<E, double>      ? "float64"
                                   : std::is_same_v<E, uint8_t>     ? "uint8"
                                                                    : nullptr;
      static_assert(elem != nullptr, "a blob type the .bin does not encode");
      r_.blob_to(r_.blob(name, owner_), &x, elem);
    }

   private:
    BinReader& r_;
    const Place& owner_;
  };

  void enter(SectionType t) {
    const auto& s = sections_.at(static_cast<uint32_t>(t));
    pos_ = s.first;
    end_ = s.first + s.second;
    place_ = Place{.section = binfmt::section_name(static_cast<uint32_t>(t))};
  }
  void leave(SectionType t) {
    if (ok() && pos_ != end_)
      fail("{}: {} unused bytes at offset {} before the section end: the section's contents are inconsistent",
           binfmt::section_name(static_cast<uint32_t>(t)), end_ - pos_, pos_);
  }

  void read_header();
  void read_section_table();
  void check_checksum();
  void read_metadata(LoadedBin& out);
  void read_io(LoadedBin& out);
  void read_tensors(LoadedBin& out);
  void read_steps(LoadedBin& out);
  void read_placement(LoadedBin& out);
  void read_memory_plan(LoadedBin& out);
  void read_packed(LoadedBin& out);
  void check_blob_overlaps();
  void check_dataflow(const IntProgram& p);

  std::span<const std::byte> file_;
  std::string name_;
  std::shared_ptr<std::byte[]> owner_;  // owns file_'s bytes when blobs may alias them
  BinReadOptions options_;
  Status err_;
  uint64_t pos_ = 0, end_ = 0;
  Place place_;  // where the reader is, for messages
  std::string where() const { return place_.text(); }
  uint32_t version_ = 0;
  uint64_t table_at_ = 0;
  uint32_t section_count_ = 0;
  std::map<uint32_t, std::pair<uint64_t, uint64_t>> sections_;  // type -> (offset, size)
  uint64_t blobs_at_ = 0, blobs_size_ = 0;
  std::vector<BlobRef> blobs_;
};

void BinReader::read_header() {
  const uint64_t size = file_.size();
  if (size < sizeof binfmt::kMagic || std::memcmp(file_.data(), binfmt::kMagic, sizeof binfmt::kMagic) != 0) {
    std::string got;
    for (size_t i = 0; i < std::min<uint64_t>(size, 8); ++i) got += fmt::format("{:02x} ", static_cast<uint8_t>(file_[i]));
    fail("header magic at offset 0 is {}: not a qmap .bin file (expected \"QMAPBIN\\0\")",
         got.empty() ? std::string("empty") : got.substr(0, got.size() - 1));
    return;
  }
  if (size < binfmt::kHeaderSize) {
    fail("truncated: the file has {} bytes, a .bin header alone is {}", size, binfmt::kHeaderSize);
    return;
  }
  pos_ = 0;
  end_ = binfmt::kHeaderSize;
  pos_ = binfmt::kOffVersion;
  version_ = get<uint32_t>("format version");
  if (version_ > binfmt::kFormatVersion) {
    fail("made by a newer qmap (format v{}; this qmap reads v{})", version_, binfmt::kFormatVersion);
    return;
  }
  if (version_ == 0) {
    fail("header format version at offset {} is 0: versions start at 1", binfmt::kOffVersion);
    return;
  }
  if (version_ < binfmt::kMinFormatVersion) {
    fail("made by an older qmap (format v{}; this qmap reads v{} to v{}, whose steps store their own kind's "
         "parameters): rebuild it with `qmap makertbin --config <its YAML>`",
         version_, binfmt::kMinFormatVersion, binfmt::kFormatVersion);
    return;
  }
  const uint32_t flags = get<uint32_t>("flags");
  if (flags != 0) fail("header flags at offset {} are 0x{:x}: format v{} defines no flags (must be 0)", binfmt::kOffFlags, flags, version_);
  const uint64_t declared = get<uint64_t>("file size");
  const uint32_t header_size = get<uint32_t>("header size");
  section_count_ = get<uint32_t>("section count");
  table_at_ = get<uint64_t>("section table offset");
  if (!ok()) return;
  if (declared > size) {
    fail("truncated: the header says the file has {} bytes, it has {}", declared, size);
    return;
  }
  if (declared < size) {
    fail("{} bytes after the end the header declares (file size {} at offset {}, actual {})", size - declared,
         declared, binfmt::kOffFileSize, size);
    return;
  }
  if (header_size != binfmt::kHeaderSize)
    fail("header size at offset {} is {}: format v{} headers are {} bytes", binfmt::kOffHeaderSize, header_size, version_,
         binfmt::kHeaderSize);
  const size_t reserved_at = version_ >= 6 ? binfmt::kOffPayloadChecksum + 8 : binfmt::kOffChecksum + 8;
  for (size_t i = reserved_at; i < binfmt::kHeaderSize && ok(); ++i)
    if (file_[i] != std::byte{0}) fail("header reserved byte at offset {} is {}: reserved bytes are 0", i, static_cast<int>(file_[i]));
}

void BinReader::read_section_table() {
  if (section_count_ > kMaxSections) {
    fail("header section count at offset {} is {}: at most {}", binfmt::kOffSectionCount, section_count_, kMaxSections);
    return;
  }
  const uint64_t table_bytes = uint64_t{section_count_} * binfmt::kSectionEntrySize;
  uint64_t table_end = 0;
  if (table_at_ < binfmt::kHeaderSize || !add_ok(table_at_, table_bytes, &table_end) || table_end > file_.size()) {
    fail("header section table offset at offset {} is {} ({} entries of {} bytes): the table must lie between the "
         "header and the end of the file ({} bytes)",
         binfmt::kOffSectionTable, table_at_, section_count_, binfmt::kSectionEntrySize, file_.size());
    return;
  }
  // Intervals of everything placed in the file, to find overlaps.
  struct Span {
    uint64_t begin, end;
    std::string what;
  };
  std::vector<Span> spans = {{0, binfmt::kHeaderSize, "the header"}, {table_at_, table_end, "the section table"}};
  pos_ = table_at_;
  end_ = table_end;
  place_ = Place{.section = "section table"};
  for (uint32_t i = 0; i < section_count_ && ok(); ++i) {
    const uint64_t at = pos_;
    const uint32_t type = get<uint32_t>("type");
    const uint32_t reserved = get<uint32_t>("reserved");
    const uint64_t off = get<uint64_t>("offset");
    const uint64_t size = get<uint64_t>("size");
    if (!ok()) return;
    const std::string label = fmt::format("section table entry {} at offset {}", i, at);
    uint64_t sec_end = 0;
    if (type == 0 || type > binfmt::max_section_type(version_))
      fail("{}: section type {}: not a v{} section type (1..{})", label, type, version_,
           binfmt::max_section_type(version_));
    else if (reserved != 0)
      fail("{} ({}): reserved field is {}: must be 0", label, binfmt::section_name(type), reserved);
    else if (sections_.count(type))
      fail("{}: a second {} section: each section appears once", label, binfmt::section_name(type));
    else if (!add_ok(off, size, &sec_end) || sec_end > file_.size())
      fail("{} ({}): offset {} + size {} ends past the end of the file ({} bytes)", label, binfmt::section_name(type),
           off, size, file_.size());
    else if (off % binfmt::kAlignment != 0)
      fail("{} ({}): offset {} is not a multiple of {}", label, binfmt::section_name(type), off, binfmt::kAlignment);
    if (!ok()) return;
    sections_[type] = {off, size};
    if (size > 0) spans.push_back({off, sec_end, fmt::format("section {}", binfmt::section_name(type))});
  }
  std::sort(spans.begin(), spans.end(), [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (size_t i = 1; i < spans.size() && ok(); ++i)
    if (spans[i].begin < spans[i - 1].end)
      fail("{} [{}, {}) and {} [{}, {}) overlap", spans[i - 1].what, spans[i - 1].begin, spans[i - 1].end,
           spans[i].what, spans[i].begin, spans[i].end);
  for (uint32_t t = 1; t <= binfmt::max_section_type(version_) && ok(); ++t)
    if (t != static_cast<uint32_t>(SectionType::kMemoryPlan) && t != static_cast<uint32_t>(SectionType::kPacked) &&
        !sections_.count(t))
      fail("section table: no {} section: a v{} file has one", binfmt::section_name(t), version_);
  if (!ok()) return;
  blobs_at_ = sections_[static_cast<uint32_t>(SectionType::kBlobs)].first;
  blobs_size_ = sections_[static_cast<uint32_t>(SectionType::kBlobs)].second;
  // v6 hashes the payload apart from the rest: BLOBS must be all of the file after its start.
  if (version_ >= 6 && blobs_at_ + blobs_size_ != file_.size())
    fail("section BLOBS [{}, {}) does not end the file ({} bytes): in a v{} file BLOBS is the last section", blobs_at_,
         blobs_at_ + blobs_size_, file_.size(), version_);
}

void BinReader::check_checksum() {
  uint64_t stored = 0, stored_payload = 0;
  std::memcpy(&stored, file_.data() + binfmt::kOffChecksum, 8);
  std::memcpy(&stored_payload, file_.data() + binfmt::kOffPayloadChecksum, 8);
  // v4 and v5 have one checksum, of everything after the header; v6 one of the bytes before
  // BLOBS, and one of BLOBS.
  const uint64_t end = version_ < 6 ? file_.size() : blobs_at_;
  const uint64_t structure = binfmt::xxh64(file_.subspan(binfmt::kHeaderSize, end - binfmt::kHeaderSize));
  if (stored != structure)
    fail("checksum mismatch: the header (offset {}) says 0x{:016x}, bytes {}..{} hash to 0x{:016x} ({}): the file is "
         "corrupt",
         binfmt::kOffChecksum, stored, binfmt::kHeaderSize, end, structure, "XXH64");
  if (version_ < 6 || !ok() || !options_.check_payload) return;
  const uint64_t payload = binfmt::xxh64(file_.subspan(blobs_at_));
  if (stored_payload != payload)
    fail("payload checksum mismatch: the header (offset {}) says 0x{:016x}, bytes {}..{} (BLOBS: weights, tables, "
         "constants) hash to 0x{:016x} ({}): the file is corrupt",
         binfmt::kOffPayloadChecksum, stored_payload, blobs_at_, file_.size(), payload, "XXH64");
}

void BinReader::read_metadata(LoadedBin& out) {
  enter(SectionType::kMetadata);
  BinMetadata& m = out.metadata;
  m.qmap_version = str("qmap version");
  m.march = str("march");
  m.yaml_text = str("yaml text");
  m.created_by = str("created by");
  m.removed_nodes = strs("removed nodes");
  leave(SectionType::kMetadata);
}

void BinReader::read_tensors(LoadedBin& out) {
  enter(SectionType::kTensors);
  IntProgram& p = out.program;
  // Fixed part of a tensor entry: name length 4, dtype 4, rank 4, quant 1+4+4, constant 1.
  const uint32_t n = count("tensor count", 22);
  p.tensors.resize(n);
  for (uint32_t i = 0; i < n && ok(); ++i) {
    ProgramTensor& t = p.tensors[i];
    place_ = Place{.section = "TENSORS", .item = "tensor", .index = i};
    t.name = str("name");
    place_.name = &t.name;
    t.dtype = dtype("dtype");
    dims("dims", &t.dims, dtype_size(t.dtype));
    const uint64_t qat = pos_;
    const uint8_t has_q = get<uint8_t>("quant flag");
    const float scale = get<float>("scale");
    const int32_t zp = get<int32_t>("zero point");
    if (!ok()) break;
    if (has_q > 1) fail("{} quant flag at offset {} is {}: 0 or 1", where(), qat, has_q);
    if (has_q == 1) {
      if (!(std::isfinite(scale) && scale > 0.f))
        fail("{} scale at offset {} is {}: scales are positive and finite", where(), qat + 1, scale);
      const bool s8 = t.dtype == DType::kInt8, u8 = t.dtype == DType::kUInt8, s16 = t.dtype == DType::kInt16;
      if ((s8 && (zp < -128 || zp > 127)) || (u8 && (zp < 0 || zp > 255)))
        fail("{} zero point at offset {} is {}: outside the {} range", where(), qat + 5, zp, dtype_name(t.dtype));
      if (s16 && zp != 0)
        fail("{} zero point at offset {} is {}: int16 tensors are symmetric (zero point 0)", where(), qat + 5, zp);
      t.quant = TensorQuant{scale, zp};
    }
    const uint64_t cat = pos_;
    const uint8_t has_c = get<uint8_t>("constant flag");
    if (has_c > 1) fail("{} constant flag at offset {} is {}: 0 or 1", where(), cat, has_c);
    if (has_c == 1 && ok()) t.constant = tensor_payload("constant", place_);
  }
  place_ = Place{.section = "TENSORS"};
  const uint32_t na = count("alias count", 8);
  for (uint32_t i = 0; i < na && ok(); ++i) {
    std::string name = str("alias name");
    const uint64_t at = pos_;
    const int32_t t = get<int32_t>("alias tensor");
    if (ok() && (t < 0 || static_cast<uint32_t>(t) >= n))
      fail("TENSORS alias '{}' at offset {} names tensor {}: out of range (the program has {} tensors)", name, at, t, n);
    p.aliases[std::move(name)] = t;
  }
  leave(SectionType::kTensors);
}

void BinReader::read_io(LoadedBin& out) {
  enter(SectionType::kIo);
  IntProgram& p = out.program;
  const size_t nt = p.tensors.size();
  const uint32_t n = count("input count", 32);  // tensor, name length, 5 codes, rank
  for (uint32_t i = 0; i < n && ok(); ++i) {
    place_ = Place{.section = "IO", .item = "input", .index = i};
    const uint64_t at = pos_;
    const int32_t t = get<int32_t>("tensor");
    BinInputSpec s;
    s.name = str("name");
    const uint64_t cat = pos_;
    const uint32_t codes[5] = {get<uint32_t>("type_rt"), get<uint32_t>("layout_rt"), get<uint32_t>("range"),
                               get<uint32_t>("type_train"), get<uint32_t>("layout_train")};
    dims("shape", &s.shape, 1);
    if (!ok()) break;
    if (t < 0 || static_cast<size_t>(t) >= nt) {
      fail("{} tensor at offset {} is {}: out of range (the program has {} tensors)", where(), at, t, nt);
      break;
    }
    if (s.name != p.tensors[static_cast<size_t>(t)].name)
      fail("{} at offset {}: named '{}' but its tensor {} is '{}'", where(), at, s.name, t, p.tensors[static_cast<size_t>(t)].name);
    auto ct = [&](int k, const char* field) {
      auto v = binfmt::color_type_from_code(codes[k]);
      if (!v) fail("{} {} at offset {} is {}: not a color type code (1..6: rgb bgr yuv444 nv12 gray featuremap)", where(),
                   field, cat + 4 * k, codes[k]);
      return v.value_or(ColorType::kFeaturemap);
    };
    auto lt = [&](int k, const char* field) {
      auto v = binfmt::layout_from_code(codes[k]);
      if (!v) fail("{} {} at offset {} is {}: not a layout code (1 NCHW, 2 NHWC)", where(), field, cat + 4 * k, codes[k]);
      return v.value_or(Layout::kNCHW);
    };
    s.type_rt = ct(0, "type_rt");
    s.layout_rt = lt(1, "layout_rt");
    auto r = binfmt::color_range_from_code(codes[2]);
    if (!r) fail("{} range at offset {} is {}: not a color range code (1 regular, 2 bt601_video)", where(), cat + 8, codes[2]);
    s.range = r.value_or(ColorRange::kRegular);
    s.type_train = ct(3, "type_train");
    s.layout_train = lt(4, "layout_train");
    p.inputs.push_back(t);
    out.metadata.inputs.push_back(std::move(s));
  }
  place_ = Place{.section = "IO"};
  const uint64_t at = pos_;
  p.outputs = vec<int32_t>("outputs");
  for (size_t i = 0; i < p.outputs.size() && ok(); ++i)
    if (p.outputs[i] < 0 || static_cast<size_t>(p.outputs[i]) >= nt)
      fail("IO output {} at offset {} is tensor {}: out of range (the program has {} tensors)", i, at + 4 + 4 * i,
           p.outputs[i], nt);
  leave(SectionType::kIo);
}

void BinReader::read_steps(LoadedBin& out) {
  enter(SectionType::kSteps);
  IntProgram& p = out.program;
  // The common part of a step: kind/op 4, two names 8, in/out counts 8; then its kind's own
  // parameters.
  const uint32_t n = count("step count", 20);
  p.steps.resize(n);
  for (uint32_t si = 0; si < n && ok(); ++si) {
    Step& s = p.steps[si];
    place_ = Place{.section = "STEPS", .item = "step", .index = si};
    const uint64_t at = pos_;
    const uint16_t kind = get<uint16_t>("kind");
    const uint16_t op = get<uint16_t>("op id");
    s.node = str("node");
    s.op_type = str("op type");
    if (!ok()) break;
    place_.name = &s.node;
    // Any code is stored as read: the kind, the op id and the tensor indices are step
    // semantics, which check_step checks once the step is parsed. The parameters' layout
    // depends on the kind, so an unknown kind stops here, with check_step's message.
    s.kind = static_cast<StepKind>(kind);
    s.op = static_cast<OpId>(op);
    s.inputs = vec<int32_t>("inputs");
    s.outputs = vec<int32_t>("outputs");
    if (!ok()) break;
    if (!is_step_kind(kind)) {
      s.params = NoParams{};
      const Status st = check_step(p, si);
      fail("STEPS at offset {}: {}", at, st.message());
      break;
    }
    if (binfmt::step_kind_since(kind) > version_) {
      fail("STEPS at offset {}: step {} '{}' is a {} step, which format v{} added: a v{} file cannot hold one", at, si,
           s.node, step_kind_name(s.kind), binfmt::step_kind_since(kind), version_);
      break;
    }
    s.params = default_step_params(s.kind);
    StepFields fields(*this, place_);
    describe_params(fields, s.params);
    // The step's semantics: the one validator the executor's prepare runs too.
    if (ok()) {
      bool fixed = false;
      const Status st = check_step(p, si, &fixed);
      if (!st.ok()) fail("STEPS at offset {}: {}", at, st.message());
      out.outputs_fixed.push_back(fixed);
    }
  }
  place_ = Place{.section = "STEPS"};
  leave(SectionType::kSteps);
}

// Every tensor a step reads holds a value by then (a graph input, a constant or an earlier
// step's output), each tensor is written at most once and never over an input or constant,
// and every graph output is computed: the executor never reads an empty tensor.
void BinReader::check_dataflow(const IntProgram& p) {
  enum : uint8_t { kEmpty, kInput, kConstant, kWritten };
  std::vector<uint8_t> state(p.tensors.size(), kEmpty);
  for (size_t i = 0; i < p.tensors.size(); ++i)
    if (p.tensors[i].constant) state[i] = kConstant;
  for (int32_t t : p.inputs) {
    if (state[static_cast<size_t>(t)] != kEmpty)
      return fail("IO: input tensor {} '{}' is listed twice or is a constant", t, p.tensors[static_cast<size_t>(t)].name);
    state[static_cast<size_t>(t)] = kInput;
  }
  static const char* const kState[] = {"nothing", "a graph input", "a constant", "an earlier step"};
  for (size_t si = 0; si < p.steps.size(); ++si) {
    const Step& s = p.steps[si];
    for (int32_t t : s.inputs)
      if (t >= 0 && state[static_cast<size_t>(t)] == kEmpty)
        return fail("STEPS step {} '{}' reads tensor {} '{}' before any step writes it", si, s.node, t,
                    p.tensors[static_cast<size_t>(t)].name);
    for (int32_t t : s.outputs) {
      if (t < 0) continue;
      if (state[static_cast<size_t>(t)] != kEmpty)
        return fail("STEPS step {} '{}' writes tensor {} '{}', already written by {}: each tensor has one producer", si,
                    s.node, t, p.tensors[static_cast<size_t>(t)].name, kState[state[static_cast<size_t>(t)]]);
      state[static_cast<size_t>(t)] = kWritten;
    }
  }
  for (int32_t t : p.outputs)
    if (state[static_cast<size_t>(t)] == kEmpty)
      return fail("IO: output tensor {} '{}' is never computed", t, p.tensors[static_cast<size_t>(t)].name);
}

void BinReader::read_placement(LoadedBin& out) {
  enter(SectionType::kPlacement);
  const uint32_t n = count("step count", 5);
  const std::vector<StepPlacement> want = step_placement(out.program);
  if (ok() && n != want.size()) fail("PLACEMENT step count is {}: the program has {} steps", n, want.size());
  for (uint32_t i = 0; i < n && ok(); ++i) {
    const uint64_t at = pos_;
    const uint8_t cpu = get<uint8_t>("device");
    const int32_t sg = get<int32_t>("subgraph");
    if (!ok()) break;
    if (cpu != (want[i].cpu ? 1 : 0) || sg != want[i].subgraph)
      fail("PLACEMENT step {} at offset {} is {} subgraph {}: by its kind and order it is {} subgraph {}", i, at,
           cpu ? "CPU" : "NPU", sg, want[i].cpu ? "CPU" : "NPU", want[i].subgraph);
    out.placement.push_back({cpu == 1, sg});
  }
  leave(SectionType::kPlacement);
}

void BinReader::read_memory_plan(LoadedBin& out) {
  if (!sections_.count(static_cast<uint32_t>(SectionType::kMemoryPlan))) return;
  enter(SectionType::kMemoryPlan);
  BinMemoryPlan m;
  m.arena_bytes = get<uint64_t>("arena bytes");
  const uint64_t at = pos_;
  m.offsets = vec<uint64_t>("tensor offsets");
  const auto& T = out.program.tensors;
  if (ok() && m.offsets.size() != T.size())
    fail("MEMORY_PLAN offsets at offset {}: {} entries for {} tensors: one per tensor", at, m.offsets.size(), T.size());
  for (size_t i = 0; i < m.offsets.size() && ok(); ++i) {
    if (m.offsets[i] == binfmt::kNotInArena) continue;
    const uint64_t bytes = static_cast<uint64_t>(num_elements(T[i].dims)) * dtype_size(T[i].dtype);
    uint64_t end = 0;
    if (!add_ok(m.offsets[i], bytes, &end) || end > m.arena_bytes)
      fail("MEMORY_PLAN tensor {} '{}' at offset {}: [{}, +{}) ends past the arena ({} bytes)", i, T[i].name,
           at + 4 + 8 * i, m.offsets[i], bytes, m.arena_bytes);
  }
  out.metadata.memory_plan = std::move(m);
  leave(SectionType::kMemoryPlan);
}

// PACKED (v6, optional): per entry the step, the kernel layout and the blob. The step must be
// a convolution; whether a kernel adopts the bytes is the kernel's to decide at load (a blob
// of another layout or size is ignored, and the kernel packs).
void BinReader::read_packed(LoadedBin& out) {
  if (!sections_.count(static_cast<uint32_t>(SectionType::kPacked))) return;
  enter(SectionType::kPacked);
  IntProgram& p = out.program;
  const uint32_t n = count("entry count", 40);  // step 4, layout length 4, two blobs 32
  std::set<std::pair<int32_t, std::string>> seen;
  for (uint32_t i = 0; i < n && ok(); ++i) {
    place_ = Place{.section = "PACKED", .item = "entry", .index = i};
    const uint64_t at = pos_;
    PackedWeights pw;
    pw.step = get<int32_t>("step");
    pw.layout = str("layout");
    const BlobRef r = blob("weights", place_);
    const BlobRef rs = blob("row sums", place_);
    if (!ok()) break;
    if (pw.step < 0 || static_cast<size_t>(pw.step) >= p.steps.size()) {
      fail("{} at offset {}: step {}: out of range (the program has {} steps)", where(), at, pw.step, p.steps.size());
      break;
    }
    const Step& s = p.steps[static_cast<size_t>(pw.step)];
    if (s.conv_weights() == nullptr)
      fail("{} at offset {}: step {} '{}' is a {} step: only convolutions have packed weights", where(), at, pw.step,
           s.node, step_kind_name(s.kind));
    else if (pw.layout.empty() || pw.layout.size() > 64 ||
             !std::all_of(pw.layout.begin(), pw.layout.end(), [](char c) { return c > ' ' && c < 127; }))
      fail("{} layout at offset {}: '{}': 1 to 64 printable characters without spaces", where(), at + 4, pw.layout);
    else if (r.size == 0)
      fail("{} weights at offset {}: empty: a packed entry holds bytes", where(), r.at);
    else if (rs.size != static_cast<uint64_t>(s.conv_weights()->geom.m) * sizeof(int64_t))
      fail("{} row sums at offset {}: {} bytes for {} output channels: one i64 each", where(), rs.at, rs.size,
           s.conv_weights()->geom.m);
    else if (!seen.emplace(pw.step, pw.layout).second)
      fail("{} at offset {}: a second blob of layout '{}' for step {} '{}'", where(), at, pw.layout, pw.step, s.node);
    if (!ok()) break;
    blob_to(r, &pw.bytes, "byte");
    blob_to(rs, &pw.row_sums, "int64");
    if (!ok()) break;
    p.packed.push_back(std::move(pw));
  }
  place_ = Place{.section = "PACKED"};
  leave(SectionType::kPacked);
}

void BinReader::check_blob_overlaps() {
  std::sort(blobs_.begin(), blobs_.end(), [](const BlobRef& a, const BlobRef& b) { return a.offset < b.offset; });
  for (size_t i = 1; i < blobs_.size() && ok(); ++i)
    if (blobs_[i].offset < blobs_[i - 1].offset + blobs_[i - 1].size)
      fail("BLOBS: {} [{}, +{}) and {} [{}, +{}) overlap: every blob has its own bytes", blobs_[i - 1].what(),
           blobs_[i - 1].offset, blobs_[i - 1].size, blobs_[i].what(), blobs_[i].offset, blobs_[i].size);
}

Result<LoadedBin> BinReader::read() {
  LoadedBin out;
  read_header();
  if (ok()) read_section_table();
  if (ok()) check_checksum();
  if (ok()) read_metadata(out);
  if (ok()) read_tensors(out);
  if (ok()) read_io(out);
  if (ok()) read_steps(out);
  if (ok()) check_dataflow(out.program);
  if (ok()) read_placement(out);
  if (ok()) read_memory_plan(out);
  if (ok()) read_packed(out);
  if (ok()) check_blob_overlaps();
  if (!ok()) return err_;
  out.format_version = version_;
  return out;
}

}  // namespace

Result<LoadedBin> read_bin(std::span<const std::byte> bytes, const std::string& name,
                           std::shared_ptr<std::byte[]> owner, BinReadOptions options) {
  return BinReader(bytes, name, std::move(owner), options).read();
}

Result<LoadedBin> read_bin_file(const std::string& path) {
  QMAP_ASSIGN_OR_RETURN(FileBytes bytes, read_file_bytes(path));
  return read_bin(bytes.span(), path, bytes.data);
}

}  // namespace qmap
