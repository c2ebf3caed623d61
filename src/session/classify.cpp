// Classifier output helpers: probabilities, deterministic top-k and class-name files.
#include "session/classify.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <numeric>
#include <sstream>

#include "core/file_io.h"

namespace qmap {

bool is_classifier_output(const Dims& d) {
  return (d.size() == 2 && d[0] == 1 && d[1] > 1) || (d.size() == 4 && d[0] == 1 && d[1] > 1 && d[2] == 1 && d[3] == 1);
}

Result<std::vector<double>> classifier_scores(const Tensor& output, const std::string& name) {
  if (!is_classifier_output(output.dims()))
    return error("classify: output '{}' has shape {}: a classifier output is 1xC or 1xCx1x1", name,
                 dims_str(output.dims()));
  return output.to_double();
}

std::vector<double> to_probabilities(const std::vector<double>& scores) {
  if (scores.empty()) return {};
  double sum = 0;
  bool non_negative = true;
  for (double s : scores) {
    sum += s;
    non_negative = non_negative && s >= 0;
  }
  if (non_negative && std::abs(sum - 1.0) <= 1e-3) return scores;
  const double mx = *std::max_element(scores.begin(), scores.end());
  std::vector<double> p(scores.size());
  double total = 0;
  for (size_t i = 0; i < scores.size(); ++i) total += p[i] = std::exp(scores[i] - mx);
  for (double& v : p) v /= total;
  return p;
}

std::vector<int64_t> top_k(const std::vector<double>& scores, size_t k) {
  std::vector<int64_t> idx(scores.size());
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min(k, idx.size());
  // NaN scores sort last, so a broken output cannot reorder the valid classes arbitrarily.
  const auto key = [&](int64_t i) { return std::isnan(scores[static_cast<size_t>(i)]) ? -INFINITY : scores[static_cast<size_t>(i)]; };
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(), [&](int64_t a, int64_t b) {
    const double ka = key(a), kb = key(b);
    return ka != kb ? ka > kb : a < b;
  });
  idx.resize(k);
  return idx;
}

Result<std::vector<std::string>> read_class_names(const std::string& path) {
  auto text = read_file(path);
  if (!text.ok()) return text.status().with_context("labels: ");
  std::vector<std::string> names;
  std::istringstream in(*text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // "n01440764 tench, Tinca tinca": 'n' and 8 digits, then the name.
    if (line.size() > 10 && line[0] == 'n' && line[9] == ' ' &&
        std::all_of(line.begin() + 1, line.begin() + 9, [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
      line = line.substr(10);
    names.push_back(line);
  }
  return names;
}

}  // namespace qmap
