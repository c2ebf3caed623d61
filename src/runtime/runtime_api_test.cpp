// The public runtime API (include/qmap/runtime.h, runtime_c.h) on models built in memory from
// QDQ graphs: bit-exact with IntSimulator, nv12 inputs converted as the image pipeline does,
// 4 threads x 20 runs equal to the sequential results, clear errors for wrong inputs, and the
// C API driven from C.
#include "qmap/runtime.h"

#include <gtest/gtest.h>

#include <filesystem>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <regex>
#include <thread>

#include <unistd.h>

#include "format/bin_writer.h"
#include "image/transform.h"
#include "quant/int_simulator.h"
#include "quant/lower.h"
#include "quant/runtime_model.h"
#include "runtime/model_impl.h"
#include "runtime/prepack.h"
#include "runtime/runtime_c_internal.h"
#include "runtime/runtime_test_graphs.h"

extern "C" int qmap_c_api_check(qmap_model* model, const void* input, size_t input_bytes, const float* want,
                                size_t want_count, char* msg, size_t msg_size);

namespace qmap {
namespace {

rt::Model model_of(const Graph& g) {
  auto m = runtime_model_from_qdq_graph(g, "test model");
  QMAP_CHECK(m.ok(), "{}", m.status().message());
  return std::move(m).value();
}

std::vector<std::vector<std::byte>> run_model(rt::Context& ctx, const std::vector<Tensor>& in) {
  for (size_t i = 0; i < in.size(); ++i) ctx.set_input(i, in[i].raw(), in[i].nbytes());
  ctx.run();
  std::vector<std::vector<std::byte>> out;
  for (size_t o = 0;; ++o) {
    try {
      auto r = ctx.output_raw(o);
      out.emplace_back(r.begin(), r.end());
    } catch (const rt::Error&) {
      break;
    }
  }
  return out;
}

TEST(RuntimeApi, MatchesTheSimulatorBitForBit) {
  const auto net = testing::runtime_test_net(11);
  rt::Model model = model_of(net.qdq);
  ASSERT_EQ(model.inputs().size(), 2u);
  EXPECT_EQ(model.inputs()[0].name, "x");
  EXPECT_EQ(model.inputs()[0].dtype, rt::ElemType::kFloat32);
  EXPECT_EQ(model.inputs()[0].dims, (std::vector<int64_t>{1, 3, 12, 12}));
  EXPECT_EQ(model.inputs()[0].color, rt::ColorType::kFeaturemap);
  ASSERT_EQ(model.outputs().size(), 2u);
  EXPECT_GT(model.arena_bytes(), 0u);
  auto sim = IntSimulator::create(net.qdq);
  ASSERT_TRUE(sim.ok());
  rt::Context ctx(model);
  for (uint32_t seed = 1; seed <= 4; ++seed) {
    const auto in = testing::random_inputs(net.inputs, seed);
    const auto got = run_model(ctx, in);
    auto want = sim->run(in);
    ASSERT_TRUE(want.ok());
    ASSERT_EQ(got.size(), want->size());
    for (size_t o = 0; o < got.size(); ++o) {
      ASSERT_EQ(got[o].size(), (*want)[o].nbytes());
      EXPECT_EQ(0, std::memcmp(got[o].data(), (*want)[o].raw(), got[o].size())) << "output " << o << " seed " << seed;
      const auto f = ctx.output_float(o);
      EXPECT_EQ(0, std::memcmp(f.data(), (*want)[o].raw(), got[o].size())) << "float outputs are float32 as is";
    }
  }
}

TEST(RuntimeApi, FourThreadsGiveTheSequentialResults) {
  const auto net = testing::runtime_test_net(12);
  const rt::Model model = model_of(net.qdq);
  constexpr int kThreads = 4, kRuns = 20;
  // Sequential reference, one input set per (thread, run).
  std::vector<std::vector<std::vector<std::byte>>> want(kThreads * kRuns);
  {
    rt::Context ctx(model);
    for (int k = 0; k < kThreads * kRuns; ++k)
      want[static_cast<size_t>(k)] = run_model(ctx, testing::random_inputs(net.inputs, 100 + static_cast<uint32_t>(k)));
  }
  std::vector<std::vector<std::vector<std::byte>>> got(kThreads * kRuns);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] {
      rt::Context ctx(model);
      for (int r = 0; r < kRuns; ++r) {
        const int k = r * kThreads + t;  // interleaved, so threads run different inputs at once
        got[static_cast<size_t>(k)] = run_model(ctx, testing::random_inputs(net.inputs, 100 + static_cast<uint32_t>(k)));
      }
    });
  for (auto& th : threads) th.join();
  for (size_t k = 0; k < got.size(); ++k) EXPECT_EQ(got[k], want[k]) << "input set " << k;
  // Different inputs must give different outputs, or the comparison above proves nothing.
  EXPECT_NE(want[0], want[1]);
}

