// `qmap eval` as a library: top-1 / top-5 of one or more models (any stage: float ONNX,
// quantized ONNX, .bin) over a labeled image set, each image decoded once and fed to every
// model, on worker threads that each own one Session per model.
//
// Determinism: each image's hits are stored in its own slot and summed in image order after
// the run, and top-k ties break by class index (session/classify.h), so the numbers and the
// JSON are identical for any --jobs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "session/image_input.h"

namespace qmap {

struct EvalOptions {
  std::vector<std::string> models;
  std::string data_dir;
  std::string labels_file;  // "<file> <label>" lines; empty: one sub-folder per class
  std::string config_path;  // preprocessing of models without qmap metadata (input_parameters)
  ImageInputOptions image;  // geometric steps for every model; color/layout/mean/scale flags
  int jobs = 1;             // worker threads (see resolve_eval_jobs)
  int threads = 1;          // intra-op threads per .bin worker (Session::Options)
  size_t limit = 0;         // first N images; 0: all
  // Added to every label before scoring: 1 for models whose output 0 is a "background"
  // class (TF-slim's 1001-way ImageNet classifiers), so label k is scored as output k + 1.
  int64_t label_offset = 0;
  bool progress = true;     // progress bar on stderr
  std::vector<std::string> custom_op_libs;  // plugins for models with custom ops (Session::Options)
};

struct EvalClassResult {
  int64_t label = 0;
  std::string name;  // the class folder name, when the set has them
  int64_t images = 0;
  int64_t top1 = 0;  // images of this class whose top-1 is right
};

struct EvalModelResult {
  std::string path;
  std::string kind;    // Session::kind()
  std::string output;  // the classifier output scored
  int64_t images = 0;
  int64_t top1 = 0;    // hit counts
  int64_t top5 = 0;
  // Against the first model (the reference: float, usually), over the images: the mean cosine
  // of the scored outputs (raw, before any softmax) and the images whose top-1 is the same.
  // The first model's own row holds 1 and `images`.
  double mean_cosine = 1.0;
  int64_t top1_agree = 0;
  std::vector<EvalClassResult> per_class;  // ascending labels present in the set
  // Against the first model, per image: right there and wrong here (lost), wrong there and
  // right here (gained), and the exact two-sided McNemar p-value of that split (how likely a
  // split at least this uneven is when neither model is better; 1 for the first model). A
  // top-1 difference of a few images on a few hundred is usually noise: this says how much.
  int64_t top1_lost = 0;
  int64_t top1_gained = 0;
  double top1_change_p = 1.0;
};

// Exact two-sided McNemar test (sign test) on the discordant pairs: lost and gained images.
// p = min(1, 2 * P(X <= min(lost, gained))), X ~ Binomial(lost + gained, 1/2); 1 when both are 0.
double mcnemar_exact_p(int64_t lost, int64_t gained);

struct EvalReport {
  std::vector<EvalModelResult> models;
  int64_t label_offset = 0;  // EvalOptions::label_offset, for the JSON
};

// Worker threads: `flag` when > 0 (--jobs), else the PARALLEL_PROCESS_NUM value `env`
// (null or empty: unset; otherwise a positive integer, or an error naming the variable and
// its value), else every hardware thread.
Result<int> resolve_eval_jobs(int flag, const char* env);

// Runs the evaluation. An image that does not decode, a label outside a model's classes, a
// model without a classifier output: an error naming the image / model.
Result<EvalReport> run_eval(const EvalOptions& options);

// The table: model, kind, top-1, top-5 (percent, two decimals), images; with two or more
// models also the output cosine, the top-1 agreement with the first, and the images lost and
// gained against the first with the McNemar p-value.
std::string eval_table(const EvalReport& report);

// The block hb_mapper's evaluation scripts print and CI parsers read:
//   ===REPORT-START{MAPPER-EVAL}===
//   <top-1 of the first model as a fraction, 4 decimals: 0.7123>
//   ===REPORT-END{MAPPER-EVAL}===
std::string eval_report_block(const EvalReport& report);

// {"models": [{"path", "kind", "output", "top1", "top5", "images",
//   "cosine_vs_first", "top1_agree_vs_first", "top1_lost_vs_first", "top1_gained_vs_first",
//   "top1_change_p_vs_first", "per_class": [{"label", ("name",) "images", "top1"}]}],
//   "label_offset"}; rates are fractions in 0..1, lost/gained are image counts.
std::string eval_json(const EvalReport& report);

}  // namespace qmap
