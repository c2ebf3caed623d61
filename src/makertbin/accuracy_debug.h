// `qmap debug`: the accuracy debugger over makertbin's outputs (docs/debug.md), in the
// manner of Horizon's hmct-debugger and RKNN's accuracy_analysis. From the makertbin YAML it
// finds <prefix>_optimized_float_model.onnx, <prefix>_quantized_model.onnx and
// <prefix>_calibration_table.txt in the working_dir, loads `samples` calibration samples
// spread over the set (calib/calibrate.h's spread_indices) and measures:
//   - per-node sensitivity: each quantization unit (a node or a fused group) quantized alone
//     by the quantizer (every other node forced to the CPU, so in float; the unit's own
//     Quantize/Dequantize kept) and run in the integer simulator, against the float model's
//     outputs: cosine, MSE, SQNR (calib/output_scorer.h, as makertbin's method search), ranked;
//   - the cumulative error: the per-node cosine of the full quantized model (the file, with
//     its bias correction) against float, as makertbin's node table (report/node_compare.h);
//   - per-value activation histograms with the calibration table's threshold;
//   - per-output-channel weight ranges of every Conv;
//   - the top suspects, the run_on_cpu line that keeps them in float, and the output cosine
//     of the model re-quantized that way.
// The sensitivity runs re-quantize the optimized float model with the calibration table's
// thresholds: biases without makertbin's bias correction (a per-channel shift of the mean,
// small against the error of quantizing a node).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/log.h"
#include "core/status.h"
#include "report/debug_report.h"

namespace qmap {

struct AccuracyDebugOptions {
  std::string config_path;
  std::string model_type = "onnx";  // as makertbin's --model-type
  size_t samples = 8;               // calibration samples used, spread over the set (spread_indices)
  size_t top = 5;                   // suspects listed
  int jobs = 0;                     // worker threads; 0: compiler_parameters.jobs or all cores
  bool progress = true;             // progress bars on a terminal
  std::vector<std::string> custom_op_libs;
};

// Errors name the file, the key or the option: "debug: --samples 0: expected 1 or more".
Result<DebugReport> run_accuracy_debug(const AccuracyDebugOptions& options);

}  // namespace qmap
