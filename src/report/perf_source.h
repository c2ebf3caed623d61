// What `qmap perf` estimates and measures: the model (a .bin, or a quantized ONNX lowered the
// way makertbin lowers it for its .bin), the cost model of the march (a target spec's
// cost_model, or `host`: this CPU, probed), and the measured run on this CPU.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "program/bin_format.h"
#include "program/int_program.h"
#include "qmap/runtime.h"
#include "report/perf_model.h"
#include "target/target_spec.h"

namespace qmap {

struct PerfInput {
  std::string path;
  std::string name;  // file stem: the report's folder and file names
  std::string kind;  // "bin" or "quantized onnx"
  IntProgram program;
  std::vector<StepPlacement> placement;
  int64_t arena_bytes = 0;
  std::string march;  // the march the .bin / ONNX was built for (may be empty)
  std::optional<rt::Model> model;  // the runtime's view of the same program (for --measure)
};

// A .bin (by magic or extension) or a quantized ONNX. Errors name the file:
// "perf: model '<path>': ..." for a missing file, the .bin reader's and the lowering's own
// errors otherwise.
// custom_op_libs: plugins providing the model's custom ops (docs/custom-op.md).
Result<PerfInput> load_perf_input(const std::string& path, const std::vector<std::string>& custom_op_libs = {});

// The march "host" (this CPU, probed: docs/perf.md) or a target spec's cost_model
// (load_target_spec: a built-in name or a .yaml path). threads scales the host's compute.
// `description` receives one line on where the numbers come from.
Result<CostModel> perf_cost_model(const std::string& march, int threads, std::string* description);

// The host cost model from the probes (host_probe.h), the `host` march.
CostModel host_cost_model(int threads, std::string* description);

// Runs the model `iters` times (after 2 warm-up runs) with profiling on `threads` threads on
// a fixed deterministic input, and attaches per-step medians and the per-run NPU/CPU/total
// statistics to `r`.
Status measure_perf(PerfReport& r, const PerfInput& in, int iters, int threads);

}  // namespace qmap
