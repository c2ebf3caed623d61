// `qmap eval --model A [--model B ...] --data DIR [--labels FILE]`: top-1 / top-5 of models
// of any stage over a labeled image set, side by side; the work is session/eval.h. Prints
// the table and the ===REPORT-START{MAPPER-EVAL}=== block (docs/eval.md).
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/image_flags.h"
#include "core/file_io.h"
#include "session/eval.h"

namespace qmap::cli {

namespace {

constexpr const char* kStage = "eval";

struct EvalArgs {
  EvalOptions options;
  int jobs = 0;
  std::string json;
  ImageFlags flags;
};

Status run_eval_command(EvalArgs& a) {
  QMAP_ASSIGN_OR_RETURN(a.options.image, to_image_input_options(kStage, a.flags));
  QMAP_ASSIGN_OR_RETURN(a.options.jobs, resolve_eval_jobs(a.jobs, std::getenv("PARALLEL_PROCESS_NUM")));
  QMAP_ASSIGN_OR_RETURN(EvalReport report, run_eval(a.options));
  std::fputs(eval_table(report).c_str(), stdout);
  std::fputs(eval_report_block(report).c_str(), stdout);
  if (!a.json.empty()) QMAP_RETURN_IF_ERROR(write_file_atomic(a.json, eval_json(report)));
  return ok_status();
}

}  // namespace

void register_eval(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand("eval", "Top-1/top-5 of one or more models (any stage) over a labeled image set");
  auto a = std::make_shared<EvalArgs>();
  EvalOptions& o = a->options;
  cmd->add_option("--model,-m", o.models, "model (.onnx float or quantized, .bin); repeat to compare side by side")
      ->required();
  cmd->add_option("--data,-d", o.data_dir, "image folder: with --labels the listed files, else one sub-folder per class")
      ->required();
  cmd->add_option("--labels", o.labels_file, "'<file> <label>' lines (ImageNet val.txt style), files relative to --data");
  cmd->add_option("--config,-c", o.config_path, "makertbin YAML whose input_parameters preprocess the images (models without qmap metadata)");
  cmd->add_option("--jobs,-j", a->jobs, "worker threads (default: PARALLEL_PROCESS_NUM, else all cores)")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--limit", o.limit, "only the first N images");
  cmd->add_option("--label-offset", o.label_offset,
                  "added to every label: 1 for models whose output 0 is 'background' (1001-way TF-slim classifiers)");
  cmd->add_option("--threads", o.threads, "intra-op threads per .bin worker (0: one per core); outputs do not depend on it")
      ->default_val(1)->check(CLI::NonNegativeNumber);
  cmd->add_option("--json", a->json, "write the report (per-class numbers too) as JSON");
  cmd->add_flag("!--no-progress", o.progress, "no progress bar");
  add_custom_op_lib_option(cmd, &o.custom_op_libs);
  add_image_flags(cmd, &a->flags);
  cmd->callback([run, a] {
    *run = [a] {
      const Status s = run_eval_command(*a);
      return s ? 0 : fail(s);
    };
  });
}

}  // namespace qmap::cli
