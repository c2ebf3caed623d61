// `qmap perf MODEL [--march M] [--output-dir D] [--measure] [--threads N] [--iters K]`: the
// performance report of a .bin or a quantized ONNX (docs/perf.md), like hb_perf: estimated
// latency for the march, DDR traffic, per-layer tables, charts and the graph, written to
// D/<model>/ (HTML, JSON, SVG, per-subgraph pages); with --measure the runtime's times on this
// CPU beside the estimate. The summary is printed as a table.
#include <CLI/CLI.hpp>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "report/perf_report.h"
#include "report/perf_source.h"

namespace qmap::cli {

namespace {

struct PerfArgs {
  std::string model, march, output_dir = "qmap_perf_result";
  bool measure = false;
  int threads = 1;
  int iters = 20;
  std::vector<std::string> custom_op_libs;
};

Status run_perf(const PerfArgs& a) {
  QMAP_ASSIGN_OR_RETURN(PerfInput in, load_perf_input(a.model, a.custom_op_libs));
  const std::string march = !a.march.empty() ? a.march : !in.march.empty() ? in.march : "generic";
  std::string cost_source;
  QMAP_ASSIGN_OR_RETURN(CostModel cost, perf_cost_model(march, a.threads, &cost_source));
  PerfReport r = estimate_perf(in.program, in.placement, cost, in.arena_bytes);
  r.model = in.name;
  r.source = in.path;
  r.source_kind = in.kind;
  r.march = march;
  if (a.measure) QMAP_RETURN_IF_ERROR(measure_perf(r, in, a.iters, a.threads));
  std::string graph_note;
  QMAP_ASSIGN_OR_RETURN(std::string dir, write_perf_report(r, a.output_dir, &graph_note));
  std::printf("Cost model: %s\n", cost_source.c_str());
  std::fputs(perf_summary_text(r).c_str(), stdout);
  if (!graph_note.empty()) std::printf("%s\n", graph_note.c_str());
  std::printf("Report written to '%s' (%s.html, %s.json%s, per-subgraph pages)\n", dir.c_str(), r.model.c_str(),
              r.model.c_str(), graph_note.empty() ? fmt::format(", {}.svg", r.model).c_str() : "");
  return ok_status();
}

}  // namespace

void register_perf(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand("perf", "Performance report of a .bin or quantized ONNX: estimate for the march, "
                                         "optionally measured on this CPU");
  auto a = std::make_shared<PerfArgs>();
  cmd->add_option("model", a->model, "model: .bin or the quantized .onnx")->required();
  cmd->add_option("--march", a->march,
                  "march whose cost model estimates (a built-in name, a target .yaml, or 'host' for this CPU, "
                  "probed); default: the march the model was built for");
  cmd->add_option("--output-dir", a->output_dir, "the report goes to <dir>/<model>/")->default_val("qmap_perf_result");
  cmd->add_flag("--measure", a->measure, "also run the model on this CPU and time every layer");
  add_custom_op_lib_option(cmd, &a->custom_op_libs);
  cmd->add_option("--threads", a->threads, "intra-op threads for --measure (and the host march's compute)")
      ->default_val(1)->check(CLI::PositiveNumber);
  cmd->add_option("--iters", a->iters, "measured runs (after 2 warm-up runs)")->default_val(20)->check(CLI::PositiveNumber);
  cmd->callback([run, a] {
    *run = [a] {
      const Status s = run_perf(*a);
      return s ? 0 : fail(s);
    };
  });
}

}  // namespace qmap::cli
