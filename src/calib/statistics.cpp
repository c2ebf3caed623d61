// collect_statistics: the two streaming passes over the calibration samples (see
// statistics.h), with one float engine and one set of observers per worker.
#include "calib/statistics.h"

#include <algorithm>
#include <atomic>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <mutex>
#include <optional>

#include "core/progress.h"
#include "core/thread_pool.h"
#include "engine/float_engine.h"

namespace qmap {

namespace {

// The min/max/check loop uses GCC/Clang vector extensions: a compiler may not vectorize a
// float min/max reduction by itself (it would reorder NaN comparisons), and 4 independent
// 4-lane accumulators give the same result in any order, exactly.
using V4f = float __attribute__((vector_size(16)));
using V4i = int32_t __attribute__((vector_size(16)));
constexpr size_t kVec = 4, kUnroll = 4, kStep = kVec * kUnroll;

V4f load_v4f(const float* p) {
  V4f v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// Histogram binning works on chunks: a vectorizable loop computes the bin indices, then a
// scalar loop increments the counters.
constexpr size_t kBinChunk = 256;
// Large tensors spread increments over kSplit interleaved copies of the counters, so runs of
// equal bins (zeros after a ReLU) do not wait on one counter's previous increment.
constexpr size_t kSplit = 4;
constexpr size_t kSplitMinElements = 16384;
// Elements per call with 32-bit split counters (kept well below 2^32).
constexpr size_t kSplitBlock = size_t{1} << 30;

}  // namespace

void RangeObserver::observe(std::span<const float> x) {
  const float* p = x.data();
  const size_t n = x.size();
  V4f mn[kUnroll], mx[kUnroll];
  V4i bad[kUnroll];
  for (size_t k = 0; k < kUnroll; ++k) {
    mn[k] = V4f{min, min, min, min};
    mx[k] = V4f{max, max, max, max};
    bad[k] = V4i{0, 0, 0, 0};
  }
  size_t i = 0;
  // A NaN fails both comparisons and leaves min/max unchanged. v - v is 0 for a finite v and
  // NaN for NaN or +-inf, so (d != d) flags exactly the non-finite elements (as -1).
  for (; i + kStep <= n; i += kStep) {
    for (size_t k = 0; k < kUnroll; ++k) {
      const V4f v = load_v4f(p + i + k * kVec);
      mn[k] = v < mn[k] ? v : mn[k];
      mx[k] = v > mx[k] ? v : mx[k];
      const V4f d = v - v;
      bad[k] -= d != d;
    }
  }
  uint64_t bad_total = 0;
  for (; i < n; ++i) {
    const float v = p[i];
    min = v < min ? v : min;
    max = v > max ? v : max;
    bad_total += std::isfinite(v) ? 0 : 1;
  }
  for (size_t k = 0; k < kUnroll; ++k)
    for (size_t l = 0; l < kVec; ++l) {
      min = std::min(min, mn[k][l]);
      max = std::max(max, mx[k][l]);
      bad_total += static_cast<uint32_t>(bad[k][l]);
    }
  non_finite += bad_total;
  count += n;
}

void RangeObserver::merge(const RangeObserver& o) {
  min = std::min(min, o.min);
  max = std::max(max, o.max);
  count += o.count;
  non_finite += o.non_finite;
}

HistogramObserver::HistogramObserver(float abs_max) : counts_(kHistogramBins, 0) {
  if (abs_max > 0.f) {
    // Computed once in double and rounded to float; clamped so that a denormal abs_max
    // cannot make it infinite (0 * inf would be NaN).
    const double inv = kHistogramBins / static_cast<double>(abs_max);
    inv_width_ = static_cast<float>(std::min(inv, static_cast<double>(FLT_MAX)));
  }
}

int HistogramObserver::bin_of(float x) const {
  const float f = std::fabs(x) * inv_width_;
  // Written so that NaN (never seen after pass 1's check, but never undefined behaviour
  // either) goes to the last bin: a NaN fails the comparison.
  constexpr float kLast = static_cast<float>(kHistogramBins - 1);
  return static_cast<int>(f < kLast ? f : kLast);
}

void HistogramObserver::observe(std::span<const float> x) {
  constexpr float kLast = static_cast<float>(kHistogramBins - 1);
  const float inv = inv_width_;
  // Bins of x[start, start + m) into bins[0, m): the same arithmetic as bin_of, vectorizable.
  auto bin_chunk = [&](size_t start, size_t m, int32_t* bins) {
    const float* p = x.data() + start;
    for (size_t k = 0; k < m; ++k) {
      const float f = std::fabs(p[k]) * inv;
      bins[k] = static_cast<int32_t>(f < kLast ? f : kLast);
    }
  };
  int32_t bins[kBinChunk];
  if (x.size() < kSplitMinElements) {
    for (size_t start = 0; start < x.size(); start += kBinChunk) {
      const size_t m = std::min(kBinChunk, x.size() - start);
      bin_chunk(start, m, bins);
      for (size_t k = 0; k < m; ++k) ++counts_[static_cast<size_t>(bins[k])];
    }
    return;
  }
  std::vector<uint32_t> split(kSplit * kHistogramBins);
  for (size_t block = 0; block < x.size(); block += kSplitBlock) {
    const size_t end = std::min(x.size(), block + kSplitBlock);
    std::fill(split.begin(), split.end(), 0u);
    for (size_t start = block; start < end; start += kBinChunk) {
      const size_t m = std::min(kBinChunk, end - start);
      bin_chunk(start, m, bins);
      // m is a multiple of kSplit except in the last chunk; the tail goes to copy 0.
      size_t k = 0;
      for (; k + kSplit <= m; k += kSplit)
        for (size_t c = 0; c < kSplit; ++c) ++split[c * kHistogramBins + static_cast<size_t>(bins[k + c])];
      for (; k < m; ++k) ++split[static_cast<size_t>(bins[k])];
    }
    for (size_t c = 0; c < kSplit; ++c)
      for (size_t b = 0; b < static_cast<size_t>(kHistogramBins); ++b) counts_[b] += split[c * kHistogramBins + b];
  }
}

void HistogramObserver::merge(const HistogramObserver& o) {
  for (size_t b = 0; b < counts_.size(); ++b) counts_[b] += o.counts_[b];
}

std::vector<std::string> calibrated_values(const Graph& g) {
  std::vector<std::string> names;
  auto wanted = [&](ValueId id) {
    const Value& v = g.value(id);
    return v.dtype == DType::kFloat32 && !v.constant;
  };
  for (ValueId id : g.inputs)
    if (wanted(id)) names.push_back(g.value(id).name);
  for (const Node& n : g.nodes)
    for (ValueId id : n.outputs)
      if (id != kNoValue && wanted(id)) names.push_back(g.value(id).name);
  return names;
}

namespace {

// Keeps the error of the lowest failing sample index, so the reported error does not depend
// on which worker failed first. Samples above a recorded failure are skipped (their result
// cannot change the outcome); those below still run and may replace it.
class FirstError {
 public:
  bool skip(size_t sample) const { return sample > first_.load(std::memory_order_relaxed); }
  void record(size_t sample, Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    if (sample < first_.load(std::memory_order_relaxed)) {
      first_.store(sample, std::memory_order_relaxed);
      status_ = std::move(status);
    }
  }
  Status status() const { return status_; }

