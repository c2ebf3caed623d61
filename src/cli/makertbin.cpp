// `qmap makertbin --config cfg.yaml --model-type onnx|caffe`: calibrate and quantize a float
// model as the YAML describes (docs/yaml.md); the pipeline is src/makertbin/makertbin.h.
// Any error is one `ERROR <message>` line on stderr (and in the log), exit code 1.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/file_io.h"
#include "makertbin/makertbin.h"

namespace qmap::cli {

void register_makertbin(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand("makertbin", "Calibrate and quantize a float model as a YAML config describes");
  auto o = std::make_shared<MakertbinOptions>();
  cmd->add_option("--config,-c", o->config_path, "hb_mapper-style YAML config (docs/yaml.md)")->required();
  cmd->add_option("--model-type", o->model_type, "model format")->required()->check(CLI::IsMember({"onnx", "caffe"}));
  cmd->add_option("--calibration-table", o->calibration_table,
                  "use the thresholds of this calibration table (as makertbin writes it) instead of calibrating");
  cmd->add_option("--jobs,-j", o->jobs, "worker threads (default: compiler_parameters.jobs, else all cores)")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("!--no-progress", o->progress, "no progress bar");
  add_custom_op_lib_option(cmd, &o->custom_op_libs);
  cmd->callback([run, o] {
    *run = [o] {
      // Ctrl-C or kill: the temporary file being written is removed, finished outputs stay
      // complete (every output is written atomically), one ERROR line, exit 130 / 143.
      install_interrupt_cleanup(
          "makertbin: interrupted by a signal: temporary files removed, outputs already written are complete; "
          "run the command again to finish");
      Logger log(stdout, LogLevel::kInfo);
      const Status s = run_makertbin(*o, log);
      return s ? 0 : fail(s, &log);
    };
  });
}

}  // namespace qmap::cli
