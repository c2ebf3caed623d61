// import_model: --model-type picks the importer, and the options reach it.
#include "import/import_model.h"

#include <unistd.h>

#include <filesystem>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "import/onnx/onnx_export.h"
#include "passes/pass_test_util.h"

namespace qmap {
namespace {

namespace fs = std::filesystem;

TEST(ImportModel, OnnxWithItsInputShapes) {
  testing::GraphBuilder b;
  const ValueId x = b.input("x", {1, 3, 4, 4});
  const Graph g = b.build({b.node("Relu", "r", {x})});
  const fs::path path = fs::temp_directory_path() / fmt::format("qmap_import_model_test_{}.onnx", getpid());
  ASSERT_TRUE(export_onnx(g, path.string()).ok());
  auto r = import_model(ModelType::kOnnx, {.model = path.string()}, {.input_shapes = {{"x", {1, 3, 4, 4}}}});
  // The overrides reach the importer: one that contradicts the model's static shape fails.
  auto bad = import_model(ModelType::kOnnx, {.model = path.string()}, {.input_shapes = {{"x", {2, 3, 4, 4}}}});
  fs::remove(path);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->nodes.size(), 1u);
  EXPECT_EQ(r->nodes[0].name, "r");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--input-shape x: 2x3x4x4"), std::string::npos) << bad.status().message();
}

TEST(ImportModel, TheTypePicksTheImporterAndItsFiles) {
  auto onnx = import_model(ModelType::kOnnx, {.model = "/nonexistent/m.onnx", .proto = "/nonexistent/d.prototxt"});
  ASSERT_FALSE(onnx.ok());
  EXPECT_NE(onnx.status().message().find("m.onnx"), std::string::npos) << onnx.status().message();
  auto caffe =
      import_model(ModelType::kCaffe, {.model = "/nonexistent/m.caffemodel", .proto = "/nonexistent/d.prototxt"});
  ASSERT_FALSE(caffe.ok());
  EXPECT_NE(caffe.status().message().find("caffe import"), std::string::npos) << caffe.status().message();
  EXPECT_NE(caffe.status().message().find("d.prototxt"), std::string::npos) << caffe.status().message();
}

}  // namespace
}  // namespace qmap