// With map_file false, Model::load reads the file once and its weights point into that copy
// (not a mapping of the file): a loaded model keeps running, with the same outputs, after its
// file is overwritten in place or deleted. Loads on several threads at once (each packs its
// weights into its own arena) give the same model.
TEST(RuntimeApi, LoadedBinOwnsItsBytesAndLoadsOnManyThreads) {
  const auto net = testing::runtime_test_net(14);
  auto prog = lower_qdq_graph(net.qdq);
  ASSERT_TRUE(prog.ok()) << prog.status().message();
  const std::string path = ::testing::TempDir() + "qmap_load_test_" + std::to_string(::getpid()) + ".bin";
  ASSERT_TRUE(write_bin(path, *prog, BinMetadata{}).ok());
  const rt::Model in_memory = model_of(net.qdq);
  std::vector<std::vector<Tensor>> inputs;
  std::vector<std::vector<std::vector<std::byte>>> want;
  {
    rt::Context ctx(in_memory);
    for (uint32_t seed = 1; seed <= 3; ++seed) {
      inputs.push_back(testing::random_inputs(net.inputs, 300 + seed));
      want.push_back(run_model(ctx, inputs.back()));
    }
  }
  ASSERT_NE(want[0], want[1]) << "different inputs must give different outputs, or the checks prove nothing";

  constexpr int kThreads = 4;
  std::vector<std::optional<rt::Model>> loaded(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&, t] { loaded[static_cast<size_t>(t)].emplace(rt::Model::load(path, {.map_file = false})); });
  for (auto& th : threads) th.join();

  // Overwrite the file with garbage of the same size, then delete it.
  {
    std::FILE* f = std::fopen(path.c_str(), "r+b");
    ASSERT_NE(f, nullptr);
    std::fseek(f, 0, SEEK_END);
    const std::string junk(static_cast<size_t>(std::ftell(f)), '\x5a');
    std::fseek(f, 0, SEEK_SET);
    std::fwrite(junk.data(), 1, junk.size(), f);
    std::fclose(f);
  }
  std::remove(path.c_str());
  for (int t = 0; t < kThreads; ++t) {
    rt::Context ctx(*loaded[static_cast<size_t>(t)]);
    for (size_t k = 0; k < inputs.size(); ++k) EXPECT_EQ(run_model(ctx, inputs[k]), want[k]) << "thread " << t << " input " << k;
  }
}

// By default Model::load maps the file. A model keeps running, with the same outputs, when
// its file is replaced by a rename (as makertbin writes) and then deleted: the mapping holds
// the old file's pages.
TEST(RuntimeApi, MappedBinSurvivesReplacementByRename) {
  const auto net = testing::runtime_test_net(14);
  auto prog = lower_qdq_graph(net.qdq);
  ASSERT_TRUE(prog.ok()) << prog.status().message();
  const std::string path = ::testing::TempDir() + "qmap_map_test_" + std::to_string(::getpid()) + ".bin";
  ASSERT_TRUE(write_bin(path, *prog, BinMetadata{}).ok());
  // The reference kernels run on the mapped weights (a load that will pack weights for a fast
  // kernel reads a copy instead: packing from a mapping costs more in page faults).
  const rt::Model mapped = rt::Model::load(path, {.isa = "ref"});
  const std::vector<Tensor> in = testing::random_inputs(net.inputs, 7);
  std::vector<std::vector<std::byte>> want;
  {
    rt::Context ctx(model_of(net.qdq));
    want = run_model(ctx, in);
  }
  auto other = lower_qdq_graph(testing::runtime_test_net(15).qdq);
  ASSERT_TRUE(other.ok()) << other.status().message();
  ASSERT_TRUE(write_bin(path, *other, BinMetadata{}).ok());  // a new file renamed over the old
  std::remove(path.c_str());
  rt::Context ctx(mapped);
  EXPECT_EQ(run_model(ctx, in), want);
}

