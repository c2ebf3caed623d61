// Summary statistics the benchmark programs print, defined once.
#pragma once

#include <algorithm>
#include <cmath>
#include <vector>

// The median: the middle value, or the mean of the two middle values for an even count; NaN
// for no samples. int8_vs_ort and float_vs_ort report it over timed runs.
inline double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

// The sorted samples' value at index size / 2 (the upper of the two middle values for an even
// count): what the kernel and pool benchmarks print over their rounds (odd by default, where it
// is the median).
inline double middle_value(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}