 private:
  std::atomic<size_t> first_{SIZE_MAX};
  std::mutex mu_;
  Status status_;
};

// Where each observed value comes from in one run: a graph input (its position in
// Graph::inputs) or a node output (looked up by name in FloatEngine::all_values).
struct ObservedValue {
  std::string name;
  int input_index = -1;
};

// Everything one pass needs: the workers' engines, the sample loader and the observed values.
struct SampleRunner {
  ThreadPool& pool;
  std::vector<FloatEngine>& engines;
  const SampleLoader& load;
  const std::vector<ObservedValue>& observed;
  size_t num_samples;
  bool progress;

  // Runs every sample and calls fn(worker, sample, tensors) with the observed values'
  // float data in `observed` order; fn returns an error to stop the pass.
  Status run(const std::string& label,
             const std::function<Status(int, size_t, const std::vector<std::span<const float>>&)>& fn) {
    FirstError first_error;
    ProgressBar bar(label, num_samples, progress);
    pool.parallel_for(num_samples, [&](size_t sample, int worker) {
      if (first_error.skip(sample)) return;
      Status st = run_one(worker, sample, fn);
      if (!st.ok()) first_error.record(sample, std::move(st));
      bar.advance();
    });
    return first_error.status();
  }

 private:
  Status run_one(int worker, size_t sample,
                 const std::function<Status(int, size_t, const std::vector<std::span<const float>>&)>& fn) {
    Result<std::vector<Tensor>> inputs = load(sample);
    if (!inputs.ok()) return inputs.status().with_context(fmt::format("calibration: sample {}: ", sample));
    FloatEngine& engine = engines[static_cast<size_t>(worker)];
    QMAP_RETURN_IF_ERROR(engine.run(*inputs).status().with_context(fmt::format("calibration: sample {}: ", sample)));
    std::vector<std::span<const float>> data;
    data.reserve(observed.size());
    for (const ObservedValue& ov : observed) {
      const Tensor* t = nullptr;
      if (ov.input_index >= 0) {
        t = &(*inputs)[static_cast<size_t>(ov.input_index)];
      } else {
        auto it = engine.all_values().find(ov.name);
        QMAP_CHECK(it != engine.all_values().end(), "value '{}' not computed", ov.name);
        t = &it->second;
      }
      QMAP_CHECK(t->dtype() == DType::kFloat32, "value '{}' is {}", ov.name, dtype_name(t->dtype()));
      data.push_back(t->data<float>());
    }
    return fn(worker, sample, data);
  }
};

}  // namespace

Result<Statistics> collect_statistics(const Graph& g, size_t num_samples, const SampleLoader& load,
                                      const CollectOptions& opts) {
  if (num_samples == 0) return error("calibration: no calibration samples: at least one is needed");
  const std::vector<std::string> all = calibrated_values(g);
  for (const std::string& name : opts.observe)
    if (std::find(all.begin(), all.end(), name) == all.end())
      return error("calibration: value '{}' to observe: not a non-constant float32 value of the model", name);

  std::vector<ObservedValue> observed;
  for (const std::string& name : all) {
    if (!opts.observe.empty() && opts.observe.count(name) == 0) continue;
    ObservedValue ov{name, -1};
    for (size_t i = 0; i < g.inputs.size(); ++i)
      if (g.value(g.inputs[i]).name == name) ov.input_index = static_cast<int>(i);
    observed.push_back(std::move(ov));
  }
  const size_t nv = observed.size();

  // No more workers (each holds an engine and one sample's activations) than samples.
  const size_t wanted = static_cast<size_t>(opts.threads > 0 ? opts.threads : default_thread_count());
  ThreadPool pool(static_cast<int>(std::min(wanted, num_samples)));
  const size_t workers = static_cast<size_t>(pool.size());
  FloatEngineOptions eopts;
  eopts.keep_all_values = true;
  QMAP_ASSIGN_OR_RETURN(FloatEngine first, FloatEngine::create(g, eopts));
  std::vector<FloatEngine> engines(workers, first);
  SampleRunner runner{pool, engines, load, observed, num_samples, opts.progress};

  // Pass 1: ranges. A non-finite element fails the sample that produced it (named).
  std::vector<std::vector<RangeObserver>> ranges(workers, std::vector<RangeObserver>(nv));
  QMAP_RETURN_IF_ERROR(runner.run("calibration 1/2 (range)", [&](int worker, size_t sample, const auto& data) {
    auto& obs = ranges[static_cast<size_t>(worker)];
    for (size_t v = 0; v < nv; ++v) {
      const uint64_t bad_before = obs[v].non_finite;
      obs[v].observe(data[v]);
      if (obs[v].non_finite != bad_before)
        return error("calibration: sample {}: value '{}' has {} NaN or infinite elements: the float model "
                     "must produce finite values on calibration data",
                     sample, observed[v].name, obs[v].non_finite - bad_before);
    }
    return ok_status();
  }));
  std::vector<RangeObserver> range(nv);
  for (const auto& w : ranges)
    for (size_t v = 0; v < nv; ++v) range[v].merge(w[v]);

  // Pass 2: histograms of |x| over [0, abs_max] with the bin width fixed by pass 1.
  std::vector<float> abs_max(nv);
  for (size_t v = 0; v < nv; ++v) {
    if (range[v].count == 0) range[v].min = range[v].max = 0.f;  // only empty tensors seen
    abs_max[v] = std::max(-range[v].min, range[v].max);
  }
  std::vector<std::vector<HistogramObserver>> hists(opts.histograms ? workers : 0);
  for (auto& w : hists)
    for (size_t v = 0; v < nv; ++v) w.emplace_back(abs_max[v]);
  if (opts.histograms)
    QMAP_RETURN_IF_ERROR(runner.run("calibration 2/2 (histogram)", [&](int worker, size_t, const auto& data) {
      auto& obs = hists[static_cast<size_t>(worker)];
      for (size_t v = 0; v < nv; ++v) obs[v].observe(data[v]);
      return ok_status();
    }));

  Statistics stats;
  stats.num_samples = num_samples;
  for (size_t v = 0; v < nv; ++v) {
    ValueStats s;
    s.min = range[v].min;
    s.max = range[v].max;
    s.abs_max = abs_max[v];
    s.count = range[v].count;
    if (opts.histograms) {
      HistogramObserver merged(abs_max[v]);
      for (const auto& w : hists) merged.merge(w[v]);
      s.histogram = merged.counts();
    }
    stats.values.emplace(observed[v].name, std::move(s));
  }
  return stats;
}

}  // namespace qmap
