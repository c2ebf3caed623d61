// `qmap info`: what a model holds. `--ir model.onnx` prints the IR text dump after import
// (opset-17 form, shapes inferred).
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "import/onnx/onnx_import.h"
#include "ir/dump.h"

namespace qmap::cli {

void register_info(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand("info", "Show what a model holds");
  struct Args {
    std::string model;
    bool ir = false;
    std::vector<std::string> input_shapes;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("model", a->model, "model file (.onnx)")->required();
  cmd->add_flag("--ir", a->ir, "print the IR text dump of the imported model");
  cmd->add_option("--input-shape", a->input_shapes, "NAME SHAPE (e.g. data 1x3x224x224) for a dynamic input")
      ->expected(2)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->callback([run, a] {
    *run = [a] {
      Logger log(stderr, LogLevel::kWarning);
      auto shapes = parse_input_shapes(a->input_shapes);
      if (!shapes.ok()) return fail(shapes.status());
      OnnxImportOptions opt;
      opt.input_shapes = *shapes;
      opt.log = &log;
      auto g = import_onnx(a->model, opt);
      if (!g.ok()) return fail(g.status());
      std::fputs(dump_graph(*g).c_str(), stdout);
      return 0;
    };
  });
}

}  // namespace qmap::cli