// runtime_test_net(14) lowered, written without PACKED into a fresh folder `dir`, and its
// outputs on the reference kernels for `in`: what the PACKED tests compare against.
struct PackedCase {
  IntProgram prog;
  std::string dir;
  std::vector<Tensor> in;
  std::vector<std::vector<std::byte>> want;
};
PackedCase packed_case(const std::string& name) {
  const auto net = testing::runtime_test_net(14);
  auto prog = lower_qdq_graph(net.qdq);
  QMAP_CHECK(prog.ok(), "{}", prog.status().message());
  PackedCase c{std::move(*prog), ::testing::TempDir() + name + "_" + std::to_string(::getpid()),
               testing::random_inputs(net.inputs, 9), {}};
  std::filesystem::create_directories(c.dir);
  QMAP_CHECK(write_bin(c.dir + "/plain.bin", c.prog, BinMetadata{}).ok(), "write_bin");
  rt::Context ctx(rt::Model::load(c.dir + "/plain.bin", {.isa = "ref"}));
  c.want = run_model(ctx, c.in);
  return c;
}

// A .bin with packed convolution weights (PACKED) for an ISA: a load on that ISA adopts them
// (no packing), and every ISA gives the outputs of the file without them; a load on another
// ISA ignores them. Weights hashed or not, mapped or read, the results are the same.
TEST(RuntimeApi, PackedWeightsAreAdoptedOnTheirIsaAndIgnoredElsewhere) {
  PackedCase c = packed_case("qmap_packed_test");
  const IntProgram* prog = &c.prog;
  const std::string& dir = c.dir;
  const std::vector<Tensor>& in = c.in;
  const auto& want = c.want;
  int packed_isas = 0;
  for (const kernels::Isa isa : kernels::host_isas()) {
    if (isa == kernels::Isa::kRef) continue;
    IntProgram p = *prog;
    p.packed = rt::prepack_conv_weights(p, isa);
    if (p.packed.empty()) continue;  // no convolution this ISA packs
    ++packed_isas;
    const std::string path = dir + "/" + kernels::isa_name(isa) + ".bin";
    ASSERT_TRUE(write_bin(path, p, BinMetadata{}).ok());
    for (const kernels::Isa run_isa : kernels::host_isas())
      for (const bool map : {true, false}) {
        const rt::Model m =
            rt::Model::load(path, {.isa = kernels::isa_name(run_isa), .map_file = map, .check_weights = !map});
        EXPECT_EQ(m.impl().exec.adopted_packed_steps(), run_isa == isa ? p.packed.size() : 0u)
            << "packed for " << kernels::isa_name(isa) << ", run on " << kernels::isa_name(run_isa);
        rt::Context ctx(m);
        EXPECT_EQ(run_model(ctx, in), want) << "packed for " << kernels::isa_name(isa) << ", run on "
                                            << kernels::isa_name(run_isa);
      }
  }
  std::filesystem::remove_all(dir);
  if (packed_isas == 0) GTEST_SKIP() << "this CPU has no ISA with packed convolution kernels";
}

