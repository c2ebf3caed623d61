// `qmap eval`: data set listing, per-worker sessions, the parallel image loop, and the
// table / REPORT block / JSON renderings.
#include "session/eval.h"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "core/progress.h"
#include "core/thread_pool.h"
#include "image/decode.h"
#include "report/text_table.h"
#include "session/classify.h"
#include "session/labeled_images.h"

namespace qmap {

namespace {

constexpr const char* kStage = "eval";
constexpr size_t kTopK = 5;

// One model as eval uses it: the session of worker 0, its input specs and the output scored.
struct EvalModel {
  std::unique_ptr<Session> session;
  std::vector<InputSpec> specs;
  size_t output = 0;
  int64_t classes = 0;
};

Result<EvalModel> open_model(const std::string& path, const std::vector<InputSpec>& config_specs,
                             const ImageInputOptions& image, int threads,
                             const std::vector<std::string>& custom_op_libs) {
  EvalModel m;
  QMAP_ASSIGN_OR_RETURN(m.session, Session::open(path, {.threads = threads, .custom_op_libs = custom_op_libs}));
  const Session& s = *m.session;
  if (s.inputs().size() != 1)
    return error("{}: model '{}' has {} inputs: eval feeds one image input", kStage, path, s.inputs().size());
  m.specs = input_specs_for(s, config_specs, image);
  // The first output shaped like class scores (1xC or 1xCx1x1).
  for (m.output = 0; m.output < s.outputs().size(); ++m.output)
    if (is_classifier_output(s.outputs()[m.output].dims)) break;
  if (m.output == s.outputs().size()) {
    std::string shapes;
    for (const IoInfo& o : s.outputs()) shapes += fmt::format("{}'{}' {}", shapes.empty() ? "" : ", ", o.name, dims_str(o.dims));
    return error("{}: model '{}': no classifier output (1xC or 1xCx1x1) among {}", kStage, path, shapes);
  }
  m.classes = s.outputs()[m.output].dims[1];
  return m;
}

// The per-image result of one model.
struct Hit {
  bool top1 = false, top5 = false;
  int64_t best = -1;   // top-1 class
  double cosine = 1;   // of the scored output against the first model's
};

double cosine_of(const std::vector<double>& a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t k = 0; k < a.size() && k < b.size(); ++k) {
    ab += a[k] * b[k];
    aa += a[k] * a[k];
    bb += b[k] * b[k];
  }
  // Two all-zero outputs are the same output; one all-zero output shares no direction.
  if (aa == 0 || bb == 0) return aa == bb ? 1.0 : 0.0;
  return ab / std::sqrt(aa * bb);
}

double rate(int64_t hits, int64_t total) { return total > 0 ? static_cast<double>(hits) / static_cast<double>(total) : 0.0; }

}  // namespace

Result<int> resolve_eval_jobs(int flag, const char* env) {
  if (flag > 0) return flag;
  if (env != nullptr && *env != '\0') {
    int v = 0;
    const char* end = env + std::strlen(env);
    const auto [p, ec] = std::from_chars(env, end, v);
    if (ec != std::errc() || p != end || v <= 0 || v > 1024)
      return error("{}: PARALLEL_PROCESS_NUM '{}': expected a thread count from 1 to 1024", kStage, env);
    return v;
  }
  return default_thread_count();
}

