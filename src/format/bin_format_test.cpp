// The .bin writer and reader: round trips of lowered QDQ graphs covering every step kind
// (program text, every field via re-serialization, metadata, placement, memory plan), and one
// deliberately corrupted file per defect class, each rejected with its own message. Byte-level
// corruptions that should reach the structural checks re-seal the checksum first, as a forged
// file would.
#include <algorithm>
#include <cstring>
#include <limits>
#include <optional>

#include <gtest/gtest.h>

#include "core/file_io.h"
#include "program/bin_reader.h"
#include "format/bin_writer.h"
#include "format/model_bin.h"
#include "quant/lower.h"
#include "quant/qdq_test_util.h"
#include "program/step_check.h"
#include "runtime/executor.h"

namespace qmap {
namespace {

using testing::QdqBuilder;

// A QDQ graph whose lowering has every step kind: Quantize, Conv (+Relu), Add, Mul, Lut,
// MaxPool, AvgPool, Concat, Move (Reshape with a constant shape), Dequantize, a float-out
// Gemm, and float steps (Softmax, a Constant node with a tensor attribute, Resize with
// string attributes).
struct Model {
  Graph graph;
  std::vector<Tensor> inputs;
};

Model every_kind_model(uint32_t seed, bool prelu = true) {
  QdqBuilder b;
  const ValueId x = b.input("image", testing::random_tensor({1, 3, 8, 8}, seed, -1.f, 1.f));
  const ValueId xq = b.quantize(x);
  const ValueId w = b.weight("w", testing::random_tensor({4, 3, 3, 3}, seed + 1, -0.5f, 0.5f), 0);
  const ValueId conv = b.op("Conv", {b.dequantize(xq), w, b.bias("b", {0.1f, -0.2f, 0.f, 0.3f}, xq, "w")},
                            {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const ValueId cq = b.quantize(b.op("Relu", {conv}), true);
  const ValueId cd = b.dequantize(cq);
  const ValueId aq = b.quantize(b.op("Add", {cd, cd}), true);  // ratios below 4: add_q15
  // An output scale far below the inputs' (ratios above 4): the exact add.
  const ValueId aq2 = b.quantize_with(b.op("Add", {b.dequantize(aq), cd}), 1e-3f, true);
  const ValueId mq = b.quantize(b.op("Mul", {b.dequantize(aq2), cd}), true);
  const ValueId sq = b.quantize(b.op("Sigmoid", {b.dequantize(mq)}), true);
  const ValueId mp = b.op("MaxPool", {b.dequantize(sq)}, {{"kernel_shape", std::vector<int64_t>{2, 2}},
                                                          {"strides", std::vector<int64_t>{2, 2}}});
  const ValueId mpq = b.qdq_like(mp, sq);
  const ValueId ap = b.op("AveragePool", {mpq}, {{"kernel_shape", std::vector<int64_t>{3, 3}},
                                                 {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const ValueId apq = b.quantize(ap, true);
  const ValueId cat = b.op("Concat", {b.dequantize(apq), mpq}, {{"axis", int64_t{1}}});
  const ValueId catq = b.qdq_like(cat, sq);
  const ValueId shape = b.constant("shape", Tensor::from_vector<int64_t>({2}, {1, -1}));
  const ValueId flat = b.qdq_like(b.op("Reshape", {catq, shape}), sq);
  const ValueId fw = b.weight("fw", testing::random_tensor({5, 128}, seed + 2, -0.2f, 0.2f), 0);
  const ValueId fc = b.op("Gemm", {flat, fw}, {{"transB", int64_t{1}}});  // a graph output: high precision
  const ValueId fw2 = b.weight("fw2", testing::random_tensor({5, 128}, seed + 3, -0.2f, 0.2f), 0);
  const ValueId fc2 = b.qdq(b.op("Gemm", {flat, fw2}, {{"transB", int64_t{1}}}));
  const ValueId k = b.op("Constant", {}, {{"value", Tensor::from_vector<float>({1, 5}, {1.f, 2.f, 3.f, 4.f, 5.f})}});
  const ValueId sm = b.op("Softmax", {b.op("Add", {fc2, k})});
  const ValueId scales = b.constant("scales", Tensor::from_vector<float>({4}, {1.f, 1.f, 2.f, 2.f}));
  const ValueId rz = b.op("Resize", {cd, kNoValue, scales}, {{"mode", std::string("linear")}});
  const ValueId slope = b.constant("slope", Tensor::from_vector<float>({4, 1, 1}, {0.1f, 0.2f, 0.3f, 0.4f}));
  const ValueId pr = prelu ? b.qdq(b.op("PRelu", {b.dequantize(aq), slope})) : cd;  // a slope per channel
  b.output(fc);
  b.output(sm);
  b.output(rz);
  b.output(pr);
  return {b.finish(), b.inputs()};
}

IntProgram lowered(const Graph& g) {
  auto p = lower_qdq_graph(g);
  QMAP_CHECK(p.ok(), "{}", p.status().message());
  return std::move(p).value();
}

BinMetadata test_metadata() {
  BinMetadata m;
  m.qmap_version = "9.8.7";
  m.march = "generic";
  m.yaml_text = "model_parameters:\n  march: generic\n";
  m.created_by = "bin_format_test";
  m.inputs = {{"image", ColorType::kNv12, Layout::kNHWC, ColorRange::kBt601Video, ColorType::kRgb, Layout::kNCHW,
               {1, 3, 8, 8}}};
  m.removed_nodes = {"Transpose_0", "Softmax_9"};
  return m;
}

std::span<const std::byte> as_span(const std::string& s) { return std::as_bytes(std::span(s.data(), s.size())); }

std::string serialized(const IntProgram& p, const BinMetadata& m = test_metadata()) {
  auto s = serialize_bin(p, m);
  QMAP_CHECK(s.ok(), "{}", s.status().message());
  return std::move(s).value();
}

std::string read_error(const std::string& bytes) {
  auto r = read_bin(as_span(bytes), "m.bin");
  return r.ok() ? std::string("(read succeeded)") : r.status().message();
}

template <typename T>
T get_at(const std::string& b, size_t at) {
  T v;
  std::memcpy(&v, b.data() + at, sizeof(T));
  return v;
}
template <typename T>
void put_at(std::string& b, size_t at, T v) {
  std::memcpy(b.data() + at, &v, sizeof(T));
}
std::optional<size_t> find_entry(const std::string& b, binfmt::SectionType type);
// Re-seals the header checksums after an edit, as a forged file would: v6 hashes the bytes
// before BLOBS and BLOBS apart, v4 and v5 everything after the header at once.
void reseal(std::string& b) {
  if (get_at<uint32_t>(b, binfmt::kOffVersion) < 6) {
    put_at<uint64_t>(b, binfmt::kOffChecksum, binfmt::xxh64(as_span(b).subspan(binfmt::kHeaderSize)));
    put_at<uint64_t>(b, binfmt::kOffPayloadChecksum, 0);  // reserved before v6
    return;
  }
  // A damaged table may name no BLOBS (or one out of bounds): the reader refuses the table first.
  const std::optional<size_t> e = find_entry(b, binfmt::SectionType::kBlobs);
  const uint64_t blobs_at = e && *e + 16 <= b.size() ? get_at<uint64_t>(b, *e + 8) : b.size();
  const binfmt::FileChecksums c = binfmt::file_checksums(as_span(b), blobs_at);
  put_at<uint64_t>(b, binfmt::kOffChecksum, c.structure);
  put_at<uint64_t>(b, binfmt::kOffPayloadChecksum, c.payload);
}
// File offset of the section table entry for `type`, when the table (read within the file) has one.
std::optional<size_t> find_entry(const std::string& b, binfmt::SectionType type) {
  const uint32_t n = get_at<uint32_t>(b, binfmt::kOffSectionCount);
  const uint64_t table = get_at<uint64_t>(b, binfmt::kOffSectionTable);
  for (uint32_t i = 0; i < n && i < 64; ++i) {
    const uint64_t e = table + uint64_t{i} * binfmt::kSectionEntrySize;
    if (table > b.size() || e + binfmt::kSectionEntrySize > b.size()) break;
    if (get_at<uint32_t>(b, static_cast<size_t>(e)) == static_cast<uint32_t>(type)) return static_cast<size_t>(e);
  }
  return std::nullopt;
}
size_t entry_of(const std::string& b, binfmt::SectionType type) {
  const std::optional<size_t> e = find_entry(b, type);
  QMAP_CHECK(e.has_value(), "no section {}", static_cast<uint32_t>(type));
  return *e;
}
// File offset just past the length-prefixed string `s` (its first occurrence).
size_t after_string(const std::string& b, const std::string& s) {
  std::string pat(4, '\0');
  const uint32_t n = static_cast<uint32_t>(s.size());
  std::memcpy(pat.data(), &n, 4);
  pat += s;
  const size_t at = b.find(pat);
  QMAP_CHECK(at != std::string::npos, "string '{}' not in the file", s);
  return at + pat.size();
}

void expect_has(const std::string& msg, const std::string& part) {
  EXPECT_NE(msg.find(part), std::string::npos) << "message: " << msg << "\nexpected to contain: " << part;
}

TEST(BinFormat, RoundTripKeepsEveryField) {
  const Model m = every_kind_model(3);
  const IntProgram p = lowered(m.graph);
  std::map<StepKind, int> kinds;
  for (const Step& s : p.steps) ++kinds[s.kind];
  for (const StepKind k : kAllStepKinds)
    EXPECT_GT(kinds[k], 0) << "the test model lowers no " << step_kind_name(k) << " step:\n" << program_text(p);

  const std::string bytes = serialized(p);
  auto r = read_bin(as_span(bytes), "m.bin");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->format_version, binfmt::kFormatVersion);
  EXPECT_EQ(program_text(r->program), program_text(p));
  // Serialization writes every field, so equal bytes after a second trip = every field equal
  // (blobs, attributes, geometry, aliases), which is what the runtime executes.
  EXPECT_EQ(serialized(r->program, r->metadata), bytes);
  // A few fields spelled out, for a readable failure.
  for (size_t i = 0; i < p.steps.size(); ++i) {
    const Step& a = r->program.steps[i];
    const Step& b = p.steps[i];
    ASSERT_EQ(a.params.index(), b.params.index()) << i;
    if (const ConvWeights* cw = b.conv_weights()) {
      EXPECT_EQ(a.conv_weights()->weights, cw->weights) << i;
      EXPECT_EQ(a.conv_weights()->bias, cw->bias) << i;
    }
    if (b.kind == StepKind::kLut) {
      EXPECT_EQ(a.as<LutParams>().table, b.as<LutParams>().table) << i;
    }
    if (b.kind == StepKind::kChannelLut) {
      EXPECT_EQ(a.as<ChannelLutParams>().tables, b.as<ChannelLutParams>().tables) << i;
      EXPECT_EQ(a.as<ChannelLutParams>().channels, 4) << i;
    }
    if (const auto* op = std::get_if<GenericParams>(&b.params)) {
      EXPECT_EQ(a.as<GenericParams>().attrs.size(), op->attrs.size()) << i;
    }
  }
  EXPECT_EQ(r->program.aliases, p.aliases);

  const BinMetadata want = test_metadata();
  EXPECT_EQ(r->metadata.qmap_version, want.qmap_version);
  EXPECT_EQ(r->metadata.march, want.march);
  EXPECT_EQ(r->metadata.yaml_text, want.yaml_text);
  EXPECT_EQ(r->metadata.created_by, want.created_by);
  EXPECT_EQ(r->metadata.removed_nodes, want.removed_nodes);
  ASSERT_EQ(r->metadata.inputs.size(), 1u);
  EXPECT_EQ(r->metadata.inputs[0].type_rt, ColorType::kNv12);
  EXPECT_EQ(r->metadata.inputs[0].layout_rt, Layout::kNHWC);
  EXPECT_EQ(r->metadata.inputs[0].range, ColorRange::kBt601Video);
  EXPECT_EQ(r->metadata.inputs[0].shape, (Dims{1, 3, 8, 8}));
  EXPECT_FALSE(r->metadata.memory_plan.has_value());
}


// Given a buffer that outlives the program (the runtime's Model::load), a convolution's
// weights, bias and multipliers are views into it, not copies (a ResNet-50 load copied 0.3 MB
// and faulted in its pages otherwise); without one, they are the program's own.
TEST(BinFormat, ConvBlobsAreViewsOfAnOwnedBuffer) {
  const std::string bytes = serialized(lowered(every_kind_model(3).graph));
  std::shared_ptr<std::byte[]> owner(new std::byte[bytes.size() + 64]);
  const uintptr_t base = reinterpret_cast<uintptr_t>(owner.get());
  std::byte* at = owner.get() + (64 - base % 64) % 64;  // blobs are 64-byte aligned in the file
  std::memcpy(at, bytes.data(), bytes.size());
  auto inside = [&](const void* p) { return p >= at && p < at + bytes.size(); };

  auto viewed = read_bin(std::span<const std::byte>(at, bytes.size()), "m.bin", owner);
  auto copied = read_bin(as_span(bytes), "m.bin");
  ASSERT_TRUE(viewed.ok()) << viewed.status().message();
  ASSERT_TRUE(copied.ok()) << copied.status().message();
  int biased = 0;
  for (size_t i = 0; i < viewed->program.steps.size(); ++i) {
    const Step& s = viewed->program.steps[i];
    if (s.kind != StepKind::kConv) continue;
    const auto& c = s.as<ConvParams>();
    const auto& own = copied->program.steps[i].as<ConvParams>();
    EXPECT_TRUE(inside(c.weights.data()) && inside(c.multipliers.data())) << s.node;
    EXPECT_FALSE(inside(own.weights.data()) || inside(own.multipliers.data())) << s.node;
    if (!c.bias.empty()) {
      ++biased;
      EXPECT_TRUE(inside(c.bias.data())) << s.node;
      EXPECT_FALSE(inside(own.bias.data())) << s.node;
    }
    EXPECT_EQ(c.bias, own.bias);
    EXPECT_EQ(c.multipliers, own.multipliers);
  }
  EXPECT_GT(biased, 0);
}
TEST(BinFormat, SerializationIsDeterministicAndAligned) {
  const IntProgram p = lowered(every_kind_model(5).graph);
  const std::string a = serialized(p), b = serialized(lowered(every_kind_model(5).graph));
  EXPECT_EQ(a, b);
  EXPECT_EQ(get_at<uint64_t>(a, binfmt::kOffFileSize), a.size());
  for (uint32_t t = 1; t <= 6; ++t) {
    const size_t e = entry_of(a, static_cast<binfmt::SectionType>(t));
    EXPECT_EQ(get_at<uint64_t>(a, e + 8) % 64, 0u) << binfmt::section_name(t);
  }
}

TEST(BinFormat, PlacementSplitsNpuAndCpuSubgraphs) {
  const IntProgram p = lowered(every_kind_model(3).graph);
  auto r = read_bin(as_span(serialized(p)), "m.bin");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->placement.size(), p.steps.size());
  for (size_t i = 0; i < p.steps.size(); ++i) {
    EXPECT_EQ(r->placement[i].cpu, p.steps[i].kind == StepKind::kFloat) << i;
    if (i > 0) {
      EXPECT_EQ(r->placement[i].subgraph,
                r->placement[i - 1].subgraph + (r->placement[i].cpu != r->placement[i - 1].cpu ? 1 : 0));
    }
  }
  const PlacementSummary s = summarize_placement(r->placement);
  EXPECT_GE(s.npu_subgraphs, 1);
  EXPECT_GE(s.cpu_subgraphs, 1);
  EXPECT_EQ(s.npu_subgraphs + s.cpu_subgraphs, r->placement.back().subgraph + 1);
}

TEST(BinFormat, MemoryPlanRoundTripsAndIsChecked) {
  const IntProgram p = lowered(every_kind_model(3).graph);
  BinMetadata m = test_metadata();
  BinMemoryPlan plan;
  plan.arena_bytes = 4096;
  for (size_t i = 0; i < p.tensors.size(); ++i) plan.offsets.push_back(i % 2 ? binfmt::kNotInArena : 64 * (i % 4));
  m.memory_plan = plan;
  auto r = read_bin(as_span(serialized(p, m)), "m.bin");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_TRUE(r->metadata.memory_plan.has_value());
  EXPECT_EQ(r->metadata.memory_plan->offsets, plan.offsets);
  EXPECT_EQ(r->metadata.memory_plan->arena_bytes, 4096u);

  m.memory_plan->arena_bytes = 8;  // every planned tensor is larger than 8 bytes
  expect_has(read_error(serialized(p, m)), "ends past the arena (8 bytes)");
  m.memory_plan->offsets.pop_back();
  auto bad = serialize_bin(p, m);
  ASSERT_FALSE(bad.ok());
  expect_has(bad.status().message(), "offsets for");
}

TEST(BinFormat, WriterRejectsInputSpecsThatDoNotMatch) {
  const IntProgram p = lowered(every_kind_model(3).graph);
  BinMetadata m = test_metadata();
  m.inputs[0].name = "data";
  auto r = serialize_bin(p, m);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "bin writer: input spec 0 is named 'data' but program input 0 is 'image'");
  m.inputs.clear();  // defaults: featuremap specs
  auto d = read_bin(as_span(serialized(p, m)), "m.bin");
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->metadata.inputs[0].type_rt, ColorType::kFeaturemap);
  EXPECT_EQ(d->metadata.inputs[0].name, "image");
}

TEST(BinFormat, WriteModelBinLowersWritesAndReadsBack) {
  const Model m = every_kind_model(7);
  const std::string path = std::string(QMAP_BINARY_DIR) + "/bin_format_test_model.bin";
  BinMetadata meta = test_metadata();
  ASSERT_TRUE(write_model_bin(m.graph, meta, path).ok());
  auto r = read_bin_file(path);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(program_text(r->program), program_text(lowered(m.graph)));
  meta.inputs[0].name = "other";
  const Status st = write_model_bin(m.graph, meta, path).status();
  EXPECT_NE(st.message().find("model input 'image' has no input_parameters entry"), std::string::npos) << st.message();
}

// ---- one corrupted file per defect class ----

class BinCorrupt : public ::testing::Test {
 protected:
  void SetUp() override {
    program_ = lowered(every_kind_model(11).graph);
    good_ = serialized(program_);
  }
  // Index of the first step of `kind`.
  size_t step_of(StepKind kind) const {
    for (size_t i = 0; i < program_.steps.size(); ++i)
      if (program_.steps[i].kind == kind) return i;
    QMAP_CHECK(false, "no step of kind {}", static_cast<int>(kind));
    return 0;
  }
  IntProgram program_;
  std::string good_;
};

TEST_F(BinCorrupt, BadMagic) {
  std::string b = good_;
  b[3] = 'X';
  EXPECT_EQ(read_error(b),
            "bin 'm.bin': header magic at offset 0 is 51 4d 41 58 42 49 4e 00: not a qmap .bin file (expected "
            "\"QMAPBIN\\0\")");
  EXPECT_EQ(read_error(""), "bin 'm.bin': header magic at offset 0 is empty: not a qmap .bin file (expected \"QMAPBIN\\0\")");
}

TEST_F(BinCorrupt, NewerVersion) {
  std::string b = good_;
  put_at<uint32_t>(b, binfmt::kOffVersion, binfmt::kFormatVersion + 1);
  EXPECT_EQ(read_error(b), fmt::format("bin 'm.bin': made by a newer qmap (format v{}; this qmap reads v{})",
                                       binfmt::kFormatVersion + 1, binfmt::kFormatVersion));
}

// Formats v1-v3 stored every kind's fields in every step; v4 stores each kind's own. An older
// file is refused up front, saying what to do, not misread.
TEST_F(BinCorrupt, OlderFormatsAreRefusedWithWhatToDo) {
  for (uint32_t v = 1; v < binfmt::kMinFormatVersion; ++v) {
    std::string b = good_;
    put_at<uint32_t>(b, binfmt::kOffVersion, v);
    reseal(b);
    EXPECT_EQ(read_error(b), fmt::format("bin 'm.bin': made by an older qmap (format v{}; this qmap reads v{} to v{}, "
                                         "whose steps store their own kind's parameters): rebuild it with `qmap "
                                         "makertbin --config <its YAML>`",
                                         v, binfmt::kMinFormatVersion, binfmt::kFormatVersion));
  }
}

// v5 added a step kind (channel_lut); v6 the optional PACKED section and the payload checksum
// (header offset 48, reserved before); v7 a step kind (add_q15). A v6 file without PACKED,
// resealed with one checksum and another readable version number, reads the same.
TEST_F(BinCorrupt, OlderReadableVersionsRead) {
  // Before v7 an Add is the exact kind (its parameters are the same).
  auto without_add_q15 = [](IntProgram p) {
    for (Step& s : p.steps)
      if (s.kind == StepKind::kAddQ15) s.kind = StepKind::kAdd;
    return p;
  };
  const IntProgram v4_program = without_add_q15(lowered(every_kind_model(11, /*prelu=*/false).graph));  // no channel_lut
  const std::string v6_file = serialized(without_add_q15(program_));
  const size_t lut = step_of(StepKind::kChannelLut), add_q15 = step_of(StepKind::kAddQ15);
  for (uint32_t v = binfmt::kMinFormatVersion; v <= binfmt::kFormatVersion; ++v) {
    std::string b = v < 5 ? serialized(v4_program) : v < 7 ? v6_file : good_;
    put_at<uint32_t>(b, binfmt::kOffVersion, v);
    reseal(b);
    auto r = read_bin(as_span(b), "m.bin");
    ASSERT_TRUE(r.ok()) << "v" << v << ": " << r.status().message();
    EXPECT_EQ(r->format_version, v);
  }
  // A step kind is read only from the version that added it on.
  std::string b = v6_file;
  put_at<uint32_t>(b, binfmt::kOffVersion, 4);
  reseal(b);
  expect_has(read_error(b), fmt::format("step {} '{}' is a channel_lut step, which format v5 added: a v4 file cannot "
                                        "hold one",
                                        lut, program_.steps[lut].node));
  b = good_;
  put_at<uint32_t>(b, binfmt::kOffVersion, 6);
  reseal(b);
  expect_has(read_error(b), fmt::format("step {} '{}' is a add_q15 step, which format v7 added: a v6 file cannot "
                                        "hold one",
                                        add_q15, program_.steps[add_q15].node));
}

// Published XXH64 values (seed 0), as `xxhsum -H1` prints them, across every tail length
// (8-, 4- and 1-byte steps) and the 32-byte stripe loop.
// PACKED (v6): fast kernels' packed weights per convolution step. They round-trip as bytes,
// and the reader refuses entries that name no convolution, repeat a (step, layout) pair, have
// no bytes or a layout that is not a short printable word. A v5 file cannot carry them.
TEST_F(BinCorrupt, PackedSectionRoundTripsAndIsChecked) {
  const size_t conv = step_of(StepKind::kConv);
  const int64_t m = program_.steps[conv].conv_weights()->geom.m;
  auto with = [&](std::vector<PackedWeights> packs) {
    IntProgram p = program_;
    p.packed = std::move(packs);
    return serialized(p);
  };
  // An entry for step `step` of `n` weight bytes `v` and `sums` row sums.
  auto pk = [&](size_t step, const std::string& layout, size_t n, uint8_t v, int64_t sums) {
    return PackedWeights{static_cast<int32_t>(step), layout, std::vector<std::byte>(n, std::byte{v}),
                         std::vector<int64_t>(static_cast<size_t>(sums), v)};
  };
  const std::string good = with({pk(conv, "avx512vnni.gemm8.1", 192, 0x11, m), pk(conv, "avx2.gemm6x2.k64.1", 100, 0x22, m)});
  auto r = read_bin(as_span(good), "m.bin");
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->program.packed.size(), 2u);
  EXPECT_EQ(r->program.packed[0].step, static_cast<int32_t>(conv));
  EXPECT_EQ(r->program.packed[1].layout, "avx2.gemm6x2.k64.1");
  EXPECT_EQ(r->program.packed[1].bytes, pk(conv, "", 100, 0x22, m).bytes);
  EXPECT_EQ(r->program.packed[1].row_sums, pk(conv, "", 100, 0x22, m).row_sums);
  EXPECT_EQ(serialized(r->program), good);
  EXPECT_EQ(get_at<uint64_t>(good, entry_of(good, binfmt::SectionType::kPacked) + 8) % 64, 0u);

  const size_t add = step_of(StepKind::kAdd);
  expect_has(read_error(with({pk(999, "avx2.x.1", 8, 1, m)})), "PACKED entry 0 at offset ");
  expect_has(read_error(with({pk(999, "avx2.x.1", 8, 1, m)})),
             fmt::format(": step 999: out of range (the program has {} steps)", program_.steps.size()));
  expect_has(read_error(with({pk(add, "avx2.x.1", 8, 1, m)})),
             fmt::format(": step {} '{}' is a add step: only convolutions have packed weights", add,
                         program_.steps[add].node));
  expect_has(read_error(with({pk(conv, "avx2.x.1", 8, 1, m), pk(conv, "avx2.x.1", 8, 2, m)})),
             "PACKED entry 1 at offset ");
  expect_has(read_error(with({pk(conv, "avx2.x.1", 8, 1, m), pk(conv, "avx2.x.1", 8, 2, m)})),
             ": a second blob of layout 'avx2.x.1' for step ");
  expect_has(read_error(with({pk(conv, "avx2 x", 8, 1, m)})), "layout at offset ");
  expect_has(read_error(with({pk(conv, "avx2 x", 8, 1, m)})), ": 'avx2 x': 1 to 64 printable characters without spaces");
  expect_has(read_error(with({pk(conv, "avx2.x.1", 0, 1, m)})), ": empty: a packed entry holds bytes");
  expect_has(read_error(with({pk(conv, "avx2.x.1", 8, 1, m + 1)})),
             fmt::format(": {} bytes for {} output channels: one i64 each", 8 * (m + 1), m));

  std::string v5 = good;
  put_at<uint32_t>(v5, binfmt::kOffVersion, 5);
  reseal(v5);
  expect_has(read_error(v5), "section type 8: not a v5 section type (1..7)");

  // Every byte of the section flipped (re-sealed) is read or rejected, never a crash.
  const size_t e = entry_of(good, binfmt::SectionType::kPacked);
  const uint64_t at = get_at<uint64_t>(good, e + 8), size = get_at<uint64_t>(good, e + 16);
  for (uint64_t i = at; i < at + size; ++i) {
    std::string b = good;
    b[i] = static_cast<char>(b[i] ^ 0x81);
    reseal(b);
    auto rb = read_bin(as_span(b), "m.bin");
    if (!rb.ok()) {
      EXPECT_EQ(rb.status().message().rfind("bin 'm.bin': ", 0), 0u) << rb.status().message();
    }
  }
}

TEST(BinFormat, Xxh64MatchesTheReferenceValues) {
  auto h = [](std::string_view s) { return binfmt::xxh64(std::as_bytes(std::span(s.data(), s.size()))); };
  EXPECT_EQ(h(""), 0xef46db3751d8e999ull);
  EXPECT_EQ(h("abc"), 0x44bc2cf5ad770999ull);
  EXPECT_EQ(h("The quick brown fox jumps over the lazy dog"), 0x0b242d361fda71bcull);
  EXPECT_EQ(h("0123456789abcdef0123456789abcdef0123456789abcdefXYZ"), 0x2068b5be32b6d8dcull);
}

TEST_F(BinCorrupt, Truncated) {
  std::string b = good_.substr(0, good_.size() - 100);
  EXPECT_EQ(read_error(b), fmt::format("bin 'm.bin': truncated: the header says the file has {} bytes, it has {}",
                                       good_.size(), good_.size() - 100));
  EXPECT_EQ(read_error(good_.substr(0, 20)), "bin 'm.bin': truncated: the file has 20 bytes, a .bin header alone is 64");
  expect_has(read_error(good_ + "xx"), "2 bytes after the end the header declares");
}

// v6 has two checksums: the structure's (everything before BLOBS), always checked, and the
// payload's (BLOBS), checked unless the reader is told to skip it (the runtime's load, where
// hashing every weight byte would cost more than the rest of the load).
TEST_F(BinCorrupt, ChecksumMismatch) {
  std::string b = good_;
  b[get_at<uint64_t>(b, entry_of(b, binfmt::SectionType::kMetadata) + 8) + 4] ^= 0x5a;  // a metadata byte
  std::string msg = read_error(b);
  expect_has(msg, "bin 'm.bin': checksum mismatch: the header (offset 40) says 0x");
  expect_has(msg, "(XXH64): the file is corrupt");

  b = good_;
  b[b.size() - 1] ^= 0x5a;  // last blob byte
  msg = read_error(b);
  expect_has(msg, "bin 'm.bin': payload checksum mismatch: the header (offset 48) says 0x");
  expect_has(msg, "(BLOBS: weights, tables, constants) hash to 0x");
  auto skipped = read_bin(as_span(b), "m.bin", nullptr, BinReadOptions{.check_payload = false});
  EXPECT_TRUE(skipped.ok()) << skipped.status().message();

  // A v5 file has one checksum over everything, payload included, always checked.
  b = good_;
  put_at<uint32_t>(b, binfmt::kOffVersion, 5);
  reseal(b);
  b[b.size() - 1] ^= 0x5a;
  auto v5 = read_bin(as_span(b), "m.bin", nullptr, BinReadOptions{.check_payload = false});
  ASSERT_FALSE(v5.ok());
  expect_has(v5.status().message(), "bin 'm.bin': checksum mismatch: the header (offset 40) says 0x");
}

// The payload of a v6 file is BLOBS, which must end the file: a section after it would be
// covered by neither checksum.
TEST_F(BinCorrupt, BlobsEndTheFile) {
  std::string b = good_;
  const size_t e = entry_of(b, binfmt::SectionType::kBlobs);
  put_at<uint64_t>(b, e + 16, get_at<uint64_t>(b, e + 16) - 1);
  reseal(b);
  expect_has(read_error(b), "does not end the file");
  expect_has(read_error(b), fmt::format("in a v{} file BLOBS is the last section", binfmt::kFormatVersion));
}

TEST_F(BinCorrupt, SectionOffsetPastTheEnd) {
  std::string b = good_;
  const size_t e = entry_of(b, binfmt::SectionType::kSteps);
  put_at<uint64_t>(b, e + 8, (good_.size() + 64) / 64 * 64);
  reseal(b);
  expect_has(read_error(b), "(STEPS): offset ");
  expect_has(read_error(b), fmt::format("ends past the end of the file ({} bytes)", good_.size()));
  // An offset + size that overflows uint64 is the same defect, not a wrap-around.
  put_at<uint64_t>(b, e + 8, 0xffffffffffffffc0ull);
  reseal(b);
  expect_has(read_error(b), "ends past the end of the file");
}

TEST_F(BinCorrupt, OverlappingSections) {
  std::string b = good_;
  const uint64_t tensors_at = get_at<uint64_t>(b, entry_of(b, binfmt::SectionType::kTensors) + 8);
  put_at<uint64_t>(b, entry_of(b, binfmt::SectionType::kIo) + 8, tensors_at);
  reseal(b);
  const std::string msg = read_error(b);
  expect_has(msg, "section IO [");
  expect_has(msg, "section TENSORS [");
  expect_has(msg, "overlap");
}

TEST_F(BinCorrupt, OverlappingTensorBlobs) {
  // Point the constant 'shape' tensor's payload at the 'scales' tensor's bytes.
  std::string b = good_;
  auto blob_field = [&](const std::string& name, int64_t rank) {
    // name, dtype 4, dims 4 + 8 rank, quant 1 + 4 + 4, constant flag 1, dtype 4, dims 4 + 8 rank
    return after_string(b, name) + 4 + 4 + 8 * rank + 9 + 1 + 4 + 4 + 8 * rank;
  };
  const size_t shape_ref = blob_field("shape", 1);
  const size_t scales_ref = blob_field("scales", 1);
  ASSERT_EQ(get_at<uint64_t>(b, shape_ref + 8), 16u);   // 2 int64
  ASSERT_EQ(get_at<uint64_t>(b, scales_ref + 8), 16u);  // 4 float32
  put_at<uint64_t>(b, shape_ref, get_at<uint64_t>(b, scales_ref));
  reseal(b);
  const std::string msg = read_error(b);
  expect_has(msg, "BLOBS: tensor ");
  expect_has(msg, "'shape' constant");
  expect_has(msg, "'scales' constant");
  expect_has(msg, "overlap: every blob has its own bytes");
}

TEST_F(BinCorrupt, BlobPastTheEndOfBlobs) {
  std::string b = good_;
  const size_t ref = after_string(b, "shape") + 4 + 12 + 9 + 1 + 4 + 12;
  put_at<uint64_t>(b, ref, 1ull << 40);
  reseal(b);
  expect_has(read_error(b), "ends past the end of the BLOBS section");
}

TEST_F(BinCorrupt, OpIdOutOfRange) {
  IntProgram p = program_;
  const size_t si = step_of(StepKind::kConv);
  p.steps[si].op = static_cast<OpId>(9999);
  const std::string msg = read_error(serialized(p));
  expect_has(msg, "bin 'm.bin': STEPS at offset ");
  expect_has(msg, fmt::format(": conv '{}' (step {}): op id 9999 (Conv): not an op this qmap knows (ids in "
                              "ops/op_list.def)",
                              p.steps[si].node, si));
}

TEST_F(BinCorrupt, StepKindOutOfRange) {
  std::string b = good_;
  const std::string& node = program_.steps[0].node;
  const size_t kind_at = after_string(b, node) - node.size() - 4 - 4;  // kind u16, op u16, then the name
  ASSERT_EQ(get_at<uint16_t>(b, kind_at), static_cast<uint16_t>(program_.steps[0].kind));
  put_at<uint16_t>(b, kind_at, 77);
  reseal(b);
  EXPECT_EQ(read_error(b), fmt::format("bin 'm.bin': STEPS at offset {}: step kind 77 '{}' (step 0): not a step kind "
                                       "(1..{})",
                                       kind_at, node, kMaxStepKind));
}

// An add_q15 step whose multipliers have no short form (a ratio of 4 or more) is refused at
// load, naming them and the rule; the same multipliers in an exact add step read.
TEST_F(BinCorrupt, AddQ15WithoutAShortForm) {
  IntProgram p = program_;
  const size_t si = step_of(StepKind::kAddQ15);
  auto& bp = std::get<BinaryParams>(p.steps[si].params);
  bp.multipliers = {quantize_multiplier(8.0), quantize_multiplier(1.0)};
  expect_has(read_error(serialized(p)),
             fmt::format("add_q15 '{}' (step {}): add_q15 multipliers (m {}, shift {}) and (m {}, shift {}) have no short "
                         "form: it needs min(shift) - 16 >= 13 (ratios below 4)",
                         p.steps[si].node, si, bp.multipliers[0].m, bp.multipliers[0].shift, bp.multipliers[1].m,
                         bp.multipliers[1].shift));
  p.steps[si].kind = StepKind::kAdd;
  EXPECT_EQ(read_error(serialized(p)), "(read succeeded)");
}

TEST_F(BinCorrupt, TensorIndexOutOfRange) {
  IntProgram p = program_;
  const size_t si = step_of(StepKind::kAdd);
  p.steps[si].inputs[1] = 4000;
  const std::string msg = read_error(serialized(p));
  expect_has(msg, fmt::format("STEPS at offset "));
  expect_has(msg, fmt::format(": add '{}' (step {}): inputs[1] is tensor 4000: out of range (the program has {} tensors)",
                              p.steps[si].node, si, p.tensors.size()));
  p = program_;
  p.outputs[0] = -3;
  expect_has(read_error(serialized(p)), "IO output 0 at offset");
}

TEST_F(BinCorrupt, TensorReadBeforeWrittenOrWrittenTwice) {
  // The Add reads the Mul's output (same dtype and size), which the Mul only writes later.
  IntProgram p = program_;
  const size_t add = step_of(StepKind::kAdd), mul = step_of(StepKind::kMul);
  ASSERT_LT(add, mul);
  const int32_t later = p.steps[mul].outputs[0];
  p.steps[add].inputs[0] = later;
  expect_has(read_error(serialized(p)), fmt::format("STEPS step {} '{}' reads tensor {} '{}' before any step writes it",
                                                    add, p.steps[add].node, later, p.tensors[static_cast<size_t>(later)].name));
  p = program_;
  p.steps[mul].outputs[0] = p.steps[add].outputs[0];
  expect_has(read_error(serialized(p)), fmt::format("STEPS step {} '{}' writes tensor {} '{}', already written by an "
                                                    "earlier step: each tensor has one producer",
                                                    mul, p.steps[mul].node, p.steps[add].outputs[0],
                                                    p.tensors[static_cast<size_t>(p.steps[add].outputs[0])].name));
}

TEST_F(BinCorrupt, SizeOverflow) {
  IntProgram p = program_;
  const int32_t t = p.steps[step_of(StepKind::kConv)].outputs[0];
  p.tensors[static_cast<size_t>(t)].dims = {1ll << 32, 1ll << 32};
  const std::string msg = read_error(serialized(p));
  expect_has(msg, fmt::format("TENSORS tensor {} '{}' dims at offset", t, p.tensors[static_cast<size_t>(t)].name));
  expect_has(msg, "4294967296x4294967296: the element count overflows int64");
  p.tensors[static_cast<size_t>(t)].dims = {3, -1};
  expect_has(read_error(serialized(p)), "dimension 1 is -1: dimensions are non-negative");
  // Within int64, over the per-tensor limit (core/limits.h): the context would allocate 2^30
  // bytes of arena for a file of a few kilobytes.
  p.tensors[static_cast<size_t>(t)].dims = {1, 1ll << 15, 1ll << 15};
  expect_has(read_error(serialized(p)), "1x32768x32768: more than 2^29 elements, over qmap's limit for one tensor");
}

TEST_F(BinCorrupt, BlobSizeDisagreesWithGeometry) {
  IntProgram p = program_;
  const size_t si = step_of(StepKind::kConv);
  p.steps[si].as<ConvParams>().weights.pop_back();
  expect_has(read_error(serialized(p)), fmt::format("conv '{}' (step {}): weights blob holds 107 values: "
                                                    "M*C/group*KH*KW int8 = 108",
                                                    p.steps[si].node, si));
  p = program_;
  p.steps[step_of(StepKind::kLut)].as<LutParams>().table.resize(255);
  expect_has(read_error(serialized(p)), "table holds 255 values: one entry per 8-bit input value = 256");
  p = program_;
  p.steps[si].as<ConvParams>().geom.oh += 1;
  expect_has(read_error(serialized(p)), "has 256 elements (1x4x8x8): conv geometry N*M*OH*OW = 288");
}

// Conv geometry whose windows run far past the input (a corrupt dilation, stride or output
// size): kernels size their packed row planes by the kernel extent and the output width, so
// the validator stops it before any of them is prepared.
TEST_F(BinCorrupt, ConvWindowsFarOutsideTheInput) {
  const size_t si = step_of(StepKind::kConv);
  IntProgram p = program_;
  p.steps[si].as<ConvParams>().geom.dil_w = 60000;
  const std::string msg = read_error(serialized(p));
  expect_has(msg, fmt::format("conv '{}' (step {}): conv width: input 8 + leading pad", p.steps[si].node, si));
  expect_has(msg, "dilation 60000");
  expect_has(msg, "the windows must lie near the padded input");
  p = program_;
  p.steps[si].as<ConvParams>().geom.stride_h = 60000;
  expect_has(read_error(serialized(p)), "conv height: input 8 + leading pad");
}

// The window checks scale with the pad, so pads (and strides, dilations) also have a fixed
// bound: a pad near 2^63 passed them and overflowed the kernel's int64 row offsets (the bin
// fuzzer's fuzz/regressions/bin/conv_pad_near_int64_max.bin).
TEST_F(BinCorrupt, ConvPadsStridesAndDilationsAreBounded) {
  const size_t si = step_of(StepKind::kConv);
  using G = kernels::ref::ConvGeometry2d;
  for (int64_t G::*field : {&G::pad_top, &G::pad_left, &G::stride_h, &G::dil_w}) {
    for (const int64_t v : {kMaxConvWindowParam + 1, std::numeric_limits<int64_t>::max() - 1000}) {
      IntProgram p = program_;
      p.steps[si].as<ConvParams>().geom.*field = v;
      const std::string msg = read_error(serialized(p));
      expect_has(msg, fmt::format("conv '{}' (step {}): conv pads", p.steps[si].node, si));
      expect_has(msg, fmt::format("has {}: each is at most 65535", v));
    }
  }
}

// A move or float step's declared outputs are what its op infers from the declared inputs: the
// runtime sizes its arena by them before anything runs (the bin fuzzer's 2-KB file declared a
// 2 GiB Transpose output, fuzz/regressions/bin/transpose_output_forged_2gib.bin).
TEST_F(BinCorrupt, GenericStepOutputsAreWhatTheOpInfers) {
  IntProgram p = program_;
  const size_t si = step_of(StepKind::kFloat);
  ProgramTensor& y = p.tensors[static_cast<size_t>(p.steps[si].outputs[0])];
  const std::string want = dims_str(y.dims);
  y.dims = {1, 3, 2752516, 65};
  const std::string msg = read_error(serialized(p));
  expect_has(msg, fmt::format("float '{}' (step {}): output 0 '{}' is float32 1x3x2752516x65: {} infers float32 {} "
                              "from the inputs",
                              p.steps[si].node, si, y.name, p.steps[si].op_type, want));
  // An attribute of another type than the op defines would abort the op's infer: refused.
  p = program_;
  const auto softmax = std::find_if(p.steps.begin(), p.steps.end(), [](const Step& s) { return s.op_type == "Softmax"; });
  ASSERT_NE(softmax, p.steps.end());
  softmax->as<GenericParams>().attrs["axis"] = std::string("one");
  expect_has(read_error(serialized(p)), "attribute 'axis' has type string: Softmax expects int");
}

// A move or float step's inputs are counted against its op before the op's infer reads them
// by position (the bin fuzzer's one-input Mul read past its input list,
// fuzz/regressions/bin/float_mul_one_input.bin).
TEST_F(BinCorrupt, GenericStepInputCountsAreTheOps) {
  IntProgram p = program_;
  const auto softmax = std::find_if(p.steps.begin(), p.steps.end(), [](const Step& s) { return s.op_type == "Softmax"; });
  ASSERT_NE(softmax, p.steps.end());
  const size_t si = static_cast<size_t>(softmax - p.steps.begin());
  softmax->inputs.push_back(softmax->inputs[0]);
  expect_has(read_error(serialized(p)),
             fmt::format("(step {}): Softmax '{}': has 2 inputs: Softmax takes 1 to 1", si, softmax->node));
  p = program_;
  p.steps[si].outputs.push_back(p.steps[si].outputs[0]);
  expect_has(read_error(serialized(p)), "has 2 outputs: Softmax produces 1 to 1");
}

// The reader and the runtime's prepare run one step validator (program/step_check.h): the same
// defect gives the same message behind each one's prefix.
TEST_F(BinCorrupt, ReaderAndPrepareShareTheStepValidator) {
  IntProgram p = program_;
  const size_t si = step_of(StepKind::kConcat);
  p.steps[si].as<ConcatParams>().requant.push_back(1);
  const Status direct = check_step(p, si);
  ASSERT_FALSE(direct.ok());
  expect_has(direct.message(), fmt::format("concat '{}' (step {}): concat requant flags holds {} values: one per input",
                                           p.steps[si].node, si, p.steps[si].as<ConcatParams>().requant.size()));
  const std::string read = read_error(serialized(p));
  expect_has(read, "bin 'm.bin': STEPS at offset ");
  expect_has(read, fmt::format(": {}", direct.message()));
  auto ex = rt::Executor::prepare(p);
  ASSERT_FALSE(ex.ok());
  EXPECT_EQ(ex.status().message(), fmt::format("runtime: {}", direct.message()));
}

TEST_F(BinCorrupt, UnknownSectionAndStringPastTheEnd) {
  std::string b = good_;
  put_at<uint32_t>(b, entry_of(b, binfmt::SectionType::kPlacement), 42);
  reseal(b);
  expect_has(read_error(b), fmt::format("section type 42: not a v{} section type (1..{})", binfmt::kFormatVersion, binfmt::max_section_type(binfmt::kFormatVersion)));
  b = good_;
  const size_t len_at = after_string(b, "9.8.7") - 5 - 4;  // the qmap version's length
  put_at<uint32_t>(b, len_at, 1u << 30);
  reseal(b);
  expect_has(read_error(b), fmt::format("METADATA qmap version at offset {}: string length 1073741824 runs past the "
                                        "section end", len_at));
}

// Every single-byte change, re-sealed, is either read or rejected: never a crash, an abort or
// a runaway allocation (the reader checks before it uses).
TEST_F(BinCorrupt, EveryByteFlipIsReadOrRejected) {
  int rejected = 0;
  for (size_t i = 0; i < good_.size(); ++i) {
    std::string b = good_;
    b[i] = static_cast<char>(b[i] ^ 0x81);
    reseal(b);
    auto r = read_bin(as_span(b), "m.bin");
    rejected += !r.ok();
    if (!r.ok()) {
      EXPECT_EQ(r.status().message().rfind("bin 'm.bin': ", 0), 0u) << r.status().message();
    }
  }
  EXPECT_GT(rejected, 0);
}

// docs/format.md lists each kind's step fields as the one description (step_params.h) orders
// them, which the writer and reader follow: a field added to a parameter type without the doc
// fails here.
TEST(BinFormatDoc, StepFieldsListedAsTheDescriptionOrdersThem) {
  auto doc = read_file(std::string(QMAP_SOURCE_DIR) + "/docs/format.md");
  ASSERT_TRUE(doc.ok()) << doc.status().message();
  const std::string layout = step_params_layout();
  EXPECT_NE(doc->find(layout), std::string::npos) << "docs/format.md §3 STEPS should list, verbatim:\n" << layout;
}

}  // namespace
}  // namespace qmap
