// Calibration methods on known distributions: max keeps outliers, percentile/kl/mse clip
// them; the level count (127 vs 255) decision and its override; zero values; errors.
#include "calib/methods.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "calib/calib_test_util.h"

namespace qmap {
namespace {

using calib_testing::stats_of;
using calib_testing::uniform_values;

constexpr double kKlEps = 1e-4;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kKlMinBins = 128;

// Smooths a distribution as TensorRT/MXNet do: zero bins get kKlEps, non-zero bins lose
// eps1 = kKlEps * zeros / nonzeros each, so the sum is unchanged. Returns false when that
// would make a bin non-positive (the candidate is then rejected).
bool smooth(std::vector<double>& d, size_t n) {
  size_t zeros = 0;
  for (size_t k = 0; k < n; ++k) zeros += d[k] == 0 ? 1 : 0;
  const size_t nonzeros = n - zeros;
  if (nonzeros == 0) return false;
  const double eps1 = kKlEps * static_cast<double>(zeros) / static_cast<double>(nonzeros);
  for (size_t k = 0; k < n; ++k) {
    d[k] = d[k] == 0 ? kKlEps : d[k] - eps1;
    if (d[k] <= 0) return false;
  }
  return true;
}

// The KL search written directly from the formula (O(i) per candidate, as MXNet/TVM do):
// the oracle for the prefix-sum implementation in methods.cpp.
int reference_kl_bins(const std::vector<uint64_t>& h, int levels) {
  const int n = static_cast<int>(h.size());
  const int nq = levels + 1;  // quantized levels including zero: 128 (int8) or 256 (uint8)
  std::vector<double> suffix(static_cast<size_t>(n) + 1, 0.0);  // sum h[k..n)
  for (int k = n - 1; k >= 0; --k) suffix[static_cast<size_t>(k)] = suffix[static_cast<size_t>(k) + 1] + static_cast<double>(h[static_cast<size_t>(k)]);
  std::vector<double> p(static_cast<size_t>(n)), q(static_cast<size_t>(n));
  double best = kInf;
  int best_i = n;
  for (int i = std::max(kKlMinBins, nq); i <= n; ++i) {
    const size_t ni = static_cast<size_t>(i);
    for (size_t k = 0; k < ni; ++k) p[k] = static_cast<double>(h[k]);
    p[ni - 1] += suffix[ni];
    const int merged = i / nq;
    for (int j = 0; j < nq; ++j) {
      const size_t start = static_cast<size_t>(j * merged);
      const size_t stop = j == nq - 1 ? ni : start + static_cast<size_t>(merged);
      double sum = 0;
      size_t nonzero = 0;
      for (size_t k = start; k < stop; ++k) {
        sum += static_cast<double>(h[k]);
        nonzero += p[k] != 0 ? 1 : 0;
      }
      const double each = nonzero == 0 ? 0.0 : sum / static_cast<double>(nonzero);
      for (size_t k = start; k < stop; ++k) q[k] = p[k] != 0 ? each : 0.0;
    }
    if (!smooth(p, ni) || !smooth(q, ni)) continue;
    double sp = 0, sq = 0;
    for (size_t k = 0; k < ni; ++k) {
      sp += p[k];
      sq += q[k];
    }
    // KL of the normalized distributions: sum p/sp * log((p/sp) / (q/sq)).
    double kl = 0;
    for (size_t k = 0; k < ni; ++k) kl += p[k] * std::log(p[k] / q[k]);
    kl = kl / sp + std::log(sq / sp);
    if (kl < best) {
      best = kl;
      best_i = i;
    }
  }
  return best_i;
}


constexpr CalibMethod kAll[] = {CalibMethod::kMax, CalibMethod::kPercentile, CalibMethod::kKl, CalibMethod::kMse};

// N(0, 1) samples plus `outliers` elements at +-50.
std::vector<float> gaussian_with_outliers(size_t n, uint32_t seed, size_t outliers) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(n);
  for (float& x : v) x = d(rng);
  for (size_t i = 0; i < outliers; ++i) v[i * 997] = i % 2 ? -50.f : 50.f;
  return v;
}

TEST(CalibMethods, UniformKeepsNearlyTheWholeRange) {
  constexpr uint32_t kSeed = 21;
  const ValueStats s = stats_of(uniform_values(200000, kSeed, -1.f, 1.f));
  ASSERT_EQ(levels_for(s), 127);
  EXPECT_EQ(threshold_for(s, CalibMethod::kMax, 127, 0), s.abs_max);
  // The 0.99 quantile of |x| for |x| uniform on [0, 1] is 0.99 (within sampling noise).
  EXPECT_NEAR(threshold_for(s, CalibMethod::kPercentile, 127, 0.99), 0.99, 3e-3) << "seed " << kSeed;
  EXPECT_FLOAT_EQ(threshold_for(s, CalibMethod::kPercentile, 127, 1.0), s.abs_max);
  // Nothing to clip: both search methods stay close to the max (clipping a uniform tail
  // costs more than the finer grid saves).
  for (CalibMethod m : {CalibMethod::kKl, CalibMethod::kMse}) {
    const float t = threshold_for(s, m, 127, 0);
    EXPECT_GT(t, 0.9f * s.abs_max) << calib_method_name(m) << " seed " << kSeed;
    EXPECT_LE(t, s.abs_max) << calib_method_name(m);
  }
}

TEST(CalibMethods, GaussianOutliersClippedByAllButMax) {
  constexpr uint32_t kSeed = 33;
  // 20 outliers in 500000 (4e-5 of the mass).
  const ValueStats s = stats_of(gaussian_with_outliers(500000, kSeed, 20));
  ASSERT_EQ(s.abs_max, 50.f);
  EXPECT_EQ(threshold_for(s, CalibMethod::kMax, 127, 0), 50.f);
  // P(|N(0,1)| > 3.89) = 1e-4: the 0.9999 quantile is ~3.9, far below the outliers.
  const float p = threshold_for(s, CalibMethod::kPercentile, 127, 0.9999);
  EXPECT_GT(p, 3.5f) << "seed " << kSeed;
  EXPECT_LT(p, 4.5f) << "seed " << kSeed;
  const float kl = threshold_for(s, CalibMethod::kKl, 127, 0);
  EXPECT_GT(kl, 2.f) << "seed " << kSeed;
  EXPECT_LT(kl, 15.f) << "seed " << kSeed;
  // mse weighs squared errors: clipping 20 elements by ~45 each (40500) costs more than the
  // coarser grid of T = 50 (500000 * (50/127)^2 / 12 = 6458), so it keeps them ...
  EXPECT_GT(threshold_for(s, CalibMethod::kMse, 127, 0), 40.f) << "seed " << kSeed;
  // ... but clips a single one (2025 < 6458).
  const ValueStats rare = stats_of(gaussian_with_outliers(500000, kSeed, 1));
  const float mse = threshold_for(rare, CalibMethod::kMse, 127, 0);
  EXPECT_GT(mse, 2.f) << "seed " << kSeed;
  EXPECT_LT(mse, 15.f) << "seed " << kSeed;
}

TEST(CalibMethods, MseMatchesBruteForceSearch) {
  // The O(1)-per-candidate prefix-sum search must pick the same candidate as evaluating the
  // documented error formula directly for every candidate.
  constexpr uint32_t kSeed = 8;
  const ValueStats s = stats_of(gaussian_with_outliers(500000, kSeed, 1));
  for (int levels : {127, 255}) {
    std::vector<double> err(kHistogramBins + 1, 0);
    double best = INFINITY;
    for (int k = 1; k <= kHistogramBins; ++k) {
      const double t = k, step = t / levels;
      for (int j = 0; j < kHistogramBins; ++j) {
        const double c = j + 0.5, h = static_cast<double>(s.histogram[static_cast<size_t>(j)]);
        if (c > t) err[k] += h * (c - t) * (c - t);
        else if (c < step / 2) err[k] += h * c * c;
        else err[k] += h * step * step / 12;
      }
      best = std::min(best, err[k]);
    }
    const int k = static_cast<int>(std::lround(threshold_for(s, CalibMethod::kMse, levels, 0) / s.bin_width()));
    ASSERT_GE(k, 1);
    ASSERT_LE(k, kHistogramBins);
    // Equal up to summation-order rounding (prefix sums vs direct sums).
    EXPECT_LE(err[static_cast<size_t>(k)], best * (1 + 1e-9)) << "levels " << levels << " seed " << kSeed << " k " << k;
    // On the 127-level grid the one outlier at 50 costs less clipped (45^2 = 2025) than the
    // coarser grid does (500000 * (50/127)^2 / 12 = 6458); on the 255-level grid it does not.
    if (levels == 127) {
      EXPECT_LT(k, kHistogramBins / 2) << "the outlier at 50 must be clipped";
    }
  }
}

TEST(CalibMethods, KlMatchesTheDirectFormula) {
  // Dense, sparse (few samples), one-sided and outlier-heavy histograms, both grids.
  std::mt19937 rng(17);
  std::exponential_distribution<float> ex(1.f);
  std::vector<float> relu(300000, 0.f);
  for (size_t i = 0; i < relu.size(); i += 3) relu[i] = ex(rng);
  const std::vector<std::pair<std::string, ValueStats>> cases = {
      {"gaussian+20 outliers", stats_of(gaussian_with_outliers(500000, 41, 20))},
      {"gaussian 3000", stats_of(gaussian_with_outliers(3000, 42, 0))},
      {"uniform", stats_of(uniform_values(100000, 43, -1.f, 1.f))},
      {"relu-like", stats_of(relu)},
      {"tiny", stats_of(uniform_values(40, 44, -1.f, 3.f))},
  };
  for (const auto& [what, s] : cases) {
    for (int levels : {127, 255}) {
      // The zero bin takes its neighbour's count before the search (methods.cpp says why).
      std::vector<uint64_t> h = s.histogram;
      h[0] = h[1];
      const float want = static_cast<float>(
          std::min((reference_kl_bins(h, levels) + 0.5) * s.bin_width(), static_cast<double>(s.abs_max)));
      EXPECT_EQ(threshold_for(s, CalibMethod::kKl, levels, 0), want) << what << " levels " << levels;
    }
  }
}

TEST(CalibMethods, LevelsFollowTheSignOrTheOverride) {
  // Non-negative, ReLU-like: half zeros, half exponential.
  std::mt19937 rng(3);
  std::exponential_distribution<float> d(1.f);
  std::vector<float> v(100000, 0.f);
  for (size_t i = 0; i < v.size(); i += 2) v[i] = d(rng);
  Statistics st;
  st.values["relu"] = stats_of(v);
  st.values["signed"] = stats_of(uniform_values(1000, 4, -1.f, 1.f));
  EXPECT_EQ(levels_for(st.values["relu"]), 255);
  EXPECT_EQ(levels_for(st.values["signed"]), 127);
  for (CalibMethod m : {CalibMethod::kKl, CalibMethod::kMse}) {
    auto by_stats = compute_thresholds(st, {.method = m, .threads = 2});
    ASSERT_TRUE(by_stats.ok());
    EXPECT_EQ(by_stats->at("relu"), threshold_for(st.values["relu"], m, 255, 0)) << calib_method_name(m);
    std::vector<std::string> asked;
    auto forced = compute_thresholds(st, {.method = m, .is_unsigned = [&](const std::string& name) {
                                            asked.push_back(name);
                                            return false;
                                          }});
    ASSERT_TRUE(forced.ok());
    EXPECT_EQ(asked, (std::vector<std::string>{"relu", "signed"}));
    EXPECT_EQ(forced->at("relu"), threshold_for(st.values["relu"], m, 127, 0)) << calib_method_name(m);
    // A finer grid (255 levels for the same range) tolerates a larger threshold: a property
    // of the squared error, not of KL's divergence.
    if (m == CalibMethod::kMse) {
      EXPECT_GE(by_stats->at("relu"), forced->at("relu")) << calib_method_name(m);
    }
  }
  // Half the tensor is exact zeros: KL must not collapse the threshold to keep that spike in
  // a quantization group of its own (it picked max/8 before the zero bin was neutralized).
  EXPECT_GT(threshold_for(st.values["relu"], CalibMethod::kKl, 255, 0), 0.5f * st.values["relu"].abs_max);
  EXPECT_GT(threshold_for(st.values["relu"], CalibMethod::kKl, 127, 0), 0.5f * st.values["relu"].abs_max);
}

TEST(CalibMethods, ZeroValueGetsAPositiveThreshold) {
  const ValueStats s = stats_of(std::vector<float>(64, 0.f));
  for (CalibMethod m : kAll) EXPECT_EQ(threshold_for(s, m, levels_for(s), 0.999), kZeroValueThreshold);
}

TEST(CalibMethods, ThresholdsArePositiveAndBoundedByMax) {
  for (uint32_t seed = 0; seed < 5; ++seed) {
    // Few elements, sparse histograms: the searches must still return 0 < T <= max|x|.
    const ValueStats s = stats_of(uniform_values(3 + seed * 7, seed, -0.01f, 0.02f));
    for (CalibMethod m : kAll)
      for (int levels : {127, 255}) {
        const float t = threshold_for(s, m, levels, 0.5);
        EXPECT_GT(t, 0.f) << calib_method_name(m) << " seed " << seed;
        EXPECT_LE(t, s.abs_max) << calib_method_name(m) << " seed " << seed;
      }
  }
}

TEST(CalibMethods, NamesAndBadPercentile) {
  for (CalibMethod m : kAll) EXPECT_EQ(calib_method_by_name(calib_method_name(m)), m);
  EXPECT_FALSE(calib_method_by_name("entropy").has_value());
  Statistics st;
  st.values["x"] = stats_of({1.f, -2.f});
  for (double p : {0.0, 1.5, -1.0}) {
    auto r = compute_thresholds(st, {.method = CalibMethod::kPercentile, .max_percentile = p});
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_NE(r.status().message().find("max_percentile"), std::string::npos) << r.status().message();
  }
  ValueStats no_hist = st.values["x"];
  no_hist.histogram.clear();
  st.values["x"] = no_hist;
  EXPECT_TRUE(compute_thresholds(st, {.method = CalibMethod::kMax}).ok());
  EXPECT_FALSE(compute_thresholds(st, {.method = CalibMethod::kKl}).ok());
}

}  // namespace
}  // namespace qmap
