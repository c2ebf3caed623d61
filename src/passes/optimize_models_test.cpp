// optimize_graph on the repository's test models (ONNX blocks and Caffe layer sets): the
// optimized graph verifies and computes the same outputs on seeded random inputs.
#include <filesystem>

#include "import/caffe/caffe_import.h"
#include "import/onnx/onnx_import.h"
#include "passes/pass_test_util.h"
#include "passes/passes.h"

namespace qmap {
namespace {

namespace fs = std::filesystem;

void check_optimized(const Graph& before, const std::string& what, std::vector<std::string>* log) {
  Graph after = before;
  const Status st = optimize_graph(after, OptimizeOptions{}, log);
  ASSERT_TRUE(st.ok()) << what << ": " << st.message();
  EXPECT_TRUE(testing::same_numerics(before, after, 300)) << what;
  EXPECT_LE(after.nodes.size(), before.nodes.size() + 1) << what;  // gemm_to_conv adds a Flatten
}

TEST(OptimizeModels, RepositoryOnnxModels) {
  const fs::path dir = fs::path(QMAP_SOURCE_DIR) / "tests/data/models";
  int checked = 0;
  std::vector<std::string> log;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".onnx") continue;
    auto g = import_onnx(e.path().string());
    ASSERT_TRUE(g.ok()) << g.status().message();
    check_optimized(*g, e.path().filename().string(), &log);
    ++checked;
  }
  EXPECT_GE(checked, 5);
  EXPECT_FALSE(log.empty()) << "no rewrite applied to any model";
}

TEST(OptimizeModels, RepositoryCaffeModels) {
  const fs::path dir = fs::path(QMAP_SOURCE_DIR) / "tests/data/caffe";
  int checked = 0;
  std::vector<std::string> log;
  for (const auto& e : fs::directory_iterator(dir)) {
    const fs::path proto = e.path() / "deploy.prototxt", model = e.path() / "model.caffemodel";
    if (!fs::exists(proto) || !fs::exists(model)) continue;
    auto g = import_caffe(proto.string(), model.string());
    ASSERT_TRUE(g.ok()) << g.status().message();
    check_optimized(*g, e.path().filename().string(), &log);
    ++checked;
  }
  EXPECT_GE(checked, 5);
  // bn_scale holds Caffe's BatchNorm + Scale after a Convolution.
  EXPECT_NE(std::find_if(log.begin(), log.end(),
                         [](const std::string& l) { return l.rfind("fold_scale_into_conv:", 0) == 0; }),
            log.end());
}

}  // namespace
}  // namespace qmap
