// Custom ops: loading plugins and every way one can be wrong (each a one-line error naming the
// library or op), custom nodes through shape inference, the float engine, the lowering, the .bin
// (format v3 round trip) and the runtime. The plugins are built by tests/CMakeLists.txt from
// custom_op_test_plugin.cpp (one library per defect) and examples/custom_op/normalize_op.cpp.
#include "ops/custom/custom_op.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "engine/float_engine.h"
#include "format/bin_writer.h"
#include "ops/infer.h"
#include "ops/verify.h"
#include "program/bin_reader.h"
#include "qmap/runtime.h"
#include "qmap/runtime_c.h"
#include "quant/lower.h"
#include "quant/runtime_model.h"
#include "op_example.h"

namespace qmap {
namespace {

namespace fs = std::filesystem;

std::string load_error(const std::vector<std::string>& libs) {
  auto r = CustomOpSet::load(libs);
  return r.ok() ? std::string("(loaded)") : r.status().message();
}

#define EXPECT_HAS(text, part) EXPECT_NE(std::string(text).find(part), std::string::npos) << (text)

TEST(CustomOp, LoadsEveryOpOfAPlugin) {
  auto set = CustomOpSet::load({QMAP_TEST_PLUGIN_OK});
  ASSERT_TRUE(set.ok()) << set.status().message();
  ASSERT_EQ(set->ops().size(), 3u);
  auto clamp = set->find("qmap.test", "Clamp1000");
  ASSERT_TRUE(clamp);
  EXPECT_EQ(clamp->version, 1);
  EXPECT_EQ(clamp->library_name, fs::path(QMAP_TEST_PLUGIN_OK).filename().string());
  EXPECT_EQ(clamp->qualified_name(), "qmap.test.Clamp1000");
  EXPECT_FALSE(set->find("other.domain", "Clamp1000"));
  EXPECT_EQ(set->find_type("FailShape").size(), 1u);
  // The same file twice is one library, not two claims of its ops.
  auto twice = CustomOpSet::load({QMAP_TEST_PLUGIN_OK, QMAP_TEST_PLUGIN_OK});
  ASSERT_TRUE(twice.ok()) << twice.status().message();
  EXPECT_EQ(twice->ops().size(), 3u);
}

TEST(CustomOp, PluginErrorsNameTheLibraryAndTheRule) {
  EXPECT_EQ(load_error({"/nonexistent/libx.so"}), "custom op: library '/nonexistent/libx.so': no such file");
  const fs::path text = fs::temp_directory_path() / "qmap_custom_op_not_a_library.so";
  std::ofstream(text) << "not an ELF file\n";
  EXPECT_HAS(load_error({text.string()}), "custom op: library '" + text.string() + "': cannot load it as a shared library: ");
  fs::remove(text);
  EXPECT_EQ(load_error({QMAP_TEST_PLUGIN_NOENTRY}),
            fmt::format("custom op: library '{}': has no qmap_register_custom_ops function: not a qmap custom-op plugin "
                        "(include/qmap/custom_op.h)",
                        QMAP_TEST_PLUGIN_NOENTRY));
  EXPECT_EQ(load_error({QMAP_TEST_PLUGIN_ABI}),
            fmt::format("custom op: library '{}': op 'FailShape' is built for custom-op ABI v999, this qmap implements "
                        "v1: rebuild the plugin against this qmap's include/qmap/custom_op.h",
                        QMAP_TEST_PLUGIN_ABI));
  EXPECT_EQ(load_error({QMAP_NORMALIZE_PLUGIN, QMAP_TEST_PLUGIN_DUP}),
            fmt::format("custom op: qmap.example.Normalize is claimed by both '{}' and '{}': load only one library "
                        "that defines it",
                        QMAP_NORMALIZE_PLUGIN, QMAP_TEST_PLUGIN_DUP));
  for (const std::string& e : {load_error({QMAP_TEST_PLUGIN_ABI}), load_error({QMAP_TEST_PLUGIN_NOENTRY})})
    EXPECT_EQ(e.find('\n'), std::string::npos) << e;
}

// x (float32 1x4) -> <op> -> y
Graph one_op_graph(std::shared_ptr<const CustomOp> op, const std::map<std::string, AttrValue>& attrs = {}) {
  Graph g;
  g.name = "custom";
  const ValueId x = g.add_value("x", DType::kFloat32, Dims{1, 4});
  g.inputs.push_back(x);
  Node n;
  n.name = "c";
  make_custom_node(n, std::move(op));
  n.inputs = {x};
  n.outputs = {g.add_value("y")};
  n.attrs = attrs;
  g.nodes.push_back(n);
  g.outputs.push_back(n.outputs[0]);
  g.rebuild_producers();
  return g;
}

TEST(CustomOp, PluginShapeFailureIsAnError) {
  auto set = CustomOpSet::load({QMAP_TEST_PLUGIN_OK});
  ASSERT_TRUE(set.ok());
  Graph g = one_op_graph(set->find("qmap.test", "FailShape"));
  const Status s = infer_shapes(g);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(), fmt::format("shape inference: FailShape 'c': shape inference of custom op qmap.test.FailShape "
                                     "({}) failed: FailShape refuses every input shape",
                                     fs::path(QMAP_TEST_PLUGIN_OK).filename().string()));
}

TEST(CustomOp, AttributesAreCheckedAgainstThePluginsDeclaration) {
  auto set = CustomOpSet::load({QMAP_NORMALIZE_PLUGIN});
  ASSERT_TRUE(set.ok()) << set.status().message();
  Graph g = one_op_graph(set->find("qmap.example", "Normalize"), {{"acros_spatial", int64_t{0}}});
  EXPECT_EQ(validate_attributes(g.nodes[0]).message(),
            "Normalize 'c': attribute 'acros_spatial' is not defined for custom op qmap.example.Normalize: known "
            "attributes are {across_spatial, channel_shared, eps}");
  g.nodes[0].attrs = {{"eps", int64_t{1}}};
  EXPECT_EQ(validate_attributes(g.nodes[0]).message(),
            "Normalize 'c': attribute 'eps' has type int: custom op qmap.example.Normalize expects float");
  g.nodes[0].attrs = {{"eps", 1e-6f}, {"across_spatial", int64_t{0}}};
  EXPECT_TRUE(validate_attributes(g.nodes[0]).ok());
}

TEST(CustomOp, KernelFailureAtRunTimeIsAnError) {
  auto set = CustomOpSet::load({QMAP_TEST_PLUGIN_OK});
  ASSERT_TRUE(set.ok());
  Graph g = one_op_graph(set->find("qmap.test", "Clamp1000"));
  ASSERT_TRUE(infer_shapes(g).ok());
  auto engine = FloatEngine::create(g);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  auto ok = engine->run({Tensor::from_vector<float>({1, 4}, {1, -2, 3, 999})});
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)[0].data<float>()[3], 999.f);
  auto bad = engine->run({Tensor::from_vector<float>({1, 4}, {1, -2, 3, 2000})});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            fmt::format("float engine: Clamp1000 'c': the kernel of custom op qmap.test.Clamp1000 ({}) failed: "
                        "element 3 is 2000: Clamp1000 takes |x| <= 1000",
                        fs::path(QMAP_TEST_PLUGIN_OK).filename().string()));
}

