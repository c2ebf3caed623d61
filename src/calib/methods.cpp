// The calibration methods (max, percentile, kl, mse) over a |x| histogram. Every formula
// here is written out in docs/quantization.md, "Calibration methods"; all arithmetic is in
// double on integer counts, so the thresholds depend only on the Statistics.
#include "calib/methods.h"

#include <cmath>
#include <limits>
#include <vector>

#include "core/thread_pool.h"

namespace qmap {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// TensorRT's smoothing constant: zero bins get eps, non-zero bins give it back.
constexpr double kKlEps = 1e-4;
// TensorRT starts the KL search at 128 bins (the signed grid's level count).
constexpr int kKlMinBins = 128;

// max_percentile quantile of |x|: walks the cumulative counts to the bin holding the
// p * count-th element and interpolates linearly inside it (elements spread uniformly over
// the bin). p = 1 gives the top of the last occupied bin, which is max|x|.
double percentile_bins(const std::vector<uint64_t>& h, double p) {
  uint64_t total = 0;
  for (uint64_t c : h) total += c;
  const double target = p * static_cast<double>(total);
  double cum = 0;
  for (size_t b = 0; b < h.size(); ++b) {
    if (h[b] == 0) continue;
    const double c = static_cast<double>(h[b]);
    if (cum + c >= target) return static_cast<double>(b) + (target - cum) / c;
    cum += c;
  }
  return static_cast<double>(h.size());
}

// TensorRT's entropy calibration ("8-bit Inference with TensorRT", GTC 2017), in the form
// of MXNet's/TVM's _get_optimal_threshold over |x|. For each candidate i in [max(128, nq), n]:
//   P = h[0..i), with the outliers sum(h[i..]) added to P[i-1];
//   Q = h[0..i) merged into nq = levels + 1 groups of i / nq bins (the last group takes the
//       remainder), each group's sum spread evenly over its bins where P != 0, 0 elsewhere;
//   both smoothed: zero bins get eps = 1e-4, non-zero bins lose eps * zeros / nonzeros
//   (sums unchanged); a candidate where that makes a bin <= 0 is skipped;
//   divergence KL(P' || Q') of the normalized distributions.
// Returns the i with the smallest divergence (the first on ties).
//
// Evaluated in O(nq + kSmallCount) per candidate instead of O(i), without changing the
// formula. With N = sum P' = sum h (smoothing keeps sums), S = sum Q' = sum h[0..i):
//   KL = (1/N) * sum_k P'_k log(P'_k / Q'_k) + log(S / N).
// Zero bins of P have P' = Q' = eps and contribute 0. In a group g, Q' is one number on
// every non-zero P bin, so sum_k P'_k log Q'_k = log Q'_g * (group's P' sum): nq logs.
// sum P'_k log P'_k with P'_k = h_k - e1: bins with a small count c are grouped by count
// (multiplicity * (c - e1) log(c - e1)), bins with h >= kSmallCount use the Taylor series
// (h - e) log(h - e) = h log h - e (log h + 1) + sum_{m>=2} e^m / (m (m-1) h^(m-1)),
// kept to m = 5: e <= 1e-4 * 2048 so the first dropped term is below 2e-15 per bin.
constexpr int kSmallCount = 64;

double xlogx(double x) { return x * std::log(x); }

int kl_bins(const std::vector<uint64_t>& h, int levels) {
  const size_t n = h.size();
  const int nq = levels + 1;  // quantized levels including zero: 128 (int8) or 256 (uint8)
  // Prefix sums over bins [0, k): counts, non-zero bins, Taylor coefficients of big bins,
  // and the multiplicity of each small count.
  std::vector<double> cum(n + 1, 0), big_xlogx(n + 1, 0), big_log1(n + 1, 0), big_c2(n + 1, 0),
      big_c3(n + 1, 0), big_c4(n + 1, 0), big_c5(n + 1, 0);
  std::vector<uint32_t> nonzero(n + 1, 0);
  std::vector<std::vector<uint32_t>> small(kSmallCount, std::vector<uint32_t>(n + 1, 0));
  for (size_t k = 0; k < n; ++k) {
    const double c = static_cast<double>(h[k]);
    cum[k + 1] = cum[k] + c;
    nonzero[k + 1] = nonzero[k] + (h[k] != 0 ? 1 : 0);
    const bool big = h[k] >= static_cast<uint64_t>(kSmallCount);
    big_xlogx[k + 1] = big_xlogx[k] + (big ? xlogx(c) : 0);
    big_log1[k + 1] = big_log1[k] + (big ? std::log(c) + 1 : 0);
    big_c2[k + 1] = big_c2[k] + (big ? 1 / (2 * c) : 0);
    big_c3[k + 1] = big_c3[k] + (big ? 1 / (6 * c * c) : 0);
    big_c4[k + 1] = big_c4[k] + (big ? 1 / (12 * c * c * c) : 0);
    big_c5[k + 1] = big_c5[k] + (big ? 1 / (20 * c * c * c * c) : 0);
    for (int v = 1; v < kSmallCount; ++v) small[static_cast<size_t>(v)][k + 1] = small[static_cast<size_t>(v)][k];
    if (!big && h[k] != 0) ++small[static_cast<size_t>(h[k])][k + 1];
  }
  const double total = cum[n];
  const double log_eps = std::log(kKlEps);
  double best = kInf;
  int best_i = static_cast<int>(n);
  for (size_t i = static_cast<size_t>(std::max(kKlMinBins, nq)); i <= n; ++i) {
    const size_t last = i - 1;
    const double outliers = total - cum[i];
    const double p_last = static_cast<double>(h[last]) + outliers;
    // A bin that is zero in h but receives the outliers is non-zero in P.
    const uint32_t extra_last = h[last] == 0 && p_last > 0 ? 1 : 0;
    const double nnz_p = nonzero[i] + extra_last;
    const double e1 = kKlEps * (static_cast<double>(i) - nnz_p) / nnz_p;
    if (!(e1 < 1)) continue;  // a count-1 bin would become <= 0
    // sum P' log P' over non-zero bins: [0, last) from the prefix sums, then the last bin.
    double plogp = big_xlogx[last] - e1 * big_log1[last] +
                   e1 * e1 * (big_c2[last] + e1 * (big_c3[last] + e1 * (big_c4[last] + e1 * big_c5[last])));
    for (int v = 1; v < kSmallCount; ++v)
      if (const uint32_t m = small[static_cast<size_t>(v)][last]) plogp += m * xlogx(v - e1);
    if (p_last > 0) plogp += xlogx(p_last - e1);
    // Groups: Q's value on their non-zero P bins, and the bins where Q = 0 but P != 0.
    const size_t merged = i / static_cast<size_t>(nq);
    double zeros_q = static_cast<double>(i) - nnz_p;
    for (int g = 0; g < nq; ++g) {
      const size_t start = static_cast<size_t>(g) * merged, stop = g == nq - 1 ? i : start + merged;
      if (cum[stop] == cum[start]) zeros_q += nonzero[stop] - nonzero[start] + (g == nq - 1 ? extra_last : 0);
    }
    const double e2 = kKlEps * zeros_q / (static_cast<double>(i) - zeros_q);
    double plogq = 0;
    bool valid = zeros_q < static_cast<double>(i);
    for (int g = 0; g < nq && valid; ++g) {
      const size_t start = static_cast<size_t>(g) * merged, stop = g == nq - 1 ? i : start + merged;
      const bool has_last = g == nq - 1;
      const double nnz_g = nonzero[stop] - nonzero[start] + (has_last ? extra_last : 0);
      if (nnz_g == 0) continue;
      const double q_sum = cum[stop] - cum[start];
      const double p_sum = q_sum + (has_last ? outliers : 0) - e1 * nnz_g;  // sum of P' there
      const double q = q_sum == 0 ? kKlEps : q_sum / nnz_g - e2;
      if (!(q > 0)) valid = false;
      else plogq += p_sum * (q_sum == 0 ? log_eps : std::log(q));
    }
    if (!valid) continue;
    const double kl = (plogp - plogq) / total + std::log(cum[i] / total);
    if (kl < best) {
      best = kl;
      best_i = static_cast<int>(i);
    }
  }
  return best_i;
}

// Minimum expected squared error over candidate thresholds T = k bins, k in [1, n], on the
// grid step s = T / levels. Bin j holds h[j] elements at its centre c = j + 0.5 (bin units).
//   clipping (c > T, the bins j >= k):   sum h[j] (c - T)^2
//   rounding to zero (c < s/2):          sum h[j] c^2
//   rounding elsewhere (c <= T):         sum h[j] s^2 / 12  (uniform within a grid step)
// Prefix sums make each candidate O(1). Returns the k with the smallest error (first on ties).
int mse_bins(const std::vector<uint64_t>& h, int levels) {
  const int n = static_cast<int>(h.size());
  // pre0/1/2[k]: sum over j < k of h, h*c, h*c^2.
  std::vector<double> pre0(static_cast<size_t>(n) + 1, 0), pre1(pre0), pre2(pre0);
  for (int j = 0; j < n; ++j) {
    const double c = j + 0.5, w = static_cast<double>(h[static_cast<size_t>(j)]);
    const size_t u = static_cast<size_t>(j);
    pre0[u + 1] = pre0[u] + w;
    pre1[u + 1] = pre1[u] + w * c;
    pre2[u + 1] = pre2[u] + w * c * c;
  }
  const size_t un = static_cast<size_t>(n);
  double best = kInf;
  int best_k = n;
  for (int k = 1; k <= n; ++k) {
    const size_t uk = static_cast<size_t>(k);
    const double t = k, s = t / levels;
    // Bins with centre below s/2: j + 0.5 < k / (2 levels), i.e. j < (k - levels) / (2 levels).
    const int m = k <= levels ? 0 : std::min(k, (k + levels - 1) / (2 * levels));
    const size_t um = static_cast<size_t>(m);
    const double clip = (pre2[un] - pre2[uk]) - 2 * t * (pre1[un] - pre1[uk]) + t * t * (pre0[un] - pre0[uk]);
    const double to_zero = pre2[um];
    const double rounding = s * s / 12 * (pre0[uk] - pre0[um]);
    const double err = clip + to_zero + rounding;
    if (err < best) {
      best = err;
      best_k = k;
    }
  }
  return best_k;
}

}  // namespace

