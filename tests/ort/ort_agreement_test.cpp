// Whole-model agreement with ONNX Runtime, the peer (onnxruntime-node 1.30.0, CPU, run by
// tools/ort/ort_run.js in a node subprocess). For every model committed under
// tests/data/models/ (see its README.md):
//   FloatEngineMatchesOrt: import_onnx + FloatEngine on seeded random inputs vs ORT on the
//     same inputs; max |diff| <= 1e-4 * (ORT output max - min) per output.
//   ExportedModelMatchesOrt: import_onnx, export_onnx to a temp file; ORT on the export vs
//     ORT on the original, same bound (the export must keep the model's meaning).
// A missing node or onnxruntime-node is a failure with install instructions, not a skip:
// this suite is the project's only whole-model numeric check against an independent engine.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <unistd.h>

#include "engine/float_engine.h"
#include "import/onnx/onnx_export.h"
#include "import/onnx/onnx_import.h"
#include "ort_peer.h"

namespace qmap {
namespace {

namespace fs = std::filesystem;

// The bound. float32 results from two engines differ by summation order and by
// fused vs separate ops (BN folding, FMA); over the ~10 layers of these models that stays
// around 1e-6 of the range, so 1e-4 leaves room while still catching any wrong index,
// coordinate rule or broadcast, which show up at 1e-2 and above.
constexpr double kRelTol = 1e-4;
constexpr uint32_t kSeed = 20240601;

const std::string kModelDir = std::string(QMAP_SOURCE_DIR) + "/tests/data/models";

std::vector<std::string> model_names() { return ort_peer::onnx_model_stems(kModelDir); }

// One seeded random tensor per graph input (dynamic dims, if any are left, become 1).
std::vector<ort_peer::NamedTensor> make_inputs(const Graph& g) {
  std::vector<ort_peer::NamedTensor> inputs;
  for (size_t i = 0; i < g.inputs.size(); ++i) {
    const Value& v = g.value(g.inputs[i]);
    Dims dims = v.dims.value_or(Dims{});
    for (auto& d : dims) d = d < 0 ? 1 : d;
    inputs.push_back({v.name, ort_peer::random_input(v.dtype, dims, kSeed + static_cast<uint32_t>(i))});
  }
  return inputs;
}

// ort_peer::check_agreement prints one line per output; a failure names the inputs too.
void expect_agree(const std::string& what, const std::vector<ort_peer::NamedTensor>& actual,
                  const std::vector<ort_peer::NamedTensor>& reference) {
  const Status st = ort_peer::check_agreement(what, actual, reference, kRelTol);
  EXPECT_TRUE(st.ok()) << st.message() << "\ninputs: seed " << kSeed << " uniform [-1,1)";
}

class OrtAgreement : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ort_peer::default_peer_status().ok()) << ort_peer::default_peer_status().status().message();
    path_ = kModelDir + "/" + GetParam() + ".onnx";
  }
  std::string path_;
};

TEST(OrtPeer, NodeAndOnnxruntimeNodeInstalled) {
  ASSERT_TRUE(ort_peer::default_peer_status().ok()) << ort_peer::default_peer_status().status().message();
  std::printf("[ort] onnxruntime-node %s\n", ort_peer::default_peer_status()->c_str());
  EXPECT_EQ(*ort_peer::default_peer_status(), "1.30.0")
      << "tools/ort/package.json pins 1.30.0; reinstall with cd tools/ort && ONNXRUNTIME_NODE_INSTALL=skip npm ci";
}

TEST(OrtPeer, ModelsPresent) {
  // Guards against an empty parameter list silently running nothing.
  EXPECT_GE(model_names().size(), 8u) << "expected the committed models in " << kModelDir;
}

TEST_P(OrtAgreement, FloatEngineMatchesOrt) {
  auto graph = import_onnx(path_);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  const auto inputs = make_inputs(*graph);

  auto expected = ort_peer::run(ort_peer::default_peer(), path_, inputs);
  ASSERT_TRUE(expected.ok()) << expected.status().message();

  auto engine = FloatEngine::create(*graph);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  std::vector<Tensor> in_tensors;
  for (const auto& in : inputs) in_tensors.push_back(in.tensor);
  auto outs = engine->run(in_tensors);
  ASSERT_TRUE(outs.ok()) << outs.status().message();

  std::vector<ort_peer::NamedTensor> actual;
  for (size_t i = 0; i < outs->size(); ++i)
    actual.push_back({graph->value(graph->outputs.at(i)).name, (*outs)[i]});
  expect_agree(GetParam() + " qmap-vs-ort", actual, *expected);
}

TEST_P(OrtAgreement, ExportedModelMatchesOrt) {
  auto graph = import_onnx(path_);
  ASSERT_TRUE(graph.ok()) << graph.status().message();
  const auto inputs = make_inputs(*graph);

  const fs::path tmp = fs::temp_directory_path() /
                       ("qmap_ort_export_" + GetParam() + "_" + std::to_string(::getpid()) + ".onnx");
  struct Cleanup {
    fs::path p;
    ~Cleanup() { std::error_code ec; fs::remove(p, ec); }
  } cleanup{tmp};
  Status st = export_onnx(*graph, tmp.string());
  ASSERT_TRUE(st.ok()) << st.message();

  auto expected = ort_peer::run(ort_peer::default_peer(), path_, inputs);
  ASSERT_TRUE(expected.ok()) << expected.status().message();
  auto exported = ort_peer::run(ort_peer::default_peer(), tmp.string(), inputs);
  ASSERT_TRUE(exported.ok()) << "ORT on the exported model: " << exported.status().message();
  expect_agree(GetParam() + " export-vs-orig", *exported, *expected);
}

INSTANTIATE_TEST_SUITE_P(Models, OrtAgreement, ::testing::ValuesIn(model_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace qmap
