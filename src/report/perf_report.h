// The files of `qmap perf` (docs/perf.md): from a PerfReport (perf_model.h), the JSON (schema
// "qmap.perf/1", documented in docs/perf.md and checked by perf_report_test.cpp), the
// self-contained HTML page (inline CSS and SVG charts, no script, no network), the graph in
// Graphviz DOT (rendered to SVG by the `dot` program when it is installed), the per-subgraph
// pages and the terminal summary.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/status.h"
#include "report/perf_model.h"

namespace qmap {

inline constexpr const char* kPerfSchema = "qmap.perf/1";

// The whole model (subgraph unset) or one subgraph's page data.
nlohmann::ordered_json perf_json(const PerfReport& r, std::optional<int> subgraph = std::nullopt);

// The graph: one node per step (NPU green, CPU orange, darker for a larger share of the time:
// measured when present, else estimated), edges along the tensors between steps.
std::string perf_dot(const PerfReport& r);

// Runs Graphviz `dot -Tsvg` on `dot_text`. Errors: "perf: graphviz 'dot' not found ..." when
// the program is missing, or its exit status.
Result<std::string> render_dot_svg(const std::string& dot_text);

// graph_svg: the rendered graph to embed (empty: a line saying why it is missing, `graph_note`).
std::string perf_html(const PerfReport& r, const std::string& graph_svg, const std::string& graph_note,
                      std::optional<int> subgraph = std::nullopt);

// The summary as a text table for the terminal.
std::string perf_summary_text(const PerfReport& r);

// Writes <out_root>/<r.model>/ with every file, into a temporary folder beside it that is
// renamed at the end (an older report of the same model is replaced only then), so an error
// leaves no partial report. `graph_note` receives the one line shown when `dot` is missing.
// Returns the folder written.
Result<std::string> write_perf_report(const PerfReport& r, const std::string& out_root, std::string* graph_note);

}  // namespace qmap
