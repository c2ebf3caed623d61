// Caffe import checked against ONNX Runtime (issue 3: "the imported model exported as
// _original_float_model.onnx runs in ONNX Runtime and matches the float engine"). For every
// committed case under tests/data/caffe/<case>/ (tools/gen_caffe_models.py: deploy.prototxt,
// model.caffemodel, input_<blob>.binaryproto): import_caffe, export_onnx to a temp file,
// run that file in ORT (tools/ort/ort_peer.h) and the imported graph in the float engine on
// the case's committed inputs; max |diff| <= 1e-4 * (ORT output max - min) per output.
// The PyTorch expected outputs are checked against the float engine by
// src/import/caffe/caffe_import_test.cpp; this suite adds the independent ONNX engine, so a
// mapping that only qmap's own importer/engine pair understands (an attribute ORT rejects
// or reads differently) fails here.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#include "engine/float_engine.h"
#include "import/caffe/caffe_import.h"
#include "import/onnx/onnx_export.h"
#include "ort_peer.h"

namespace qmap {
namespace {

namespace fs = std::filesystem;

// Same bound and reasoning as ort_agreement_test.cpp: float32 summation-order and fusion
// differences stay near 1e-6 of the range; a wrong window, pad, axis or coefficient in the
// Caffe mapping or the export shows up at 1e-2 and above.
constexpr double kRelTol = 1e-4;

const fs::path kCaseDir = fs::path(QMAP_SOURCE_DIR) / "tests" / "data" / "caffe";

// Every folder holding a deploy.prototxt, sorted, so a newly generated case is covered
// without editing this file.
std::vector<std::string> case_names() {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kCaseDir, ec))
    if (e.is_directory() && fs::exists(e.path() / "deploy.prototxt")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(CaffeOrt, CasesPresent) {
  // Guards against an empty parameter list silently running nothing.
  EXPECT_GE(case_names().size(), 12u) << "expected the committed Caffe cases in " << kCaseDir;
}

class CaffeOrtAgreement : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ASSERT_TRUE(ort_peer::default_peer_status().ok()) << ort_peer::default_peer_status().status().message();
  }
};

TEST_P(CaffeOrtAgreement, ExportedFloatModelMatchesFloatEngine) {
  const fs::path dir = kCaseDir / GetParam();
  auto graph = import_caffe((dir / "deploy.prototxt").string(), (dir / "model.caffemodel").string());
  ASSERT_TRUE(graph.ok()) << graph.status().message();

  // The case's own inputs (the ones PyTorch's expected outputs were computed from).
  std::vector<ort_peer::NamedTensor> inputs;
  std::vector<Tensor> in_tensors;
  for (ValueId id : graph->inputs) {
    const std::string name = graph->value(id).name;
    auto t = read_caffe_blob((dir / ("input_" + name + ".binaryproto")).string());
    ASSERT_TRUE(t.ok()) << t.status().message();
    inputs.push_back({name, *t});
    in_tensors.push_back(*t);
  }

  const fs::path tmp =
      fs::temp_directory_path() / ("qmap_caffe_ort_" + GetParam() + "_" + std::to_string(::getpid()) + ".onnx");
  struct Cleanup {
    fs::path p;
    ~Cleanup() { std::error_code ec; fs::remove(p, ec); }
  } cleanup{tmp};
  const Status st = export_onnx(*graph, tmp.string());
  ASSERT_TRUE(st.ok()) << st.message();

  auto expected = ort_peer::run(ort_peer::default_peer(), tmp.string(), inputs);
  ASSERT_TRUE(expected.ok()) << "ORT on the exported Caffe model: " << expected.status().message();

  auto engine = FloatEngine::create(*graph);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  auto outs = engine->run(in_tensors);
  ASSERT_TRUE(outs.ok()) << outs.status().message();
  std::vector<ort_peer::NamedTensor> actual;
  for (size_t i = 0; i < outs->size(); ++i) actual.push_back({graph->value(graph->outputs.at(i)).name, (*outs)[i]});

  const Status agree = ort_peer::check_agreement("caffe/" + GetParam() + " qmap-vs-ort", actual, *expected, kRelTol);
  EXPECT_TRUE(agree.ok()) << agree.message() << "\ninputs: " << dir.string() << "/input_*.binaryproto";
}

INSTANTIATE_TEST_SUITE_P(Cases, CaffeOrtAgreement, ::testing::ValuesIn(case_names()),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });

}  // namespace
}  // namespace qmap
