// `qmap checker` and `qmap makertbin` agree on where each op runs: for every op of `qmap ops`
// (its one-node model, registered by the op's own test file with QMAP_OP_EXAMPLE; an op
// without one fails the test) and every built-in march, the checker's placement of the node
// (checker_placement) equals the placement of its steps in the .bin that makertbin writes
// (calibration_type: skip: placement needs no data).
#include <filesystem>
#include <fstream>
#include <functional>

#include <gtest/gtest.h>

#include "core/log.h"
#include "import/onnx/onnx_export.h"
#include "import/onnx/onnx_import.h"
#include "makertbin/makertbin.h"
#include "ops/registry.h"
#include "op_example.h"
#include "program/bin_reader.h"
#include "quant/checker_placement.h"
#include "target/target_spec.h"

namespace qmap {
namespace {

namespace fs = std::filesystem;
using testing::GraphBuilder;
using testing::OpExample;

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
  const std::map<std::string, OpExample>& ex = testing::op_examples();
  for (OpId op : all_ops())
    EXPECT_TRUE(ex.count(op_def(op).name)) << "no one-node example for " << op_def(op).name
                                           << ": add QMAP_OP_EXAMPLE to its test file (tests/op_example.h)";
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