Result<EvalReport> run_eval(const EvalOptions& options) {
  if (options.models.empty()) return error("{}: no --model given", kStage);
  std::vector<InputSpec> config_specs;
  if (!options.config_path.empty()) {
    QMAP_ASSIGN_OR_RETURN(std::string text, read_file(options.config_path));
    QMAP_ASSIGN_OR_RETURN(config_specs, parse_stored_input_specs(text, options.config_path));
  }
  QMAP_ASSIGN_OR_RETURN(LabeledImageSet set, load_labeled_images(options.data_dir, options.labels_file, options.limit));

  std::vector<EvalModel> models;
  for (const std::string& path : options.models) {
    QMAP_ASSIGN_OR_RETURN(EvalModel m, open_model(path, config_specs, options.image, options.threads, options.custom_op_libs));
    models.push_back(std::move(m));
  }
  if (options.label_offset < 0)
    return error("{}: --label-offset {}: expected 0 or more", kStage, options.label_offset);
  // Labels are checked against every model before the (long) run starts.
  for (LabeledImage& im : set.images) {
    const int64_t file_label = im.label;
    im.label += options.label_offset;
    for (const EvalModel& m : models)
      if (im.label >= m.classes)
        return error("{}: image '{}': label {}{} is outside model '{}''s {} classes (0..{})", kStage, im.path,
                     file_label,
                     options.label_offset ? fmt::format(" + offset {}", options.label_offset) : std::string(),
                     m.session->path(), m.classes, m.classes - 1);
  }

  ThreadPool pool(std::max(1, options.jobs));
  const size_t nw = static_cast<size_t>(pool.size());
  // sessions[w][m]: worker w's own copy of model m (worker 0 uses the opened one).
  std::vector<std::vector<Session*>> sessions(nw, std::vector<Session*>(models.size()));
  std::vector<std::unique_ptr<Session>> clones;
  for (size_t w = 0; w < nw; ++w)
    for (size_t m = 0; m < models.size(); ++m) {
      if (w == 0) {
        sessions[w][m] = models[m].session.get();
      } else {
        clones.push_back(models[m].session->clone());
        sessions[w][m] = clones.back().get();
      }
    }

  const size_t n = set.images.size();
  std::vector<std::vector<Hit>> hits(n, std::vector<Hit>(models.size()));
  std::vector<Status> errors(n);
  // Smallest failing image index so far: later images are skipped, earlier ones still run,
  // so the error reported is the first failing image in data set order whatever --jobs is.
  std::atomic<size_t> first_failed{n};
  ProgressBar bar("eval", n, options.progress);
  pool.parallel_for(n, [&](size_t i, int worker) {
    if (i > first_failed.load()) return;
    const LabeledImage& im = set.images[i];
    Status st = [&]() -> Status {
      QMAP_ASSIGN_OR_RETURN(Image img, read_image(im.path));  // decoded once for every model
      std::vector<double> first_scores;
      for (size_t m = 0; m < models.size(); ++m) {
        Session& s = *sessions[static_cast<size_t>(worker)][m];
        QMAP_ASSIGN_OR_RETURN(Tensor in, image_to_model_input(img, models[m].specs[0], s.inputs()[0], options.image));
        QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> out, s.run({in}));
        const size_t o = models[m].output;
        QMAP_ASSIGN_OR_RETURN(std::vector<double> scores, classifier_scores(out[o], s.outputs()[o].name));
        const std::vector<int64_t> top = top_k(scores, kTopK);
        hits[i][m].top1 = !top.empty() && top[0] == im.label;
        hits[i][m].top5 = std::find(top.begin(), top.end(), im.label) != top.end();
        hits[i][m].best = top.empty() ? -1 : top[0];
        if (m == 0)
          first_scores = std::move(scores);
        else
          hits[i][m].cosine = cosine_of(first_scores, scores);
      }
      return ok_status();
    }();
    if (!st.ok()) {
      // Decode errors already name the image; the others get its path.
      const bool named = st.message().find(im.path) != std::string::npos;
      errors[i] = st.with_context(named ? fmt::format("{}: ", kStage) : fmt::format("{}: image '{}': ", kStage, im.path));
      for (size_t cur = first_failed.load(); i < cur && !first_failed.compare_exchange_weak(cur, i);) {
      }
    }
    bar.advance();
  });
  bar.finish();
  for (const Status& st : errors)
    if (!st.ok()) return st;

  EvalReport report;
  for (size_t m = 0; m < models.size(); ++m) {
    EvalModelResult r;
    r.path = models[m].session->path();
    r.kind = models[m].session->kind();
    r.output = models[m].session->outputs()[models[m].output].name;
    std::map<int64_t, EvalClassResult> per_class;
    double cosine_sum = 0;
    for (size_t i = 0; i < n; ++i) {
      cosine_sum += hits[i][m].cosine;
      r.top1_agree += hits[i][m].best == hits[i][0].best;
      r.top1_lost += hits[i][0].top1 && !hits[i][m].top1;
      r.top1_gained += !hits[i][0].top1 && hits[i][m].top1;
      const int64_t label = set.images[i].label;
      EvalClassResult& c = per_class[label];
      c.label = label;
      if (static_cast<size_t>(label) < set.class_names.size()) c.name = set.class_names[static_cast<size_t>(label)];
      ++c.images;
      c.top1 += hits[i][m].top1;
      ++r.images;
      r.top1 += hits[i][m].top1;
      r.top5 += hits[i][m].top5;
    }
    r.mean_cosine = n > 0 ? cosine_sum / static_cast<double>(n) : 1.0;
    r.top1_change_p = mcnemar_exact_p(r.top1_lost, r.top1_gained);
    for (auto& [label, c] : per_class) r.per_class.push_back(c);
    report.models.push_back(std::move(r));
  }
  report.label_offset = options.label_offset;
  return report;
}

