// Calibration methods: from the streamed Statistics (min/max and a 2048-bin histogram of
// |x| per value) compute one clipping threshold T > 0 per value, in float units. The
// formulas are documented in docs/quantization.md, "Calibration methods".
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "calib/statistics.h"
#include "core/status.h"

namespace qmap {

// Value name -> clipping threshold T > 0 (the quantization contract's Thresholds).
using Thresholds = std::map<std::string, float>;

enum class CalibMethod {
  kMax,         // T = max|x|
  kPercentile,  // T = the max_percentile quantile of |x|
  kKl,          // TensorRT's entropy calibration
  kMse,         // minimum expected squared error (clipping + rounding)
};

const char* calib_method_name(CalibMethod m);  // "max", "percentile", "kl", "mse"
std::optional<CalibMethod> calib_method_by_name(std::string_view name);

// The threshold of a value that was zero on every sample: any T represents it exactly, and
// the contract needs T > 0.
inline constexpr float kZeroValueThreshold = 1.0f;

// Largest quantized magnitude used for a value: 255 when every observed element was >= 0
// (uint8, scale T/255), else 127 (int8, scale T/127). kl and mse optimise for this grid;
// the quantizer decides signedness from the graph structure, so callers that know its view
// pass MethodOptions::is_unsigned instead.
int levels_for(const ValueStats& s);

struct MethodOptions {
  CalibMethod method = CalibMethod::kMax;
  double max_percentile = 0.99995;  // percentile only; in (0, 1]
  // The quantizer's signedness by value name (true: uint8, 255 levels). When empty,
  // levels_for(stats) decides.
  std::function<bool(const std::string&)> is_unsigned;
  int threads = 0;  // values are independent: computed in parallel; <= 0: hardware_concurrency
};

// The threshold of one value with `levels` = 127 or 255 (used by kl and mse only). Always a
// finite T > 0; never above max|x| except kZeroValueThreshold for an all-zero value.
float threshold_for(const ValueStats& s, CalibMethod method, int levels, double max_percentile);

// Thresholds of every value in `stats`. Errors: max_percentile outside (0, 1] (percentile),
// a value without a histogram (statistics from pass 1 only).
Result<Thresholds> compute_thresholds(const Statistics& stats, const MethodOptions& opts);

}  // namespace qmap