const char* calib_method_name(CalibMethod m) {
  switch (m) {
    case CalibMethod::kMax: return "max";
    case CalibMethod::kPercentile: return "percentile";
    case CalibMethod::kKl: return "kl";
    case CalibMethod::kMse: return "mse";
  }
  return "?";
}

std::optional<CalibMethod> calib_method_by_name(std::string_view name) {
  for (CalibMethod m : {CalibMethod::kMax, CalibMethod::kPercentile, CalibMethod::kKl, CalibMethod::kMse})
    if (name == calib_method_name(m)) return m;
  return std::nullopt;
}

int levels_for(const ValueStats& s) { return s.min >= 0.f ? 255 : 127; }

float threshold_for(const ValueStats& s, CalibMethod method, int levels, double max_percentile) {
  QMAP_CHECK(levels == 127 || levels == 255, "levels {}", levels);
  if (!(s.abs_max > 0.f)) return kZeroValueThreshold;
  if (method == CalibMethod::kMax) return s.abs_max;
  QMAP_CHECK(s.histogram.size() == static_cast<size_t>(kHistogramBins), "histogram has {} bins",
             s.histogram.size());
  double bins = 0;
  switch (method) {
    case CalibMethod::kPercentile: bins = percentile_bins(s.histogram, max_percentile); break;
    // TensorRT's threshold is the middle of the last kept bin.
    // The first bin holds the exact zeros (ReLU outputs: often half the tensor), which every
    // threshold represents exactly; left in, that spike makes KL prefer thresholds where it
    // is its own quantization group (a tiny fraction of max|x|). NVIDIA's pytorch-quantization
    // replaces it by its neighbour's count, and so do we.
    case CalibMethod::kKl: {
      std::vector<uint64_t> h = s.histogram;
      h[0] = h[1];
      bins = kl_bins(h, levels) + 0.5;
      break;
    }
    case CalibMethod::kMse: bins = mse_bins(s.histogram, levels); break;
    case CalibMethod::kMax: break;
  }
  const double t = std::min(bins * s.bin_width(), static_cast<double>(s.abs_max));
  const float tf = static_cast<float>(t);
  // Interpolation can land at 0 only through underflow of a denormal range; keep T > 0.
  return tf > 0.f ? tf : s.abs_max;
}

