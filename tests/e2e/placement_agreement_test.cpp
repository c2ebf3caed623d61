// `qmap checker` and `qmap makertbin` agree on where each op runs: for every op of `qmap ops`
// (a one-node model; an op without an example fails the test) and every built-in march, the
// checker's placement of the node (checker_placement) equals the placement of its steps in
// the .bin that makertbin writes (calibration_type: skip: placement needs no data).
#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "core/log.h"
#include "import/onnx/onnx_export.h"
#include "import/onnx/onnx_import.h"
#include "makertbin/makertbin.h"
#include "ops/registry.h"
#include "passes/pass_test_util.h"
#include "program/bin_reader.h"
#include "quant/checker_placement.h"
#include "target/target_spec.h"

namespace qmap {
namespace {

namespace fs = std::filesystem;
using testing::GraphBuilder;

// The op's one-node model: input "x" (its dims are the YAML's input_shape), node "n".
struct Example {
  Dims x = {1, 4, 6, 6};
  std::function<std::vector<ValueId>(GraphBuilder&, ValueId)> build;
  const char* skip = nullptr;  // why the op has no one-node model here
};

Tensor ints(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }
Tensor floats(Dims d, std::vector<float> v) { return Tensor::from_vector<float>(std::move(d), v); }
std::vector<int64_t> v2(int64_t a, int64_t b) { return {a, b}; }

// Unary node on x with attributes and constant inputs after x.
Example unary(const char* op, std::map<std::string, AttrValue> attrs = {}, std::vector<Tensor> more = {}) {
  return {.build = [=](GraphBuilder& b, ValueId x) {
    std::vector<ValueId> ins = {x};
    for (size_t i = 0; i < more.size(); ++i) ins.push_back(b.constant("c" + std::to_string(i), more[i]));
    return std::vector<ValueId>{b.node(op, "n", ins, attrs)};
  }};
}
Example binary_self(const char* op) {
  return {.build = [=](GraphBuilder& b, ValueId x) { return std::vector<ValueId>{b.node(op, "n", {x, x})}; }};
}

std::map<std::string, Example> examples() {
  std::map<std::string, Example> e;
  e["Abs"] = unary("Abs");
  e["Pow"] = unary("Pow", {}, {Tensor::scalar<float>(2.f)});
  e["LRN"] = unary("LRN", {{"size", int64_t{3}}});
  e["Max"] = binary_self("Max");
  e["ArgMax"] = unary("ArgMax", {{"axis", int64_t{1}}});
  e["ReduceSumSquare"] = unary("ReduceSumSquare", {{"axes", std::vector<int64_t>{2, 3}}});
  e["Conv"] = {.build = [](GraphBuilder& b, ValueId x) {
    return std::vector<ValueId>{b.node("Conv", "n", {x, b.random("w", {8, 4, 3, 3}, 1), b.random("b", {8}, 2)},
                                       {{"pads", std::vector<int64_t>{1, 1, 1, 1}}})};
  }};
  e["ConvTranspose"] = {.build = [](GraphBuilder& b, ValueId x) {
    return std::vector<ValueId>{b.node("ConvTranspose", "n", {x, b.random("w", {4, 4, 2, 2}, 3)},
                                       {{"strides", v2(2, 2)}})};
  }};
  e["BatchNormalization"] = {.build = [](GraphBuilder& b, ValueId x) {
    return std::vector<ValueId>{b.batchnorm("n", x, 4, 4)};
  }};
  e["MaxPool"] = unary("MaxPool", {{"kernel_shape", v2(2, 2)}, {"strides", v2(2, 2)}});
  e["AveragePool"] = unary("AveragePool", {{"kernel_shape", v2(2, 2)}, {"strides", v2(2, 2)}});
  e["GlobalAveragePool"] = unary("GlobalAveragePool");
  e["GlobalMaxPool"] = unary("GlobalMaxPool");
  e["Gemm"] = {.x = {1, 16}, .build = [](GraphBuilder& b, ValueId x) {
    return std::vector<ValueId>{b.node("Gemm", "n", {x, b.random("w", {16, 8}, 5), b.random("c", {8}, 6)})};
  }};
  e["MatMul"] = {.x = {1, 16}, .build = [](GraphBuilder& b, ValueId x) {
    return std::vector<ValueId>{b.node("MatMul", "n", {x, b.random("w", {16, 8}, 7)})};
  }};
  e["Custom"] = {.skip = "needs a plugin library (tests/e2e and src/ops/custom cover custom ops)"};
  e["Relu"] = unary("Relu");
  e["LeakyRelu"] = unary("LeakyRelu", {{"alpha", 0.1f}});
  e["PRelu"] = unary("PRelu", {}, {floats({4, 1, 1}, {0.1f, 0.2f, 0.3f, 0.4f})});
  e["Clip"] = unary("Clip", {}, {Tensor::scalar<float>(0.f), Tensor::scalar<float>(6.f)});
  e["Sigmoid"] = unary("Sigmoid");
  e["HardSigmoid"] = unary("HardSigmoid");
  e["HardSwish"] = unary("HardSwish");
  e["Tanh"] = unary("Tanh");
  e["Elu"] = unary("Elu");
  e["Add"] = unary("Add", {}, {floats({4, 1, 1}, {0.1f, -0.2f, 0.3f, 0.5f})});
  e["Sub"] = binary_self("Sub");
  e["Mul"] = binary_self("Mul");
  e["Div"] = unary("Div", {}, {Tensor::scalar<float>(4.f)});
  e["Softmax"] = unary("Softmax", {{"axis", int64_t{1}}});
  e["Identity"] = unary("Identity");
  e["Dropout"] = unary("Dropout");
  e["Cast"] = unary("Cast", {{"to", int64_t{1}}});
  e["QuantizeLinear"] = {.skip = "a QDQ model's own QuantizeLinear is read by calibration_type: load, not placed"};
  e["DequantizeLinear"] = {.skip = "a QDQ model's own DequantizeLinear is read by calibration_type: load, not placed"};
  e["Concat"] = {.build = [](GraphBuilder& b, ValueId x) {
    return std::vector<ValueId>{b.node("Concat", "n", {x, x}, {{"axis", int64_t{1}}})};
  }};
  e["Split"] = {.build = [](GraphBuilder& b, ValueId x) {
    const ValueId y0 = b.g.add_value("y0"), y1 = b.g.add_value("y1");
    b.g.nodes.push_back(make_node("Split", "n", {x, b.constant("split", ints({1, 3}))}, {y0, y1}, {{"axis", int64_t{1}}}));
    return std::vector<ValueId>{y0, y1};
  }};
  e["Slice"] = unary("Slice", {}, {ints({1}), ints({5}), ints({2})});
  e["Pad"] = unary("Pad", {}, {ints({0, 0, 1, 1, 0, 0, 1, 1})});
  e["Flatten"] = unary("Flatten");
  e["Reshape"] = unary("Reshape", {}, {ints({1, 4, 36})});
  e["Transpose"] = unary("Transpose", {{"perm", std::vector<int64_t>{0, 2, 3, 1}}});
  e["Squeeze"] = unary("Squeeze", {}, {ints({0})});
  e["Unsqueeze"] = unary("Unsqueeze", {}, {ints({4})});
  e["Resize"] = {.build = [](GraphBuilder& b, ValueId x) {
    return std::vector<ValueId>{b.node("Resize", "n", {x, kNoValue, b.constant("scales", floats({4}, {1, 1, 2, 2}))},
                                       {{"mode", std::string("nearest")}})};
  }};
  e["ReduceMean"] = unary("ReduceMean", {{"axes", std::vector<int64_t>{2, 3}}});
  e["ReduceMax"] = unary("ReduceMax", {{"axes", std::vector<int64_t>{1}}});
  e["Constant"] = {.skip = "a Constant node alone has no input to run on: it is folded"};
  e["Gather"] = unary("Gather", {{"axis", int64_t{1}}}, {ints({0, 2})});
  e["Shape"] = {.skip = "Shape of a static input is a constant: folded, nothing to place"};
  return e;
}

std::string dims_x(const Dims& d) {
  std::string s;
  for (int64_t v : d) s += (s.empty() ? "" : "x") + std::to_string(v);
  return s;
}

// "NPU", "CPU" or "none" (no step) for node "n" in the .bin.
std::string bin_placement(const LoadedBin& bin) {
  std::string where = "none";
  for (size_t i = 0; i < bin.program.steps.size(); ++i)
    if (bin.program.steps[i].node == "n") {
      if (!bin.placement[i].cpu) return "NPU";
      where = "CPU";
    }
  return where;
}

TEST(PlacementAgreement, CheckerEqualsMakertbinForEveryOpAndMarch) {
  const std::map<std::string, Example> ex = examples();
  for (OpId op : all_ops()) EXPECT_TRUE(ex.count(op_def(op).name)) << "no example for " << op_def(op).name;
  const fs::path dir = fs::temp_directory_path() / ("qmap_placement_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  int compared = 0;
  for (const auto& [op, e] : ex) {
    if (e.skip) continue;
    GraphBuilder b;
    const ValueId x = b.input("x", e.x);
    Graph g = b.build(e.build(b, x));
    const std::string model = (dir / (op + ".onnx")).string();
    ASSERT_TRUE(export_onnx(g, model).ok()) << op;
    for (const std::string& march : embedded_target_names()) {
      SCOPED_TRACE(op + " on " + march);
      auto spec = load_target_spec(march);
      ASSERT_TRUE(spec.ok()) << spec.status().message();
      auto imported = import_onnx(model, {});
      ASSERT_TRUE(imported.ok()) << imported.status().message();
      const size_t ni = 0;
      ASSERT_EQ(imported->nodes[ni].name, "n");
      // The checker lists ops the march supports nowhere before placing anything.
      const bool unsupported = !place_graph(*imported, *spec).unsupported_ops.empty();
      NodePlacement cp{Placement::kUnsupported, -1, ""};
      if (!unsupported) {
        auto checked = checker_placement(*imported, *spec);
        ASSERT_TRUE(checked.ok()) << checked.status().message();
        cp = checked->nodes[ni];
      }

      const fs::path work = dir / (op + "_" + march);
      fs::create_directories(work);
      std::ofstream(work / "cfg.yaml") << "model_parameters:\n  onnx_model: '" << model << "'\n  march: " << march
                                       << "\n  working_dir: '" << work.string() << "'\n  output_model_file_prefix: m\n"
                                       << "input_parameters:\n  input_name: x\n  input_shape: " << dims_x(e.x)
                                       << "\n  input_type_train: featuremap\n  input_type_rt: featuremap\n"
                                       << "calibration_parameters:\n  calibration_type: skip\n";
      Logger quiet(nullptr, LogLevel::kError);
      MakertbinOptions mo;
      mo.config_path = (work / "cfg.yaml").string();
      mo.model_type = "onnx";
      mo.jobs = 1;
      mo.progress = false;
      const Status made = run_makertbin(mo, quiet);
      if (cp.where == Placement::kUnsupported) {
        EXPECT_FALSE(made.ok()) << "the checker says unsupported, makertbin converted it";
        continue;
      }
      EXPECT_TRUE(made.ok()) << made.message();
      if (!made.ok()) continue;
      auto bin = read_bin_file((work / "m.bin").string());
      ASSERT_TRUE(bin.ok()) << bin.status().message();
      const std::string in_bin = bin_placement(*bin);
      const std::string checker = cp.where == Placement::kNpu   ? "NPU"
                                  : cp.where == Placement::kCpu ? "CPU"
                                                                : "none";
      EXPECT_EQ(checker, in_bin) << "checker: " << placement_name(cp.where) << " (" << cp.reason << ")";
      ++compared;
    }
  }
  EXPECT_GT(compared, 200);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace qmap
