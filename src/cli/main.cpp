// qmap command-line entry point: dispatches to the subcommands in src/cli/*.cpp.
#include <cstdio>
#include <exception>
#include <new>
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
  } catch (const std::bad_alloc&) {
    // Readers refuse sizes over their documented limits before allocating
    // (docs/reliability.md); a model or data set within them can still need more memory than
    // this process may have (RAM, ulimit -v). One line naming the command, not a crash.
    std::string cmd;
    for (int i = 1; i < argc; ++i) cmd += std::string(i > 1 ? " " : "") + argv[i];
    std::fprintf(stderr, "ERROR qmap: out of memory running 'qmap %s': the model or its data needs more memory than "
                 "this process may use (RAM, ulimit -v)\n", cmd.c_str());
    return 3;
  } catch (const std::exception& e) {
    // Everything that reads user input returns a Status; reaching here is a bug, but the
    // user still gets one line and a non-zero exit rather than an abort.
    std::fprintf(stderr, "ERROR qmap: internal error: %s\n", e.what());
    return 3;
  }
}