// A PACKED section whose row sums no int8 weights could have (the file's weights are mapped,
// not read, so the reader cannot tell) costs those steps their adoption: the kernel packs the
// step's own weights and the outputs are the file's without PACKED. The fuzzer's input had a
// sum near 2^56, whose bias fold overflowed int64.
TEST(RuntimeApi, PackedRowSumsOutOfRangeAreNotAdopted) {
  PackedCase c = packed_case("qmap_packed_sums_test");
  const IntProgram* prog = &c.prog;
  const std::string& dir = c.dir;
  const std::vector<Tensor>& in = c.in;
  const auto& want = c.want;
  int packed_isas = 0;
  for (const kernels::Isa isa : kernels::host_isas()) {
    if (isa == kernels::Isa::kRef) continue;
    IntProgram p = *prog;
    p.packed = rt::prepack_conv_weights(p, isa);
    if (p.packed.empty()) continue;
    ++packed_isas;
    // The first entry's first sum far out of range, the last entry's just past 128 per weight
    // (one entry gets both when there is only one).
    const auto damage = [](PackedWeights& pw, size_t m, int64_t v) {
      std::vector<int64_t> sums(pw.row_sums.begin(), pw.row_sums.end());
      sums[m] = v;
      pw.row_sums = SharedArray<int64_t>(std::move(sums));
    };
    damage(p.packed.front(), 0, int64_t{1} << 56);
    const auto& g = p.steps[static_cast<size_t>(p.packed.back().step)].conv_weights()->geom;
    damage(p.packed.back(), p.packed.back().row_sums.size() - 1, -128 * (g.c / g.group * g.kh * g.kw) - 1);
    const size_t damaged = p.packed.size() == 1 ? 1 : 2;
    const std::string path = dir + "/" + kernels::isa_name(isa) + ".bin";
    ASSERT_TRUE(write_bin(path, p, BinMetadata{}).ok());
    const rt::Model m = rt::Model::load(path, {.isa = kernels::isa_name(isa)});
    EXPECT_EQ(m.impl().exec.adopted_packed_steps(), p.packed.size() - damaged) << kernels::isa_name(isa);
    rt::Context ctx(m);
    EXPECT_EQ(run_model(ctx, in), want) << kernels::isa_name(isa);
  }
  std::filesystem::remove_all(dir);
  if (packed_isas == 0) GTEST_SKIP() << "this CPU has no ISA with packed convolution kernels";
}