double mcnemar_exact_p(int64_t lost, int64_t gained) {
  const int64_t n = lost + gained, k = std::min(lost, gained);
  if (n == 0) return 1.0;
  // P(X <= k) = sum_{i <= k} C(n, i) / 2^n, each term from lgamma (n may be tens of thousands).
  const double log_n_over_2n = std::lgamma(static_cast<double>(n + 1)) + static_cast<double>(n) * std::log(0.5);
  double cdf = 0;
  for (int64_t i = 0; i <= k; ++i)
    cdf += std::exp(log_n_over_2n - std::lgamma(static_cast<double>(i + 1)) - std::lgamma(static_cast<double>(n - i + 1)));
  return std::min(1.0, 2.0 * cdf);
}

std::string eval_table(const EvalReport& report) {
  const bool compare = report.models.size() > 1;
  TextRow head{"Model", "Kind", "Top-1", "Top-5", "Images"};
  if (compare) head.insert(head.end(), {"Cosine vs first", "Top-1 agrees", "Top-1 lost / gained (p)"});
  std::vector<TextRow> rows{head};
  for (size_t k = 0; k < report.models.size(); ++k) {
    const EvalModelResult& m = report.models[k];
    TextRow row{m.path, m.kind, fmt::format("{:.2f}%", 100.0 * rate(m.top1, m.images)),
                fmt::format("{:.2f}%", 100.0 * rate(m.top5, m.images)), std::to_string(m.images)};
    if (compare) {
      if (k == 0)
        row.insert(row.end(), {"(reference)", "--", "--"});
      else
        row.insert(row.end(), {fmt::format("{:.6f}", m.mean_cosine),
                               fmt::format("{:.2f}%", 100.0 * rate(m.top1_agree, m.images)),
                               fmt::format("{} / {} ({:.3g})", m.top1_lost, m.top1_gained, m.top1_change_p)});
    }
    rows.push_back(std::move(row));
  }
  return render_text_table(rows);
}

std::string eval_report_block(const EvalReport& report) {
  const double top1 = report.models.empty() ? 0.0 : rate(report.models[0].top1, report.models[0].images);
  return fmt::format("===REPORT-START{{MAPPER-EVAL}}===\n{:.4f}\n===REPORT-END{{MAPPER-EVAL}}===\n", top1);
}

std::string eval_json(const EvalReport& report) {
  nlohmann::ordered_json models = nlohmann::ordered_json::array();
  for (const EvalModelResult& m : report.models) {
    nlohmann::ordered_json classes = nlohmann::ordered_json::array();
    for (const EvalClassResult& c : m.per_class) {
      nlohmann::ordered_json j;
      j["label"] = c.label;
      if (!c.name.empty()) j["name"] = c.name;
      j["images"] = c.images;
      j["top1"] = rate(c.top1, c.images);
      classes.push_back(std::move(j));
    }
    nlohmann::ordered_json j;
    j["path"] = m.path;
    j["kind"] = m.kind;
    j["output"] = m.output;
    j["top1"] = rate(m.top1, m.images);
    j["top5"] = rate(m.top5, m.images);
    j["images"] = m.images;
    j["cosine_vs_first"] = m.mean_cosine;
    j["top1_agree_vs_first"] = rate(m.top1_agree, m.images);
    j["top1_lost_vs_first"] = m.top1_lost;
    j["top1_gained_vs_first"] = m.top1_gained;
    j["top1_change_p_vs_first"] = m.top1_change_p;
    j["per_class"] = std::move(classes);
    models.push_back(std::move(j));
  }
  nlohmann::ordered_json root;
  root["models"] = std::move(models);
  root["label_offset"] = report.label_offset;
  return root.dump(2) + "\n";
}

}  // namespace qmap
