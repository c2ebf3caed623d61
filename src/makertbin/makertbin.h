// makertbin: the conversion pipeline behind `qmap makertbin --config cfg.yaml`.
//
//   config → import (ONNX | Caffe) → output_nodes / remove_node_type → placement check
//   → preprocess node ............................ <prefix>_original_float_model.onnx
//   → float passes ............................... <prefix>_optimized_float_model.onnx
//   → calibration (calib/calibrate.h: statistics, methods, the candidate search)
//                                                 <prefix>_calibration_table.txt
//   → bias correction (quant/bias_correction.h)
//   → quantization (QDQ) ......................... <prefix>_quantized_model.onnx
//   → the deployable program (docs/format.md) .... <prefix>.bin
//   → node table: per-node cosine of the integer simulation vs float on the first sample
//
// Every output is written to a temporary name and renamed; the log goes to
// <working_dir>/makertbin.log as well as the console.
#pragma once

#include <string>
#include <vector>

#include "core/log.h"
#include "core/status.h"
#include "ir/graph.h"
#include "quant/quantize.h"

namespace qmap {
struct MakertbinConfig;
class CustomOpSet;
struct TargetSpec;
}  // namespace qmap

namespace qmap {

struct MakertbinOptions {
  std::string config_path;
  std::string model_type;        // "onnx" | "caffe"
  std::string calibration_table; // read thresholds from this table instead of calibrating
  int jobs = 0;                  // worker threads; 0: compiler_parameters.jobs or all cores
  bool progress = true;          // progress bar on a terminal
  // --custom-op-lib: plugin libraries loaded after the YAML's custom_op section's.
  std::vector<std::string> custom_op_libs;
};

// The quantizer's options the config asks for (per_channel, run_on_cpu, run_on_npu) on `spec`
// (kept alive by the caller), with a fresh weight cache (QuantizeOptions::weight_cache).
QuantizeOptions makertbin_quantize_options(const MakertbinConfig& cfg, const TargetSpec& spec);

// The model the config names, imported as makertbin imports it (the YAML's input shapes
// given to the importer), with cfg.inputs completed from it: an empty input_name names the
// model's only input, an empty input_shape takes the model's; names and shapes are checked.
Result<Graph> import_config_model(MakertbinConfig& cfg, const CustomOpSet& custom_ops, Logger& log);

// Runs the whole conversion, one function a stage (import, preprocess node, float passes,
// calibration, bias correction, quantization, bin, node comparison), each logging
// "<stage> done in N.NN s"; the "stage times" line sums them up. `log` gets the console
// lines; the function adds the log file.
Status run_makertbin(const MakertbinOptions& options, Logger& log);

}  // namespace qmap
