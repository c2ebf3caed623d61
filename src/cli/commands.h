// Each qmap subcommand registers itself on the CLI11 app from its own file.
#pragma once

#include <functional>

namespace CLI {
class App;
}

namespace qmap::cli {

// A registered subcommand stores its body in *run when it is chosen; main calls it and
// exits with what it returns.
using Runner = std::function<int()>;
using RegisterFn = void (*)(CLI::App& app, Runner* run);

void register_info(CLI::App& app, Runner* run);     // cli/info.cpp
void register_ops(CLI::App& app, Runner* run);      // cli/ops.cpp
void register_checker(CLI::App& app, Runner* run);  // cli/checker.cpp
void register_makertbin(CLI::App& app, Runner* run);  // cli/makertbin.cpp
void register_preprocess(CLI::App& app, Runner* run);  // cli/preprocess.cpp
void register_infer(CLI::App& app, Runner* run);    // cli/infer.cpp
void register_eval(CLI::App& app, Runner* run);     // cli/eval.cpp
void register_verify(CLI::App& app, Runner* run);  // cli/verify.cpp
void register_perf(CLI::App& app, Runner* run);    // cli/perf.cpp
void register_debug(CLI::App& app, Runner* run);   // cli/debug.cpp

inline constexpr RegisterFn kCommands[] = {
    register_info,
    register_ops,
    register_checker,
    register_makertbin,
    register_preprocess,
    register_infer,
    register_eval,
    register_verify,
    register_perf,
    register_debug,
};

}  // namespace qmap::cli
