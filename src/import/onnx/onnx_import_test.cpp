// ONNX import/export: round trip, dynamic shapes, and one test per bad-input class.
#include "import/onnx/onnx_import.h"

#include <filesystem>
#include <fstream>

#include <onnx/onnx_pb.h>

#include "engine/float_engine.h"
#include "import/onnx/onnx_export.h"
#include "ops/dump.h"
#include "test_util.h"

namespace qmap {
namespace {

namespace fs = std::filesystem;

// Builds small ModelProtos for the tests.
struct ModelBuilder {
  onnx::ModelProto m;
  onnx::GraphProto* g;
  explicit ModelBuilder(int64_t opset = 13) {
    m.set_ir_version(7);
    auto* os = m.add_opset_import();
    os->set_version(opset);
    g = m.mutable_graph();
    g->set_name("test");
  }
  void input(const std::string& name, std::vector<int64_t> dims, std::vector<std::string> params = {},
             int elem = onnx::TensorProto::FLOAT) {
    auto* vi = g->add_input();
    vi->set_name(name);
    auto* tt = vi->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(elem);
    auto* sh = tt->mutable_shape();
    for (size_t i = 0; i < dims.size(); ++i) {
      auto* d = sh->add_dim();
      if (dims[i] >= 0) d->set_dim_value(dims[i]);
      else if (i < params.size()) d->set_dim_param(params[i]);
    }
  }
  void output(const std::string& name) {
    auto* vi = g->add_output();
    vi->set_name(name);
    vi->mutable_type()->mutable_tensor_type()->set_elem_type(onnx::TensorProto::FLOAT);
  }
  onnx::NodeProto* node(const std::string& op, std::vector<std::string> ins, std::vector<std::string> outs,
                        const std::string& name = "") {
    auto* n = g->add_node();
    n->set_op_type(op);
    n->set_name(name);
    for (auto& s : ins) n->add_input(s);
    for (auto& s : outs) n->add_output(s);
    return n;
  }
  std::string save(const std::string& file) const {
    const fs::path dir = fs::temp_directory_path() / "qmap_onnx_import_test";
    fs::create_directories(dir);
    const std::string path = (dir / file).string();
    std::ofstream(path, std::ios::binary) << m.SerializeAsString();
    return path;
  }
};

ModelBuilder relu_model(std::vector<int64_t> dims = {1, 3, 4, 4}, std::vector<std::string> params = {}) {
  ModelBuilder b;
  b.input("x", dims, params);
  b.node("Relu", {"x"}, {"y"}, "relu1");
  b.output("y");
  return b;
}

TEST(OnnxImport, ReluModelImportsAndRuns) {
  auto g = import_onnx(relu_model().save("relu.onnx"));
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(dump_graph(*g),
            "graph 'test' opset 17\n"
            "input  %x: float32[1x3x4x4]\n"
            "%y: float32[1x3x4x4] = Relu 'relu1' (%x)\n"
            "output %y\n");
  auto e = FloatEngine::create(*g);
  ASSERT_TRUE(e.ok());
  Tensor x = testing::random_tensor({1, 3, 4, 4}, 7);
  auto out = e->run({x});
  ASSERT_TRUE(out.ok()) << out.status().message();
  for (size_t i = 0; i < 48; ++i) EXPECT_EQ((*out)[0].data<float>()[i], std::max(0.f, x.data<float>()[i]));
}

TEST(OnnxImport, ExportThenImportGivesSameIr) {
  auto g = import_onnx(relu_model().save("rt.onnx"));
  ASSERT_TRUE(g.ok());
  const std::string out = (fs::temp_directory_path() / "qmap_onnx_import_test" / "rt_export.onnx").string();
  ASSERT_TRUE(export_onnx(*g, out).ok());
  auto g2 = import_onnx(out);
  ASSERT_TRUE(g2.ok()) << g2.status().message();
  EXPECT_EQ(dump_graph(*g), dump_graph(*g2));
}

TEST(OnnxImport, DynamicBatchDefaultsToOneWithInfoLine) {
  const std::string log_path = (fs::temp_directory_path() / "qmap_onnx_import_test" / "dyn.log").string();
  Logger log(nullptr);
  ASSERT_TRUE(log.add_file(log_path).ok());
  OnnxImportOptions opt;
  opt.log = &log;
  auto g = import_onnx(relu_model({-1, 3, 4, 4}, {"N"}).save("dynbatch.onnx"), opt);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(*g->value(g->inputs[0]).dims, (Dims{1, 3, 4, 4}));
  std::ifstream f(log_path);
  std::string text((std::istreambuf_iterator<char>(f)), {});
  EXPECT_NE(text.find("INFO input 'x': dynamic batch dimension 'N' set to 1"), std::string::npos) << text;
}

TEST(OnnxImport, DynamicSpatialDimNeedsInputShape) {
  const std::string path = relu_model({1, 3, -1, -1}, {"", "", "H", "W"}).save("dynhw.onnx");
  auto g = import_onnx(path);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("dimension 2 ('H') of shape 1x3x?x? is dynamic: give a static shape with --input-shape x"),
            std::string::npos) << g.status().message();
  OnnxImportOptions opt;
  opt.input_shapes["x"] = {1, 3, 8, 8};
  auto g2 = import_onnx(path, opt);
  ASSERT_TRUE(g2.ok()) << g2.status().message();
  EXPECT_EQ(*g2->value(g2->outputs[0]).dims, (Dims{1, 3, 8, 8}));
}

TEST(OnnxImport, InputShapeErrors) {
  const std::string path = relu_model().save("static.onnx");
  OnnxImportOptions opt;
  opt.input_shapes["nope"] = {1, 3, 4, 4};
  auto g = import_onnx(path, opt);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("--input-shape names 'nope': the model has no such input (inputs: x)"),
            std::string::npos) << g.status().message();
  OnnxImportOptions opt2;
  opt2.input_shapes["x"] = {1, 3, 5, 4};
  auto g2 = import_onnx(path, opt2);
  ASSERT_FALSE(g2.ok());
  EXPECT_NE(g2.status().message().find("contradicts the model's static shape 1x3x4x4 at dimension 2"),
            std::string::npos) << g2.status().message();
}

