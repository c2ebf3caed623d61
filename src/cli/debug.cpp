// `qmap debug --config cfg.yaml [--model-type onnx|caffe] [--samples N] [--output-dir D]`: the
// accuracy debugger over makertbin's outputs (docs/debug.md; the analysis is
// src/makertbin/accuracy_debug.h): per-node sensitivity ranked, the cumulative per-node
// cosine of the quantized model, activation histograms with thresholds, per-channel weight
// ranges and the top suspects with the YAML lines that keep them in float. Prints the ranked
// table and writes D/<prefix>_debug.html and .json (default D: makertbin's working_dir).
#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <string>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/file_io.h"
#include "makertbin/accuracy_debug.h"

namespace qmap::cli {

namespace {

struct DebugArgs {
  AccuracyDebugOptions options;
  std::string output_dir;
  size_t rows = 20;
};

Status run_debug(const DebugArgs& a) {
  QMAP_ASSIGN_OR_RETURN(const DebugReport r, run_accuracy_debug(a.options));
  const std::string dir =
      a.output_dir.empty() ? std::filesystem::path(r.quantized_model).parent_path().string() : a.output_dir;
  QMAP_ASSIGN_OR_RETURN(const std::string html, write_debug_report(r, dir.empty() ? "." : dir));
  std::fputs(debug_summary_text(r, a.rows).c_str(), stdout);
  std::printf("Report written to '%s' (and %s_debug.json beside it)\n", html.c_str(), r.model.c_str());
  return ok_status();
}

}  // namespace

void register_debug(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand("debug",
                                 "Accuracy debugger: per-node sensitivity, cumulative error, histograms and "
                                 "weight ranges of a makertbin conversion");
  auto a = std::make_shared<DebugArgs>();
  AccuracyDebugOptions& o = a->options;
  cmd->add_option("--config,-c", o.config_path, "the makertbin YAML of the conversion to debug")->required();
  cmd->add_option("--model-type", o.model_type, "model format, as given to makertbin")
      ->default_val("onnx")
      ->check(CLI::IsMember({"onnx", "caffe"}));
  cmd->add_option("--samples", o.samples, "calibration samples to run, spread over the calibration set")
      ->default_val(8)
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--top", o.top, "suspects listed with their YAML lines")->default_val(5)->check(CLI::Range(1, 1000));
  cmd->add_option("--rows", a->rows, "rows of the ranked table printed (the report has all)")
      ->default_val(20)
      ->check(CLI::Range(1, 100000));
  cmd->add_option("--output-dir", a->output_dir,
                  "folder of <prefix>_debug.html and .json (default: makertbin's working_dir)");
  cmd->add_option("--jobs,-j", o.jobs, "worker threads (default: compiler_parameters.jobs, else all cores)")
      ->check(CLI::Range(1, 256));
  cmd->add_flag("!--no-progress", o.progress, "no progress bar");
  add_custom_op_lib_option(cmd, &o.custom_op_libs);
  cmd->callback([run, a] {
    *run = [a] {
      install_interrupt_cleanup(
          "debug: interrupted by a signal: no report written (files already written are complete)");
      const Status s = run_debug(*a);
      return s ? 0 : fail(s);
    };
  });
}

}  // namespace qmap::cli
