// qmap command-line entry point: dispatches to the subcommands in src/cli/*.cpp.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "qmap/runtime.h"

int main(int argc, char** argv) {
  CLI::App app{"qmap " QMAP_VERSION " - convert float CNN models into int8 models for an NPU"};
  app.require_subcommand(1);
  // The runtime's version text (release, git commit, build type, kernel ISAs compiled in), so
  // qmap --version and qmap::rt::version_text() cannot disagree.
  std::string version = qmap::rt::version_text();
  if (!version.empty() && version.back() == '\n') version.pop_back();
  app.set_version_flag("--version", version);
  qmap::cli::Runner run;
  // One line per subcommand; each lives in its own file.
  for (auto reg : qmap::cli::kCommands) reg(app, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return run ? run() : 2;
  } catch (const std::exception& e) {
    // Everything that reads user input returns a Status; reaching here is a bug, but the
    // user still gets one line and a non-zero exit rather than an abort.
    std::fprintf(stderr, "ERROR qmap: internal error: %s\n", e.what());
    return 3;
  }
}
