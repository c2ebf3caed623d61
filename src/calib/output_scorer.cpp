// OutputScorer (output_scorer.h).
#include "calib/output_scorer.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/thread_pool.h"
#include "engine/float_engine.h"
#include "kernels/f32/sgemm_blas.h"
#include "quant/int_simulator.h"
#include "report/compare.h"
#include "report/node_compare.h"
#include "runtime/model_impl.h"

namespace qmap {

Result<OutputScorer> OutputScorer::create(const Graph& float_graph, std::vector<std::vector<Tensor>> samples,
                                          const OutputScorerOptions& options) {
  OutputScorer s;
  s.options_ = options;
  QMAP_ASSIGN_OR_RETURN(s.isa_, rt::select_isa(""));
  QMAP_ASSIGN_OR_RETURN(FloatEngine engine, FloatEngine::create(float_graph));
  for (const auto& sample : samples) {
    QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> out, engine.run(sample));
    s.reference_.push_back(std::move(out));
  }
  s.samples_ = std::move(samples);
  return s;
}

Result<OutputScore> OutputScorer::score(const Graph& qdq) const {
  QMAP_ASSIGN_OR_RETURN(IntSimulator sim, IntSimulator::create(qdq, false, isa_));
  if (options_.float_sgemm_blas) sim.set_float_sgemm(kernels::f32::sgemm_blas);
  const size_t n = samples_.size();
  ThreadPool pool(std::max(1, std::min<int>(options_.threads, static_cast<int>(n))));
  // One worker runs `sim` itself; several run their own copies (copied from `sim` while no
  // one runs it).
  const bool shared = pool.size() == 1;
  std::vector<std::optional<IntSimulator>> copies(static_cast<size_t>(pool.size()));
  std::vector<OutputScore> per_sample(n);
  std::vector<Status> errors(n);
  pool.parallel_for(n, [&](size_t i, int w) {
    auto& copy = copies[static_cast<size_t>(w)];
    if (!shared && !copy) copy.emplace(sim);
    auto out = (shared ? sim : *copy).run(samples_[i]);
    if (!out) {
      errors[i] = out.status();
      return;
    }
    const size_t k_count = std::min(out->size(), reference_[i].size());
    OutputScore& s = per_sample[i];
    for (size_t k = 0; k < k_count; ++k) {
      const TensorDistance d = compare_tensors(reference_[i][k], as_float((*out)[k]));
      s.cosine += d.cosine;
      s.mse += d.mse;
      s.sqnr_db += std::isfinite(d.sqnr_db) ? d.sqnr_db : d.sqnr_db > 0 ? 200.0 : -200.0;
    }
    if (k_count == 0) errors[i] = error("score: the model has no output to compare");
    const double k = static_cast<double>(std::max<size_t>(k_count, 1));
    s.cosine /= k;
    s.mse /= k;
    s.sqnr_db /= k;
  });
  OutputScore total;
  for (size_t i = 0; i < n; ++i) {
    QMAP_RETURN_IF_ERROR(errors[i]);
    total.cosine += per_sample[i].cosine;
    total.mse += per_sample[i].mse;
    total.sqnr_db += per_sample[i].sqnr_db;
  }
  const double count = static_cast<double>(std::max<size_t>(n, 1));
  total.cosine /= count;
  total.mse /= count;
  total.sqnr_db /= count;
  return total;
}

}  // namespace qmap
