// `qmap info`: what a model holds. `--ir model.onnx` prints the IR text dump.
#include <CLI/CLI.hpp>

#include "cli/commands.h"

namespace qmap::cli {

void register_info(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand("info", "Show what a model holds (--ir: the IR text dump)");
  auto model = std::make_shared<std::string>();
  cmd->add_option("model", *model, "model file (.onnx)")->required();
  cmd->callback([run, model] {
    *run = [model] {
      std::fprintf(stderr, "ERROR info: not yet implemented for '%s'\n", model->c_str());
      return 1;
    };
  });
}

}  // namespace qmap::cli
