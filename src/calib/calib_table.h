// The calibration table: thresholds as editable text, written after calibration and read
// back in place of calibrating again (makertbin's cal table input).
//
//   # qmap calibration table
//   # model: mobilenetv2
//   # method: kl
//   # samples: 100
//   # <value name> <threshold> [<method>]
//   input 2.6400001 kl
//   "name with space" 0.5
//
// One value per line: its name, its threshold T > 0 in float units (written as the
// shortest decimal that reads back to the same float32), optionally the method that chose
// it. '#' starts a comment (whole line, or after the fields); blank lines are ignored.
// A name holding whitespace, '"', '#' or '\' is written in double quotes with '\"' and
// '\\' escapes. The header lines are comments: readers take model/method/samples from them
// when present but do not require them.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "calib/methods.h"
#include "core/status.h"
#include "ir/graph.h"

namespace qmap {

struct CalibEntry {
  std::string value;
  float threshold = 0.f;
  std::string method;  // may be empty
};

struct CalibTable {
  std::string model;
  std::string method;
  size_t num_samples = 0;
  std::vector<CalibEntry> entries;  // in file order

  Thresholds thresholds() const;
};

// A table of `thresholds` with the entries in graph order (calibrated_values(g)) followed by
// any names g does not have, in name order; every entry gets `method`, or its label in
// `value_methods` (the values range_search moved: the method whose threshold each took).
CalibTable make_calib_table(const Graph& g, const Thresholds& thresholds, const std::string& method,
                            size_t num_samples, const std::map<std::string, std::string>& value_methods = {});

std::string format_calib_table(const CalibTable& table);
// `source` names the text in errors ("<source>:<line>: ...").
Result<CalibTable> parse_calib_table(std::string_view text, const std::string& source);

Status write_calib_table(const std::string& path, const CalibTable& table);  // atomic
Result<CalibTable> read_calib_table(const std::string& path);

// Checks a table read from `source` against the graph it is applied to: every name must be
// a calibrated value of g and every calibrated value must have a threshold. The error names
// the first offending value and the source.
Status check_thresholds_cover(const Graph& g, const Thresholds& thresholds, const std::string& source);

}  // namespace qmap