Result<Thresholds> compute_thresholds(const Statistics& stats, const MethodOptions& opts) {
  if (opts.method == CalibMethod::kPercentile && !(opts.max_percentile > 0 && opts.max_percentile <= 1))
    return error("calibration: max_percentile {}: must be in (0, 1]", opts.max_percentile);
  std::vector<const std::pair<const std::string, ValueStats>*> entries;
  for (const auto& e : stats.values) {
    if (opts.method != CalibMethod::kMax && e.second.abs_max > 0.f &&
        e.second.histogram.size() != static_cast<size_t>(kHistogramBins))
      return error("calibration: value '{}': no histogram: method {} needs both statistics passes", e.first,
                   calib_method_name(opts.method));
    entries.push_back(&e);
  }
  // The caller's is_unsigned is asked here, on this thread, so it need not be thread-safe.
  std::vector<int> levels(entries.size());
  for (size_t i = 0; i < entries.size(); ++i)
    levels[i] = opts.is_unsigned ? (opts.is_unsigned(entries[i]->first) ? 255 : 127) : levels_for(entries[i]->second);
  std::vector<float> out(entries.size());
  ThreadPool pool(opts.threads);
  pool.parallel_for(entries.size(), [&](size_t i, int) {
    out[i] = threshold_for(entries[i]->second, opts.method, levels[i], opts.max_percentile);
  });
  Thresholds t;
  for (size_t i = 0; i < entries.size(); ++i) t.emplace(entries[i]->first, out[i]);
  return t;
}

}  // namespace qmap