TEST(OnnxImportBadInput, MissingFile) {
  auto g = import_onnx("/nonexistent/model.onnx");
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().message(), "onnx import: file '/nonexistent/model.onnx': file does not exist");
}

TEST(OnnxImportBadInput, TruncatedFile) {
  std::string bytes = relu_model().m.SerializeAsString();
  const std::string path = (fs::temp_directory_path() / "qmap_onnx_import_test" / "trunc.onnx").string();
  std::ofstream(path, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  auto g = import_onnx(path);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("trunc.onnx"), std::string::npos);
  EXPECT_NE(g.status().message().find("truncated or not an .onnx file"), std::string::npos) << g.status().message();
}

TEST(OnnxImportBadInput, GarbageFile) {
  const std::string path = (fs::temp_directory_path() / "qmap_onnx_import_test" / "garbage.onnx").string();
  std::ofstream(path, std::ios::binary) << "this is not a protobuf \xff\xfe\x01 at all";
  auto g = import_onnx(path);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("garbage.onnx"), std::string::npos);
}

TEST(OnnxImportBadInput, EmptyFile) {
  const std::string path = (fs::temp_directory_path() / "qmap_onnx_import_test" / "empty.onnx").string();
  std::ofstream(path, std::ios::binary).flush();
  auto g = import_onnx(path);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("file is empty"), std::string::npos) << g.status().message();
}

TEST(OnnxImportBadInput, OverTwoGigabytesRejected) {
  // A sparse file: takes no disk space, but its size is over protobuf's 2 GiB limit.
  const std::string path = (fs::temp_directory_path() / "qmap_onnx_import_test" / "huge.onnx").string();
  { std::ofstream f(path, std::ios::binary); }
  fs::resize_file(path, (uint64_t{1} << 31) + 16);
  auto g = import_onnx(path);
  fs::remove(path);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("models over 2 GB are not supported"), std::string::npos) << g.status().message();
}

TEST(OnnxImportBadInput, UnknownOpsAllListedAtOnce) {
  ModelBuilder b;
  b.input("x", {1, 4});
  b.node("TopK", {"x", "k"}, {"v", "i"});
  b.node("NonMaxSuppression", {"v"}, {"s"});
  b.node("Relu", {"x"}, {"y"});
  b.node("TopK", {"y", "k"}, {"v2", "i2"});
  b.output("y");
  std::vector<std::string> unsupported;
  OnnxImportOptions opt;
  opt.unsupported_ops = &unsupported;
  auto g = import_onnx(b.save("unknown.onnx"), opt);
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("qmap does not support these operators: {NonMaxSuppression, TopK}"),
            std::string::npos) << g.status().message();
  EXPECT_EQ(unsupported, (std::vector<std::string>{"NonMaxSuppression", "TopK"}));
}