TEST(CustomOp, KernelThatThrowsIsAnErrorNotACrash) {
  auto set = CustomOpSet::load({QMAP_TEST_PLUGIN_OK});
  ASSERT_TRUE(set.ok());
  Graph g = one_op_graph(set->find("qmap.test", "Throw1000"));
  ASSERT_TRUE(infer_shapes(g).ok());
  auto engine = FloatEngine::create(g);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  ASSERT_TRUE(engine->run({Tensor::from_vector<float>({1, 4}, {1, -2, 3, 999})}).ok());
  auto bad = engine->run({Tensor::from_vector<float>({1, 4}, {1, -2, 3, 2000})});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            fmt::format("float engine: Throw1000 'c': the kernel of custom op qmap.test.Throw1000 ({}) failed: "
                        "threw Throw1000: |x| > 1000",
                        fs::path(QMAP_TEST_PLUGIN_OK).filename().string()));
}

// The graph lowered to a program with one custom float step, written as a .bin and
// loaded by the runtime with and without the plugin.
TEST(CustomOp, BinRecordsTheOpAndTheRuntimeNeedsItsPlugin) {
  auto set = CustomOpSet::load({QMAP_TEST_PLUGIN_OK});
  ASSERT_TRUE(set.ok());
  Graph g = one_op_graph(set->find("qmap.test", "Clamp1000"));
  ASSERT_TRUE(infer_shapes(g).ok());
  auto program = lower_qdq_graph(g);
  ASSERT_TRUE(program.ok()) << program.status().message();
  ASSERT_EQ(program->steps.size(), 1u);
  const Step& s = program->steps[0];
  EXPECT_EQ(s.kind, StepKind::kFloat);
  EXPECT_EQ(s.op, OpId::Custom);
  EXPECT_EQ(s.as<GenericParams>().domain, "qmap.test");
  EXPECT_EQ(s.as<GenericParams>().custom_version, 1);
  const std::string lib = fs::path(QMAP_TEST_PLUGIN_OK).filename().string();
  EXPECT_EQ(s.as<GenericParams>().custom_library, lib);

  auto bytes = serialize_bin(*program, BinMetadata{});
  ASSERT_TRUE(bytes.ok()) << bytes.status().message();
  auto read = read_bin(std::as_bytes(std::span(bytes->data(), bytes->size())), "c.bin");
  ASSERT_TRUE(read.ok()) << read.status().message();
  EXPECT_EQ(read->format_version, binfmt::kFormatVersion);
  const Step& r = read->program.steps[0];
  EXPECT_EQ(r.op, OpId::Custom);
  EXPECT_EQ(r.op_type, "Clamp1000");
  EXPECT_EQ(r.as<GenericParams>().domain, "qmap.test");
  EXPECT_EQ(r.as<GenericParams>().custom_version, 1);
  EXPECT_EQ(r.as<GenericParams>().custom_library, lib);
  EXPECT_FALSE(r.as<GenericParams>().custom);  // the file names the op; it never holds the plugin's code

  try {
    rt::Model::load_from_memory(bytes->data(), bytes->size(), "c.bin");
    ADD_FAILURE() << "loaded without the plugin";
  } catch (const rt::Error& e) {
    EXPECT_EQ(std::string(e.what()),
              fmt::format("runtime: 'c.bin': step 0 'c' needs custom op qmap.test.Clamp1000 version 1, which no loaded "
                          "plugin provides: load '{}' (LoadOptions::custom_op_libs, --custom-op-lib)",
                          lib));
  }
  rt::LoadOptions other;
  other.custom_op_libs = {QMAP_NORMALIZE_PLUGIN};  // loads, but provides another op
  EXPECT_THROW(rt::Model::load_from_memory(bytes->data(), bytes->size(), "c.bin", other), rt::Error);

  rt::LoadOptions with;
  with.custom_op_libs = {QMAP_TEST_PLUGIN_OK};
  const rt::Model model = rt::Model::load_from_memory(bytes->data(), bytes->size(), "c.bin", with);
  rt::Context ctx(model);
  const float good[4] = {1.5f, -2.f, 3.f, 999.f};
  ctx.set_input(0, good, sizeof good);
  ctx.run();
  EXPECT_EQ(ctx.output_float(0), std::vector<float>(good, good + 4));
  const float bad[4] = {1.f, -2000.f, 3.f, 4.f};
  ctx.set_input(0, bad, sizeof bad);
  try {
    ctx.run();
    ADD_FAILURE() << "the kernel's failure was not reported";
  } catch (const rt::Error& e) {
    EXPECT_HAS(e.what(), "the kernel of custom op qmap.test.Clamp1000 (" + lib +
                             ") failed: element 1 is -2000: Clamp1000 takes |x| <= 1000");
  }

  // A .bin made with another version of the op: the loaded plugin's version does not do.
  IntProgram v9 = *program;
  v9.steps[0].as<GenericParams>().custom_version = 9;
  auto bytes9 = serialize_bin(v9, BinMetadata{});
  ASSERT_TRUE(bytes9.ok());
  try {
    rt::Model::load_from_memory(bytes9->data(), bytes9->size(), "c9.bin", with);
    ADD_FAILURE() << "loaded a version-9 op with the version-1 plugin";
  } catch (const rt::Error& e) {
    EXPECT_HAS(e.what(), "needs custom op qmap.test.Clamp1000 version 9, but '" + std::string(QMAP_TEST_PLUGIN_OK) +
                             "' provides version 1");
  }

  // The C API: the same file with and without the plugin.
  const fs::path file = fs::temp_directory_path() / "qmap_custom_op_test.bin";
  std::ofstream(file, std::ios::binary) << *bytes;
  EXPECT_EQ(qmap_model_load_with_custom_ops(file.string().c_str(), nullptr, 0), nullptr);
  EXPECT_HAS(qmap_last_error(), "needs custom op qmap.test.Clamp1000 version 1, which no loaded plugin provides");
  const char* libs[] = {QMAP_TEST_PLUGIN_OK};
  qmap_model* cm = qmap_model_load_with_custom_ops(file.string().c_str(), libs, 1);
  ASSERT_NE(cm, nullptr) << qmap_last_error();
  qmap_context* cc = qmap_context_create(cm);
  float out[4] = {};
  EXPECT_EQ(qmap_set_input(cc, 0, good, sizeof good), 0);
  EXPECT_EQ(qmap_run(cc), 0) << qmap_last_error();
  EXPECT_EQ(qmap_get_output(cc, 0, out, 4), 0);
  EXPECT_EQ(std::vector<float>(out, out + 4), std::vector<float>(good, good + 4));
  qmap_context_free(cc);
  qmap_model_free(cm);
  fs::remove(file);

  // The in-memory runtime model (qmap verify's path) runs the lowered program's bound op.
  auto mem = runtime_model_from_qdq_graph(g, "mem");
  ASSERT_TRUE(mem.ok()) << mem.status().message();
  rt::Context mctx(*mem);
  mctx.set_input(0, good, sizeof good);
  mctx.run();
  EXPECT_EQ(mctx.output_float(0), std::vector<float>(good, good + 4));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Custom, {.skip = "needs a plugin library (tests/e2e and src/ops/custom cover custom ops)"});

}  // namespace
}  // namespace qmap
