// Statistics collection: observers against brute force, exact two-pass histogram counts on
// a graph, bit-identical results for any thread count and sample order, and the errors.
#include "calib/statistics.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

#include <gtest/gtest.h>

#include "calib/calib_test_util.h"
#include "calib/methods.h"

namespace qmap {
namespace {

using calib_testing::add_node;
using calib_testing::uniform_values;

TEST(CalibStatistics, RangeObserverMatchesBruteForce) {
  for (uint32_t seed : {1u, 2u, 3u}) {
    for (size_t n : {size_t{1}, size_t{15}, size_t{16}, size_t{17}, size_t{1000}, size_t{4099}}) {
      const auto x = uniform_values(n, seed, -3.f, 2.f);
      RangeObserver r;
      // Observed in two uneven pieces: merging within one observer must not matter.
      const size_t half = n / 3;
      r.observe({x.data(), half});
      r.observe({x.data() + half, n - half});
      EXPECT_EQ(r.min, *std::min_element(x.begin(), x.end())) << "seed " << seed << " n " << n;
      EXPECT_EQ(r.max, *std::max_element(x.begin(), x.end())) << "seed " << seed << " n " << n;
      EXPECT_EQ(r.count, n);
      EXPECT_EQ(r.non_finite, 0u);
    }
  }
}

TEST(CalibStatistics, RangeObserverCountsNonFinite) {
  std::vector<float> x(40, 1.f);
  x[3] = std::nanf("");
  x[20] = INFINITY;
  x[39] = -INFINITY;
  RangeObserver r;
  r.observe(x);
  EXPECT_EQ(r.non_finite, 3u);
}

TEST(CalibStatistics, HistogramObserverMatchesBruteForce) {
  // 10007: below the split-counter size, not a multiple of the binning chunk; 40003: split
  // counters with a tail; every third element zero (runs of one bin, as after a ReLU).
  for (auto [seed, n] : {std::pair{4u, size_t{10007}}, std::pair{5u, size_t{40003}}}) {
    auto x = uniform_values(n, seed, -1.5f, 4.f);
    for (size_t i = 0; i < n; i += 3) x[i] = 0.f;
    float abs_max = 0;
    for (float v : x) abs_max = std::max(abs_max, std::fabs(v));
    HistogramObserver h(abs_max);
    h.observe(x);
    std::vector<uint64_t> expect(kHistogramBins, 0);
    for (float v : x) {
      const int b = h.bin_of(v);
      // bin_of multiplies by a rounded reciprocal: it may differ from exact division only
      // for elements on a bin edge, by one bin.
      const double exact = std::min(std::floor(std::fabs(v) / static_cast<double>(abs_max) * kHistogramBins),
                                    double{kHistogramBins - 1});
      ASSERT_LE(std::fabs(b - exact), 1.0) << "seed " << seed << " n " << n << " x " << v;
      ++expect[static_cast<size_t>(b)];
    }
    EXPECT_EQ(h.counts(), expect) << "seed " << seed << " n " << n;
    EXPECT_EQ(std::accumulate(h.counts().begin(), h.counts().end(), uint64_t{0}), n);
    EXPECT_GT(h.counts()[kHistogramBins - 1], 0u) << "the max element belongs to the last bin";
  }
}

TEST(CalibStatistics, HistogramOfZeroRangePutsAllInBinZero) {
  HistogramObserver h(0.f);
  h.observe(std::vector<float>(100, 0.f));
  EXPECT_EQ(h.counts()[0], 100u);
}

// x -> Relu -> r -> Mul by -2 -> m (output).
Graph small_graph(Dims dims) {
  Graph g;
  g.name = "small";
  const ValueId x = g.add_value("x", DType::kFloat32, dims);
  const ValueId r = g.add_value("r", DType::kFloat32, dims);
  const ValueId k = g.add_constant("k", Tensor::scalar<float>(-2.f));
  const ValueId m = g.add_value("m", DType::kFloat32, dims);
  g.inputs = {x};
  add_node(g, "Relu", {x}, {r});
  add_node(g, "Mul", {r, k}, {m});
  g.outputs = {m};
  g.rebuild_producers();
  return g;
}

TEST(CalibStatistics, TwoPassHistogramExactCounts) {
  // Values chosen so that every bin is known: max|x| = 2048 makes x's bin width exactly 1.
  const Graph g = small_graph({1, 4});
  const std::vector<std::vector<float>> samples = {{-3.5f, 0.5f, 10.5f, 2047.5f}, {-2048.f, 1.5f, 1.5f, 0.f}};
  const SampleLoader load = [&](size_t i) -> Result<std::vector<Tensor>> {
    return std::vector<Tensor>{Tensor::from_vector<float>({1, 4}, samples[i])};
  };
  auto stats = collect_statistics(g, 2, load, {.threads = 2});
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  ASSERT_EQ(stats->values.size(), 3u);
  const ValueStats& x = stats->values.at("x");
  EXPECT_EQ(x.min, -2048.f);
  EXPECT_EQ(x.max, 2047.5f);
  EXPECT_EQ(x.abs_max, 2048.f);
  EXPECT_EQ(x.count, 8u);
  std::vector<uint64_t> hx(kHistogramBins, 0);
  hx[3] = 1, hx[0] = 2, hx[10] = 1, hx[2047] = 2, hx[1] = 2;  // |-2048| clamps to the last bin
  EXPECT_EQ(x.histogram, hx);
  const ValueStats& r = stats->values.at("r");  // Relu: 0 0.5 10.5 2047.5 0 1.5 1.5 0
  EXPECT_EQ(r.min, 0.f);
  EXPECT_EQ(r.abs_max, 2047.5f);
  const ValueStats& m = stats->values.at("m");  // -2 * r: max|m| = 4095
  EXPECT_EQ(m.min, -4095.f);
  EXPECT_EQ(m.max, 0.f);
  std::vector<uint64_t> hm(kHistogramBins, 0);
  // |m| / (4095 / 2048): 0 -> 0 (x3), 1 -> 0, 21 -> 10, 4095 -> 2047, 3 -> 1 (x2)
  hm[0] = 4, hm[10] = 1, hm[2047] = 1, hm[1] = 2;
  EXPECT_EQ(m.histogram, hm);
}

// A graph with signed, non-negative and mixed values: x -> Mul(a) -> Add(b) -> Relu -> Sigmoid,
// plus a Tanh branch.
Graph mixed_graph() {
  Graph g;
  g.name = "mixed";
  const Dims d = {2, 3, 5, 7};  // 210 elements per sample
  const ValueId x = g.add_value("x", DType::kFloat32, d);
  const ValueId a = g.add_constant("a", Tensor::scalar<float>(1.7f));
  const ValueId b = g.add_constant("b", Tensor::scalar<float>(-0.3f));
  const ValueId m = g.add_value("m", DType::kFloat32, d);
  const ValueId s = g.add_value("s", DType::kFloat32, d);
  const ValueId r = g.add_value("r", DType::kFloat32, d);
  const ValueId y = g.add_value("y", DType::kFloat32, d);
  const ValueId t = g.add_value("t", DType::kFloat32, d);
  g.inputs = {x};
  add_node(g, "Mul", {x, a}, {m});
  add_node(g, "Add", {m, b}, {s});
  add_node(g, "Relu", {s}, {r});
  add_node(g, "Sigmoid", {r}, {y});
  add_node(g, "Tanh", {s}, {t});
  g.outputs = {y, t};
  g.rebuild_producers();
  return g;
}

void expect_same_stats(const Statistics& a, const Statistics& b, const std::string& what) {
  ASSERT_EQ(a.values.size(), b.values.size()) << what;
  for (const auto& [name, sa] : a.values) {
    const ValueStats& sb = b.values.at(name);
    EXPECT_EQ(sa.min, sb.min) << what << " value " << name;
    EXPECT_EQ(sa.max, sb.max) << what << " value " << name;
    EXPECT_EQ(sa.abs_max, sb.abs_max) << what << " value " << name;
    EXPECT_EQ(sa.count, sb.count) << what << " value " << name;
    EXPECT_EQ(sa.histogram, sb.histogram) << what << " value " << name;
  }
}

TEST(CalibStatistics, IndependentOfThreadCountAndSampleOrder) {
  const Graph g = mixed_graph();
  constexpr size_t kSamples = 13;
  constexpr uint32_t kSeed = 77;
  std::vector<Tensor> samples;
  for (size_t i = 0; i < kSamples; ++i) {
    // Gaussian with a few outliers so that the methods give different thresholds.
    std::mt19937 rng(kSeed + static_cast<uint32_t>(i));
    std::normal_distribution<float> d(0.f, 1.f);
    std::vector<float> v(210);
    for (float& e : v) e = d(rng);
    if (i % 5 == 0) v[i] = 9.f + static_cast<float>(i);
    samples.push_back(Tensor::from_vector<float>({2, 3, 5, 7}, v));
  }
  std::vector<size_t> order(kSamples);
  std::iota(order.begin(), order.end(), 0);
  auto run = [&](int threads, const std::vector<size_t>& perm) {
    const SampleLoader load = [&](size_t i) -> Result<std::vector<Tensor>> {
      return std::vector<Tensor>{samples[perm[i]]};
    };
    auto s = collect_statistics(g, kSamples, load, {.threads = threads});
    EXPECT_TRUE(s.ok()) << s.status().message();
    return *s;
  };
  const Statistics base = run(1, order);
  std::vector<size_t> shuffled = order;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(kSeed));
  const Statistics two_shuffled = run(2, shuffled);
  const Statistics three_shuffled = run(3, shuffled);
  expect_same_stats(base, two_shuffled, "2 threads, shuffled (seed 77)");
  expect_same_stats(base, three_shuffled, "3 threads, shuffled (seed 77)");
  EXPECT_EQ(base.values.size(), 6u);
  EXPECT_EQ(base.values.at("r").min, 0.f);
  for (CalibMethod method : {CalibMethod::kMax, CalibMethod::kPercentile, CalibMethod::kKl, CalibMethod::kMse}) {
    auto t1 = compute_thresholds(base, {.method = method, .max_percentile = 0.999, .threads = 1});
    auto t3 = compute_thresholds(three_shuffled, {.method = method, .max_percentile = 0.999, .threads = 3});
    ASSERT_TRUE(t1.ok() && t3.ok());
    EXPECT_EQ(*t1, *t3) << calib_method_name(method);  // exact float equality
    EXPECT_EQ(t1->size(), 6u);
  }
}

SampleLoader gaussian_loader(uint32_t seed) {
  return [seed](size_t i) -> Result<std::vector<Tensor>> {
    std::mt19937 rng(seed + static_cast<uint32_t>(i));
    std::normal_distribution<float> d(0.f, 1.f);
    std::vector<float> v(210);
    for (float& e : v) e = d(rng);
    return std::vector<Tensor>{Tensor::from_vector<float>({2, 3, 5, 7}, v)};
  };
}

TEST(CalibStatistics, ObservesTheRequestedValuesOnly) {
  auto stats = collect_statistics(mixed_graph(), 3, gaussian_loader(5), {.threads = 2, .observe = {"x", "t"}});
  ASSERT_TRUE(stats.ok()) << stats.status().message();
  ASSERT_EQ(stats->values.size(), 2u);
  EXPECT_EQ(stats->values.count("x"), 1u);
  EXPECT_EQ(stats->values.at("t").count, 3u * 210);
  EXPECT_EQ(calibrated_values(mixed_graph()), (std::vector<std::string>{"x", "m", "s", "r", "y", "t"}));

  auto bad = collect_statistics(mixed_graph(), 3, gaussian_loader(5), {.observe = {"a"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("value 'a'"), std::string::npos) << bad.status().message();
}

// Ranges only: the same min, max, abs_max and count as both passes give, no histogram.
TEST(CalibStatistics, RangesOnlySkipThePassOfHistograms) {
  auto both = collect_statistics(mixed_graph(), 3, gaussian_loader(5), {.threads = 2});
  auto ranges = collect_statistics(mixed_graph(), 3, gaussian_loader(5), {.threads = 2, .histograms = false});
  ASSERT_TRUE(both.ok() && ranges.ok());
  ASSERT_EQ(ranges->values.size(), both->values.size());
  for (const auto& [name, r] : ranges->values) {
    const ValueStats& b = both->values.at(name);
    EXPECT_EQ(r.min, b.min) << name;
    EXPECT_EQ(r.max, b.max) << name;
    EXPECT_EQ(r.abs_max, b.abs_max) << name;
    EXPECT_EQ(r.count, b.count) << name;
    EXPECT_TRUE(r.histogram.empty()) << name;
    EXPECT_FALSE(b.histogram.empty()) << name;
  }
}

TEST(CalibStatistics, ReportsTheFirstFailingSampleWhateverTheThreads) {
  const SampleLoader good = gaussian_loader(9);
  const SampleLoader load = [&](size_t i) -> Result<std::vector<Tensor>> {
    if (i == 3 || i == 7) return error("file 'cal/{}.bin': 12 bytes, expected 840", i);
    return good(i);
  };
  for (int threads : {1, 2, 4}) {
    auto s = collect_statistics(mixed_graph(), 10, load, {.threads = threads});
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.status().message(), "calibration: sample 3: file 'cal/3.bin': 12 bytes, expected 840")
        << "threads " << threads;
  }
  auto none = collect_statistics(mixed_graph(), 0, good, {});
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("no calibration samples"), std::string::npos);
}

TEST(CalibStatistics, NonFiniteActivationNamesValueAndSample) {
  const SampleLoader good = gaussian_loader(11);
  const SampleLoader load = [&](size_t i) -> Result<std::vector<Tensor>> {
    auto r = good(i);
    if (i == 2) (*r)[0].data<float>()[5] = std::nanf("");
    return r;
  };
  auto s = collect_statistics(mixed_graph(), 4, load, {.threads = 2});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("sample 2: value 'x' has 1 NaN or infinite"), std::string::npos)
      << s.status().message();
}

}  // namespace
}  // namespace qmap