TEST(RuntimeApi, WrongInputSizeNamesTheInputAndTheBytes) {
  const auto net = testing::runtime_test_net(13);
  rt::Model model = model_of(net.qdq);
  rt::Context ctx(model);
  std::vector<float> small(10);
  try {
    ctx.set_input(1, small.data(), small.size() * sizeof(float));
    FAIL() << "no error";
  } catch (const rt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("runtime: input 'y': got 40 bytes, expected 1152 (featuremap float32 1x8x6x6)"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(ctx.set_input("nope", small.data(), 40), rt::Error);
  EXPECT_THROW(ctx.output_raw(7), rt::Error);
  // An intermediate tensor is not kept without keep_all_tensors (its memory is reused).
  auto prog = lower_qdq_graph(net.qdq);
  ASSERT_TRUE(prog.ok());
  const std::string mid = prog->tensors[static_cast<size_t>(prog->steps[1].outputs[0])].name;
  try {
    ctx.tensor_raw(mid);
    ADD_FAILURE() << "no error";
  } catch (const rt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not kept after run()"), std::string::npos) << e.what();
  }
  // A name no tensor has (the sorted index's neighbours of it included) is named in the error.
  for (const std::string& name : {mid + "x", mid.substr(0, mid.size() - 1), std::string("~"), std::string()}) {
    if (std::any_of(prog->tensors.begin(), prog->tensors.end(), [&](const auto& t) { return t.name == name; })) continue;
    try {
      ctx.tensor_raw(name);
      ADD_FAILURE() << "no error for '" << name << "'";
    } catch (const rt::Error& e) {
      EXPECT_NE(std::string(e.what()).find("has no tensor named '" + name + "'"), std::string::npos) << e.what();
    }
  }
  EXPECT_THROW(rt::Model::load("/nonexistent.bin"), rt::Error);
}

// QMAP_ISA / LoadOptions::isa: a known level the CPU has is taken; an unknown value or one
// the CPU lacks is an error naming the value and the levels the CPU has.
TEST(RuntimeApi, IsaSelectionNamesTheValueAndTheCpusLevels) {
  const std::vector<std::string> have = rt::Model::available_isas();
  ASSERT_FALSE(have.empty());
  EXPECT_EQ(have.front(), "ref");
  for (const std::string& isa : have) {
    auto got = rt::select_isa(isa);
    ASSERT_TRUE(got.ok()) << got.status().message();
    EXPECT_EQ(kernels::isa_name(*got), isa);
  }
  auto bad = rt::select_isa("avx9");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("QMAP_ISA 'avx9': not an ISA level (ref, avx2, avxvnni, avx512vnni); this CPU has: ref"),
            std::string::npos)
      << bad.status().message();
  if (have.back() != "avx512vnni") {
    auto missing = rt::select_isa("avx512vnni");
    ASSERT_FALSE(missing.ok());
    EXPECT_NE(missing.status().message().find("this CPU (or this build) has no avx512vnni"), std::string::npos)
        << missing.status().message();
  }
  // The environment variable when no option is given; the option wins over it.
  const char* old = std::getenv("QMAP_ISA");
  const std::string saved = old ? old : "";
  ::setenv("QMAP_ISA", "ref", 1);
  auto from_env = rt::select_isa("");
  ::setenv("QMAP_ISA", "bogus", 1);
  auto env_bad = rt::select_isa("");
  auto option_wins = rt::select_isa(have.back());
  if (old) ::setenv("QMAP_ISA", saved.c_str(), 1);
  else ::unsetenv("QMAP_ISA");
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(*from_env, kernels::Isa::kRef);
  ASSERT_FALSE(env_bad.ok());
  EXPECT_NE(env_bad.status().message().find("QMAP_ISA 'bogus'"), std::string::npos);
  ASSERT_TRUE(option_wins.ok());
}

TEST(RuntimeApi, KeepAllTensorsReadsEveryValueByName) {
  const auto net = testing::runtime_test_net(14);
  rt::Model model = model_of(net.qdq);
  rt::Context ctx(model, {.keep_all_tensors = true});
  auto sim = IntSimulator::create(net.qdq, true);
  ASSERT_TRUE(sim.ok());
  const auto in = testing::random_inputs(net.inputs, 3);
  run_model(ctx, in);
  ASSERT_TRUE(sim->run(in).ok());
  const IntProgram& p = sim->program();
  int compared = 0;
  for (size_t t = 0; t < p.tensors.size(); ++t) {
    const Tensor& want = sim->raw_values()[t];
    if (!want.defined()) continue;
    const auto got = ctx.tensor_raw(p.tensors[t].name);
    ASSERT_EQ(got.size(), want.nbytes()) << p.tensors[t].name;
    EXPECT_EQ(0, std::memcmp(got.data(), want.raw(), got.size())) << p.tensors[t].name;
    ++compared;
  }
  EXPECT_GE(compared, 15);  // inputs, every step's output, constants
}

// NV12 bytes into the runtime vs the simulator fed the yuv444 the image pipeline makes from
// the same NV12 (image/transform.h nv12_to_yuv444, then the model's layout).
void check_nv12(bool nhwc) {
  SCOPED_TRACE(nhwc ? "NHWC" : "NCHW");
  const int64_t h = 6, w = 8;
  const Graph g = testing::image_input_net(nhwc, h, w);
  auto prog = lower_qdq_graph(g);
  ASSERT_TRUE(prog.ok());
  auto m = rt::model_from_program(*prog, {{rt::ColorType::kNv12, nhwc ? rt::Layout::kNHWC : rt::Layout::kNCHW}}, "nv12");
  ASSERT_TRUE(m.ok()) << m.status().message();
  EXPECT_EQ(m->inputs()[0].input_bytes(), static_cast<size_t>(h * w * 3 / 2));
  Nv12Image nv12{h, w, testing::random_inputs({Tensor(DType::kUInt8, {h * 3 / 2, w})}, 9)[0]};
  const Image yuv = nv12_to_yuv444(nv12);  // HWC
  Tensor x = yuv.pixels.reshaped({1, h, w, 3});
  if (!nhwc) {
    Tensor t(DType::kUInt8, {1, 3, h, w});
    for (int64_t p = 0; p < h * w; ++p)
      for (int64_t c = 0; c < 3; ++c) t.data<uint8_t>()[static_cast<size_t>(c * h * w + p)] = x.data<uint8_t>()[static_cast<size_t>(p * 3 + c)];
    x = t;
  }
  auto sim = IntSimulator::create(g);
  ASSERT_TRUE(sim.ok());
  auto want = sim->run({x});
  ASSERT_TRUE(want.ok()) << want.status().message();
  rt::Context ctx(*m);
  ctx.set_input(0, nv12.data.raw(), nv12.data.nbytes());
  ctx.run();
  const auto got = ctx.output_raw(0);
  ASSERT_EQ(got.size(), (*want)[0].nbytes());
  EXPECT_EQ(0, std::memcmp(got.data(), (*want)[0].raw(), got.size()));
  // The yuv444 size is not accepted for an nv12 input: the message says what is.
  try {
    ctx.set_input(0, x.raw(), x.nbytes());
    ADD_FAILURE() << "no error";
  } catch (const rt::Error& e) {
    EXPECT_NE(std::string(e.what()).find("got 144 bytes, expected 72"), std::string::npos) << e.what();
  }
}

TEST(RuntimeApi, Nv12InputIsConvertedLikeTheImagePipeline) {
  check_nv12(false);
  check_nv12(true);
}

TEST(RuntimeApi, Nv12NeedsEvenSizesAndImagesNeedUint8) {
  auto prog = lower_qdq_graph(testing::image_input_net(false, 5, 8));
  ASSERT_TRUE(prog.ok());
  auto m = rt::model_from_program(*prog, {{rt::ColorType::kNv12, rt::Layout::kNCHW}}, "odd.bin");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("nv12 input 'image' is 5x8: NV12 needs an even height and width"),
            std::string::npos)
      << m.status().message();
  m = rt::model_from_program(*prog, {{rt::ColorType::kGray, rt::Layout::kNCHW}}, "gray.bin");
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("runtime type gray in NCHW needs uint8 with 1 channel(s)"), std::string::npos)
      << m.status().message();
}