TEST(OnnxImportBadInput, UnknownAttribute) {
  ModelBuilder b = relu_model();
  auto* a = b.g->mutable_node(0)->add_attribute();
  a->set_name("alpha");
  a->set_type(onnx::AttributeProto::FLOAT);
  a->set_f(1.f);
  auto g = import_onnx(b.save("badattr.onnx"));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("Relu 'relu1': attribute 'alpha' is not defined for Relu"), std::string::npos)
      << g.status().message();
}

TEST(OnnxImportBadInput, WrongAttributeType) {
  ModelBuilder b;
  b.input("x", {1, 3});
  auto* n = b.node("LeakyRelu", {"x"}, {"y"}, "lrelu");
  auto* a = n->add_attribute();
  a->set_name("alpha");
  a->set_type(onnx::AttributeProto::INT);  // ONNX says float
  a->set_i(1);
  b.output("y");
  auto g = import_onnx(b.save("attrtype.onnx"));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("LeakyRelu 'lrelu': attribute 'alpha' has type int: LeakyRelu expects float"),
            std::string::npos) << g.status().message();
}

TEST(OnnxImportBadInput, InconsistentShapes) {
  ModelBuilder b;
  b.input("a", {1, 3});
  b.input("b", {1, 4});
  b.node("Add", {"a", "b"}, {"y"}, "add1");
  b.output("y");
  auto g = import_onnx(b.save("shapes.onnx"));
  ASSERT_FALSE(g.ok());
  const std::string m = g.status().message();
  EXPECT_NE(m.find("shapes.onnx"), std::string::npos) << m;
  EXPECT_NE(m.find("Add 'add1'"), std::string::npos) << m;
  EXPECT_NE(m.find("1x3"), std::string::npos) << m;
  EXPECT_NE(m.find("1x4"), std::string::npos) << m;
}

TEST(OnnxImportBadInput, UndefinedInputName) {
  ModelBuilder b;
  b.input("x", {1, 3});
  b.node("Relu", {"nothing"}, {"y"}, "r");
  b.output("y");
  auto g = import_onnx(b.save("undef.onnx"));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("Relu 'r': input 'nothing' is produced by no node, initializer or graph input"),
            std::string::npos) << g.status().message();
}

TEST(OnnxImportBadInput, OpsetOutOfRange) {
  ModelBuilder b(18);
  b.input("x", {1, 3});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  auto g = import_onnx(b.save("opset18.onnx"));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("opset 18 is not supported: qmap reads ONNX opsets 1 to 17"), std::string::npos)
      << g.status().message();
}

TEST(OnnxImportBadInput, InitializerSizeMismatch) {
  ModelBuilder b = relu_model();
  auto* t = b.g->add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(4);
  t->set_raw_data(std::string(12, '\0'));
  auto g = import_onnx(b.save("badinit.onnx"));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("tensor 'w': raw_data has 12 bytes: shape 4 of float32 needs 16"),
            std::string::npos) << g.status().message();
}

TEST(OnnxImportBadInput, UnsupportedElementType) {
  ModelBuilder b;
  b.input("x", {1, 3}, {}, onnx::TensorProto::FLOAT16);
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  auto g = import_onnx(b.save("fp16.onnx"));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("input 'x': element type FLOAT16 is not supported"), std::string::npos)
      << g.status().message();
}

