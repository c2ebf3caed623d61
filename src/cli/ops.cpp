// `qmap ops`: the operators qmap understands (`--markdown`: docs/ops.md).
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "ops/ops_doc.h"
#include "ops/registry.h"

namespace qmap::cli {

void register_ops(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand("ops", "List the operators qmap understands");
  auto markdown = std::make_shared<bool>(false);
  cmd->add_flag("--markdown", *markdown, "print docs/ops.md");
  cmd->callback([run, markdown] {
    *run = [markdown] {
      if (*markdown) {
        std::fputs(ops_markdown().c_str(), stdout);
        return 0;
      }
      for (OpId id : all_ops()) std::printf("%-22s %s\n", op_def(id).name, op_def(id).summary);
      return 0;
    };
  });
}

}  // namespace qmap::cli