TEST(RuntimeApi, VersionNamesTheReleaseCommitBuildTypeAndCompiledIsas) {
  // The exact values come from the configure step; install.version checks them through
  // `qmap --version`. Here: their form, and that the text, the struct and the C API agree.
  const rt::VersionInfo v = rt::version();
  EXPECT_TRUE(std::regex_match(v.version, std::regex("[0-9]+\\.[0-9]+\\.[0-9]+"))) << v.version;
  EXPECT_TRUE(v.git_commit == "unknown" || std::regex_match(v.git_commit, std::regex("[0-9a-f]{12}"))) << v.git_commit;
  EXPECT_FALSE(v.build_type.empty());
  ASSERT_FALSE(v.isas.empty());
  EXPECT_EQ(v.isas.front(), "ref");
  // Every level this CPU can run was compiled in.
  for (const std::string& have : rt::Model::available_isas())
    EXPECT_NE(std::find(v.isas.begin(), v.isas.end(), have), v.isas.end()) << have;
  std::string isas;
  for (const std::string& i : v.isas) isas += (isas.empty() ? "" : " ") + i;
  const std::string text = "qmap " + v.version + "\ngit commit: " + v.git_commit + "\nbuild type: " + v.build_type +
                           "\nISAs compiled in: " + isas + "\n";
  EXPECT_EQ(rt::version_text(), text);
  EXPECT_EQ(std::string(qmap_version_text()), text);
  EXPECT_EQ(std::string(qmap_version()), v.version);
}

TEST(RuntimeCApi, DrivenFromC) {
  const Graph g = testing::image_input_net(false, 6, 8);
  rt::Model model = model_of(g);
  const auto in = testing::random_inputs({Tensor(DType::kUInt8, {1, 3, 6, 8})}, 4)[0];
  auto sim = IntSimulator::create(g);
  ASSERT_TRUE(sim.ok());
  auto want = sim->run({in});
  ASSERT_TRUE(want.ok());
  char msg[512] = {0};
  const auto& w = (*want)[0];
  // The C check frees the model handle itself (after making a context that outlives it).
  EXPECT_EQ(0, qmap_c_api_check(qmap_model_wrap(model), in.raw(), in.nbytes(), w.data<float>().data(),
                                static_cast<size_t>(w.numel()), msg, sizeof msg))
      << msg;
}

}  // namespace
}  // namespace qmap