TEST(OnnxImport, ExternalDataIsRead) {
  ModelBuilder b;
  b.input("x", {4});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  auto* t = b.g->add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(2);
  t->set_data_location(onnx::TensorProto::EXTERNAL);
  auto* kv = t->add_external_data();
  kv->set_key("location");
  kv->set_value("weights.bin");
  auto* off = t->add_external_data();
  off->set_key("offset");
  off->set_value("4");
  const std::string path = b.save("ext.onnx");
  const float vals[3] = {9.f, 1.5f, -2.f};
  std::ofstream(fs::path(path).parent_path() / "weights.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(vals), sizeof vals);
  auto g = import_onnx(path);
  ASSERT_TRUE(g.ok()) << g.status().message();
  auto id = g->find_value("w");
  ASSERT_TRUE(id);
  EXPECT_EQ(g->value(*id).constant->data<float>()[0], 1.5f);
  EXPECT_EQ(g->value(*id).constant->data<float>()[1], -2.f);

  off->set_value("8");  // now the 8 bytes run past the 12-byte file
  auto g2 = import_onnx(b.save("ext.onnx"));
  ASSERT_FALSE(g2.ok());
  EXPECT_NE(g2.status().message().find("past the end of"), std::string::npos) << g2.status().message();

  // Offsets and lengths that are not non-negative integers (std::stoll threw on these).
  for (const char* bad : {"abc", "", "-4", "4x", "99999999999999999999"}) {
    off->set_value(bad);
    auto g3 = import_onnx(b.save("ext.onnx"));
    ASSERT_FALSE(g3.ok()) << bad;
    EXPECT_NE(g3.status().message().find("tensor 'w': external data offset '" + std::string(bad) +
                                         "': must be a non-negative integer"),
              std::string::npos)
        << g3.status().message();
  }
}

// A declared input shape beyond 2^29 elements (ops/infer.cpp's cap): an error naming the node,
// before any op multiplies its dims (signed overflow otherwise).
TEST(OnnxImportBadInput, InputShapeBeyondTheTensorCap) {
  ModelBuilder b;
  b.input("x", {int64_t{1} << 21, int64_t{1} << 21});
  b.node("Relu", {"x"}, {"y"}, "relu1");
  b.output("y");
  auto g = import_onnx(b.save("cap.onnx"));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("Relu 'relu1': input 0 has shape 2097152x2097152: more than 2^29 elements"),
            std::string::npos)
      << g.status().message();
}

// A few bytes of protobuf declaring a huge initializer without its data: refused before the
// tensor is allocated (the shape alone would need 4 GB).
TEST(OnnxImportBadInput, HugeShapeWithoutDataIsRefusedBeforeAllocating) {
  ModelBuilder b;
  b.input("x", {4});
  b.node("Relu", {"x"}, {"y"});
  b.output("y");
  auto* t = b.g->add_initializer();
  t->set_name("w");
  t->set_data_type(onnx::TensorProto::FLOAT);
  t->add_dims(1 << 30);
  t->set_raw_data(std::string(8, '\0'));
  auto g = import_onnx(b.save("huge.onnx"));
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("tensor 'w': raw_data has 8 bytes: shape 1073741824 of float32 needs 4294967296"),
            std::string::npos)
      << g.status().message();
  t->clear_raw_data();
  t->add_float_data(1.f);
  auto g2 = import_onnx(b.save("huge.onnx"));
  ASSERT_FALSE(g2.ok());
  EXPECT_NE(g2.status().message().find("tensor 'w': holds 1 values: shape 1073741824 needs 1073741824"),
            std::string::npos)
      << g2.status().message();
}

}  // namespace
}  // namespace qmap

#include <onnx/checker.h>

namespace qmap {
namespace {

// Every committed test model: import -> export is accepted by onnx.checker (libonnx's C++
// checker, the same code as Python's onnx.checker.check_model), and import -> export ->
// import yields the same IR text.
TEST(OnnxExport, CommittedModelsRoundTripAndPassOnnxChecker) {
  int checked = 0;
  for (const auto& e : fs::directory_iterator(std::string(QMAP_SOURCE_DIR) + "/tests/data/models")) {
    if (e.path().extension() != ".onnx") continue;
    SCOPED_TRACE(e.path().string());
    auto g = import_onnx(e.path().string());
    ASSERT_TRUE(g.ok()) << g.status().message();
    auto bytes = export_onnx_bytes(*g);
    ASSERT_TRUE(bytes.ok()) << bytes.status().message();
    onnx::ModelProto m;
    ASSERT_TRUE(m.ParseFromString(*bytes));
    try {
      onnx::checker::check_model(m);
    } catch (const std::exception& ex) {
      FAIL() << "onnx checker rejected the export: " << ex.what();
    }
    const fs::path out = fs::temp_directory_path() / "qmap_onnx_import_test" / ("rt_" + e.path().filename().string());
    ASSERT_TRUE(export_onnx(*g, out.string()).ok());
    auto g2 = import_onnx(out.string());
    ASSERT_TRUE(g2.ok()) << g2.status().message();
    EXPECT_EQ(dump_graph(*g), dump_graph(*g2));
    ++checked;
  }
  EXPECT_GE(checked, 9);
}

}  // namespace
}  // namespace qmap
