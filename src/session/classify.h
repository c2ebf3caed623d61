// Classifier outputs: recognizing a class-score output, probabilities, top-k, class names.
// Shared by `qmap infer` (prints the top-k) and `qmap eval` (counts top-1/top-5 hits).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/tensor.h"

namespace qmap {

// True for a classifier output: 1xC or 1xCx1x1 (C > 1).
bool is_classifier_output(const Dims& dims);

// The C scores of a classifier output as double; an error naming `name` and its shape
// otherwise.
Result<std::vector<double>> classifier_scores(const Tensor& output, const std::string& name);

// Probabilities: the scores themselves when they already are a distribution (all >= 0 and
// summing to 1 within 1e-3: a model ending in Softmax), else a softmax (max subtracted, in
// double).
std::vector<double> to_probabilities(const std::vector<double>& scores);

// The indices of the k largest scores, largest first; equal scores by lower index first, so
// the order never depends on anything but the scores. k is clamped to the class count.
std::vector<int64_t> top_k(const std::vector<double>& scores, size_t k);

// Class names, one per line (line i names class i). ImageNet synset lines
// ("n01440764 tench, Tinca tinca") give the part after the synset id. Empty lines keep
// their index (an empty name). Errors name the file.
Result<std::vector<std::string>> read_class_names(const std::string& path);

}  // namespace qmap
