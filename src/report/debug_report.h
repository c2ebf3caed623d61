// The files of `qmap debug` (docs/debug.md): from a DebugReport, the JSON (schema
// "qmap.debug/1", documented in docs/debug.md), the self-contained HTML page (inline CSS and
// SVG charts, no script, no network) and the terminal tables. The analysis that fills a
// DebugReport is makertbin/accuracy_debug.h.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "report/node_compare.h"
#include "report/text_table.h"

namespace qmap {

inline constexpr const char* kDebugSchema = "qmap.debug/1";

// One quantization unit (a node, or a fused group named by its head) quantized alone, every
// other node in float: the model outputs against the float model's, means over the samples
// (and over the outputs).
struct NodeSensitivity {
  std::string node;                  // the unit's name (the group's head)
  std::string op_type;               // the head's type
  std::vector<std::string> members;  // every node of the unit, graph order
  double cosine = 0, mse = 0, sqnr_db = 0;
};

// Activation statistics of one calibrated value over the debug samples, with the threshold
// the quantized model uses.
struct ActivationHistogram {
  std::string value;
  float threshold = 0;  // the calibration table's, float units
  float min = 0, max = 0, abs_max = 0;
  std::vector<uint64_t> bins;  // counts of |x| over [0, abs_max], equal widths
  double clipped = 0;          // fraction of the elements with |x| > threshold
};

// Per output channel weight range of a Conv (depthwise when group == channels).
struct WeightRanges {
  std::string node;
  bool depthwise = false;
  std::vector<float> min, max;  // per output channel
  // max over channels of max|W| divided by the median over channels: how far one channel
  // stretches a per-tensor scale (per-channel scales absorb it, per-tensor ones do not).
  double spread = 0;
};

struct DebugSuspect {
  std::string node;
  std::vector<std::string> members;
  double cosine = 0, sqnr_db = 0;
  std::string why;  // one line: what the report saw (a clipped range, a wide weight spread)
};

struct DebugReport {
  std::string model;   // output_model_file_prefix
  std::string config;  // the makertbin YAML's path
  std::string float_model, quantized_model, calibration_table;
  std::string calibration_method;  // the quantized model's metadata
  // The nodes makertbin's accuracy_budget kept in float (the quantized model's metadata),
  // in graph order; empty when none.
  std::vector<std::string> budget_cpu;
  bool per_channel = true;
  size_t samples = 0;
  NodeComparison cumulative;                 // the full quantized model against float
  std::vector<NodeSensitivity> sensitivity;  // ranked: most sensitive first
  std::vector<ActivationHistogram> histograms;
  std::vector<WeightRanges> weights;
  std::vector<DebugSuspect> suspects;  // the top of `sensitivity`, with reasons
  std::string suspects_yaml;           // the makertbin YAML lines that keep them in float
  // The full model re-quantized with the suspects in float on the CPU: mean output cosine
  // and SQNR against float (what the YAML lines above would give), when measured.
  std::optional<double> suspects_on_cpu_cosine, suspects_on_cpu_sqnr_db;
  // The NPU alternative, when a suspect can have an int16 output: node_info OutputType: int16
  // for those (with the config's own), run_on_cpu for the others; empty when none can.
  std::string suspects_int16_yaml;
  // The full model re-quantized that way (int16 thresholds: max |v| over the samples).
  std::optional<double> suspects_int16_cosine, suspects_int16_sqnr_db;
};

nlohmann::ordered_json debug_json(const DebugReport& r);
std::string debug_html(const DebugReport& r);
// The ranked sensitivity table (at most `rows` units) and the suspects for the terminal.
std::string debug_summary_text(const DebugReport& r, size_t rows);

// Writes <dir>/<model>_debug.json and <dir>/<model>_debug.html, each atomically (a
// temporary file renamed into place); creates dir. Returns the HTML's path.
Result<std::string> write_debug_report(const DebugReport& r, const std::string& dir);

}  // namespace qmap
