// calibrate and OutputScorer on a small network over a raw float32 data set with outliers:
// each method's thresholds are what the method computes directly, the default search keeps
// the candidate with the best output cosine (re-scored here independently), mix keeps its
// per-value set only when it scores at least as well, skip/load/table work without data.
#include "calib/calibrate.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <random>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "calib/calib_table.h"
#include "calib/output_scorer.h"
#include "core/file_io.h"
#include "passes/pass_test_util.h"

namespace qmap {
namespace {

namespace fs = std::filesystem;

constexpr size_t kSamples = 24;
const Dims kInputDims = {1, 4, 10, 10};

// conv 3x3 (4 -> 8) -> Relu -> conv 1x1 (8 -> 6) -> Relu -> conv 1x1 (6 -> 5): signed and
// unsigned values, so the methods' 127/255 level choice matters.
Graph network() {
  testing::GraphBuilder b;
  const ValueId x = b.input("x", kInputDims);
  const ValueId c1 = b.node("Conv", "c1", {x, b.random("w1", {8, 4, 3, 3}, 21), b.random("b1", {8}, 22, -0.1f, 0.1f)},
                            {{"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const ValueId r1 = b.node("Relu", "r1", {c1});
  const ValueId c2 = b.node("Conv", "c2", {r1, b.random("w2", {6, 8, 1, 1}, 23), b.random("b2", {6}, 24)});
  const ValueId r2 = b.node("Relu", "r2", {c2});
  const ValueId c3 = b.node("Conv", "c3", {r2, b.random("w3", {5, 6, 1, 1}, 25), b.random("b3", {5}, 26)});
  return b.build({c3});
}

// A folder of kSamples raw float32 files: uniform in [-1, 1) with rare outliers up to +-12,
// so max, the percentiles, kl and mse choose different thresholds.
class CalibrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() /
            fmt::format("qmap_calibrate_test_{}_{}", getpid(), ::testing::UnitTest::GetInstance()->random_seed()))
               .string();
    fs::create_directories(dir_ + "/x");
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::uniform_real_distribution<float> outlier(-12.f, 12.f);
    for (size_t i = 0; i < kSamples; ++i) {
      std::vector<float> v(400);
      for (float& e : v) e = rng() % 200 == 0 ? outlier(rng) : u(rng);
      const std::string bytes(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
      ASSERT_TRUE(write_file_atomic(fmt::format("{}/x/{:02}.bin", dir_, i), bytes).ok());
    }
    InputSpec spec;
    spec.name = "x";
    spec.shape = kInputDims;
    auto ds = CalibDataset::open({spec}, {dir_ + "/x"}, {"float32"}, false);
    ASSERT_TRUE(ds.ok()) << ds.status().message();
    dataset_.emplace(std::move(*ds));
  }
  void TearDown() override { fs::remove_all(dir_); }

  // range_search is off unless asked for: most tests check the methods and the search alone.
  Result<Calibration> run(CalibrationType type, std::optional<float> max_percentile = std::nullopt,
                          bool with_data = true, CalibrateOptions o = {}, AutoMode range_search = AutoMode::kOff) {
    CalibrationParameters p;
    p.type = type;
    p.max_percentile = max_percentile;
    p.range_search = range_search;
    o.threads = 2;
    return calibrate(graph_, with_data ? &*dataset_ : nullptr, p, o, log_);
  }

  // The method run directly over the statistics of the whole data set.
  Thresholds direct(CalibMethod m, double percentile) {
    auto stats = collect_statistics(graph_, dataset_->size(),
                                    [&](size_t i) { return dataset_->load_runtime(i); }, {.threads = 2});
    EXPECT_TRUE(stats.ok()) << stats.status().message();
    auto unsigned_values = quantizer_unsigned_values(graph_, *stats, {});
    EXPECT_TRUE(unsigned_values.ok());
    MethodOptions mo;
    mo.method = m;
    mo.max_percentile = percentile;
    mo.is_unsigned = [&](const std::string& v) { return unsigned_values->count(v) != 0; };
    auto t = compute_thresholds(*stats, mo);
    EXPECT_TRUE(t.ok()) << t.status().message();
    return *t;
  }

  const Graph graph_ = network();
  std::string dir_;
  std::optional<CalibDataset> dataset_;
  Logger log_{stderr, LogLevel::kError};
};

TEST_F(CalibrateTest, EachMethodGivesTheMethodsOwnThresholds) {
  struct Case {
    CalibrationType type;
    std::optional<float> percentile;
    CalibMethod method;
    std::string name;
  };
  const Case cases[] = {{CalibrationType::kMax, std::nullopt, CalibMethod::kMax, "max"},
                        {CalibrationType::kMax, 0.999f, CalibMethod::kPercentile, "max-percentile:0.999"},
                        {CalibrationType::kKl, std::nullopt, CalibMethod::kKl, "kl"},
                        {CalibrationType::kMse, std::nullopt, CalibMethod::kMse, "mse"}};
  for (const Case& c : cases) {
    auto r = run(c.type, c.percentile);
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r->method, c.name);
    EXPECT_EQ(r->thresholds, direct(c.method, c.percentile.value_or(1.0f))) << c.name;
    EXPECT_TRUE(r->candidates.empty()) << c.name;
    EXPECT_EQ(r->samples.size(), 16u) << c.name;  // kSearchSamples spread over the 24
  }
  // The methods differ on this data, so the comparison above tells them apart.
  EXPECT_NE(direct(CalibMethod::kMax, 1.0), direct(CalibMethod::kMse, 1.0));
  EXPECT_NE(direct(CalibMethod::kMax, 1.0), direct(CalibMethod::kKl, 1.0));
}

TEST_F(CalibrateTest, DefaultKeepsTheCandidateWithTheBestOutputCosine) {
  auto r = run(CalibrationType::kDefault);
  ASSERT_TRUE(r.ok()) << r.status().message();
  const std::vector<std::string> names = {"max", "max-percentile:0.99999", "max-percentile:0.99995",
                                          "max-percentile:0.9999", "max-percentile:0.9995", "kl", "mse"};
  ASSERT_EQ(r->candidates.size(), names.size());
  // Each candidate re-scored here from its method's own thresholds.
  auto scorer = OutputScorer::create(graph_, r->samples);
  ASSERT_TRUE(scorer.ok()) << scorer.status().message();
  const std::vector<std::pair<CalibMethod, double>> methods = {
      {CalibMethod::kMax, 1.0},           {CalibMethod::kPercentile, 0.99999}, {CalibMethod::kPercentile, 0.99995},
      {CalibMethod::kPercentile, 0.9999}, {CalibMethod::kPercentile, 0.9995},  {CalibMethod::kKl, 1.0},
      {CalibMethod::kMse, 1.0}};
  size_t best = 0;
  std::vector<Thresholds> thresholds;
  for (size_t c = 0; c < names.size(); ++c) {
    EXPECT_EQ(r->candidates[c].method, names[c]);
    thresholds.push_back(direct(methods[c].first, methods[c].second));
    auto q = quantize_graph(graph_, thresholds.back(), {});
    ASSERT_TRUE(q.ok()) << q.status().message();
    auto s = scorer->score(q->graph);
    ASSERT_TRUE(s.ok()) << s.status().message();
    EXPECT_DOUBLE_EQ(r->candidates[c].cosine, s->cosine) << names[c];
    if (s->cosine > r->candidates[best].cosine) best = c;
  }
  EXPECT_EQ(r->method, names[best]);
  EXPECT_EQ(r->thresholds, thresholds[best]);
  // The scores differ, so a search that kept another candidate would fail above.
  EXPECT_NE(r->candidates.front().cosine, r->candidates[best].cosine);
}

// range_search after default's choice: True keeps the moves the search made on the search
// samples; auto keeps them only when they score higher on the held-out samples (the 8 of the
// 24 the search does not use) and otherwise leaves default's thresholds untouched.
TEST_F(CalibrateTest, RangeSearchMovesValuesAndAutoChecksThemOnHeldOutSamples) {
  auto plain = run(CalibrationType::kDefault);
  auto on = run(CalibrationType::kDefault, std::nullopt, true, {}, AutoMode::kOn);
  auto automatic = run(CalibrationType::kDefault, std::nullopt, true, {}, AutoMode::kAuto);
  ASSERT_TRUE(plain.ok() && on.ok() && automatic.ok());
  EXPECT_TRUE(plain->value_methods.empty());
  // The data's outliers leave room between the methods: the search moves some value here.
  ASSERT_FALSE(on->value_methods.empty());
  EXPECT_EQ(on->method, plain->method + "+range-search");
  std::vector<std::string> candidate_names;
  for (const CandidateScore& c : plain->candidates) candidate_names.push_back(c.method);
  for (const auto& [value, t] : on->thresholds) {
    auto moved = on->value_methods.find(value);
    if (moved == on->value_methods.end()) {
      EXPECT_EQ(t, plain->thresholds.at(value)) << value;  // unmoved values keep default's
    } else {
      EXPECT_NE(t, plain->thresholds.at(value)) << value;
      EXPECT_NE(std::find(candidate_names.begin(), candidate_names.end(), moved->second), candidate_names.end())
          << moved->second;  // a candidate method's threshold
    }
  }
  // The search scores higher than default's choice on the search samples.
  auto scorer = OutputScorer::create(graph_, on->samples);
  ASSERT_TRUE(scorer.ok());
  auto score = [&](const OutputScorer& s, const Thresholds& t) {
    auto q = quantize_graph(graph_, t, {});
    EXPECT_TRUE(q.ok());
    return s.score(q->graph)->cosine;
  };
  EXPECT_GT(score(*scorer, on->thresholds), score(*scorer, plain->thresholds));
  // auto: the held-out samples decide.
  std::vector<std::vector<Tensor>> held_out;
  const std::vector<size_t> search = spread_indices(kSamples, 16);
  for (size_t i : spread_indices(kSamples, 32))
    if (std::find(search.begin(), search.end(), i) == search.end()) held_out.push_back(*dataset_->load_runtime(i));
  ASSERT_EQ(held_out.size(), 8u);
  auto held = OutputScorer::create(graph_, held_out);
  ASSERT_TRUE(held.ok());
  const bool better = score(*held, on->thresholds) > score(*held, plain->thresholds);
  EXPECT_EQ(automatic->thresholds, better ? on->thresholds : plain->thresholds);
  EXPECT_EQ(automatic->method, better ? on->method : plain->method);
}

TEST_F(CalibrateTest, MixKeepsItsPerValueSetOnlyWhenItScoresAtLeastTheBest) {
  auto def = run(CalibrationType::kDefault);
  auto mix = run(CalibrationType::kMix);
  ASSERT_TRUE(def.ok() && mix.ok());
  ASSERT_EQ(mix->candidates.size(), def->candidates.size() + 1);
  EXPECT_EQ(mix->candidates.back().method, "mix");
  double best = 0;
  for (size_t c = 0; c < def->candidates.size(); ++c) {
    EXPECT_EQ(mix->candidates[c].cosine, def->candidates[c].cosine);
    best = std::max(best, def->candidates[c].cosine);
  }
  if (mix->candidates.back().cosine < best) {
    EXPECT_EQ(mix->method, def->method);
    EXPECT_EQ(mix->thresholds, def->thresholds);
  } else {
    EXPECT_EQ(mix->method, "mix");
    EXPECT_EQ(mix->thresholds.size(), def->thresholds.size());
  }
}

TEST_F(CalibrateTest, SkipAndLoadRunWithoutData) {
  auto skip = run(CalibrationType::kSkip, std::nullopt, false);
  ASSERT_TRUE(skip.ok()) << skip.status().message();
  EXPECT_EQ(skip->method, "skip");
  ASSERT_EQ(skip->samples.size(), 1u);  // one seeded random sample
  for (const auto& [name, t] : skip->thresholds) EXPECT_GT(t, 0.f) << name;
  auto again = run(CalibrationType::kSkip, std::nullopt, false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->thresholds, skip->thresholds);

  CalibrateOptions o;
  o.qat_thresholds = {{"x", 3.5f}, {"not_a_value", 9.f}};
  auto load = run(CalibrationType::kLoad, std::nullopt, false, o);
  ASSERT_TRUE(load.ok()) << load.status().message();
  EXPECT_EQ(load->method, "load");
  Thresholds want = skip->thresholds;
  want["x"] = 3.5f;  // the model's threshold; the others max, as skip
  EXPECT_EQ(load->thresholds, want);
}

TEST_F(CalibrateTest, TableThresholdsAreReadInsteadOfCalibrating) {
  auto kl = run(CalibrationType::kKl);
  ASSERT_TRUE(kl.ok());
  CalibrateOptions o;
  o.calibration_table = dir_ + "/table.txt";
  ASSERT_TRUE(write_calib_table(o.calibration_table, make_calib_table(graph_, kl->thresholds, "kl", kSamples)).ok());
  auto r = run(CalibrationType::kMax, std::nullopt, true, o);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->method, "kl");
  ASSERT_EQ(r->thresholds.size(), kl->thresholds.size());
  for (const auto& [name, t] : kl->thresholds) EXPECT_FLOAT_EQ(r->thresholds.at(name), t) << name;
}

TEST_F(CalibrateTest, ScoresDoNotDependOnThreadsAndFallWithCoarserScales) {
  auto r = run(CalibrationType::kMax);
  ASSERT_TRUE(r.ok());
  auto one = OutputScorer::create(graph_, r->samples, {.threads = 1});
  auto three = OutputScorer::create(graph_, r->samples, {.threads = 3});
  auto blas = OutputScorer::create(graph_, r->samples, {.threads = 1, .float_sgemm_blas = true});
  ASSERT_TRUE(one.ok() && three.ok() && blas.ok());
  auto q = quantize_graph(graph_, r->thresholds, {});
  ASSERT_TRUE(q.ok());
  auto a = one->score(q->graph), b = three->score(q->graph), c = blas->score(q->graph);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  EXPECT_EQ(a->cosine, b->cosine);  // the same sums in sample order
  EXPECT_EQ(a->mse, b->mse);
  EXPECT_EQ(a->sqnr_db, b->sqnr_db);
  // Every node on the NPU: no float GEMM, so the sgemm choice changes nothing here.
  EXPECT_EQ(a->cosine, c->cosine);
  EXPECT_GT(a->cosine, 0.99);
  EXPECT_LE(a->cosine, 1.0 + 1e-12);
  // Eight times the thresholds: an eighth of the levels, more noise.
  Thresholds coarse = r->thresholds;
  for (auto& [name, t] : coarse) t *= 8;
  auto qc = quantize_graph(graph_, coarse, {});
  ASSERT_TRUE(qc.ok());
  auto worse = one->score(qc->graph);
  ASSERT_TRUE(worse.ok());
  EXPECT_LT(worse->cosine, a->cosine);
  EXPECT_GT(worse->mse, a->mse);
  EXPECT_LT(worse->sqnr_db, a->sqnr_db);
}

TEST(SpreadIndices, EvenlyOverTheSetAndAllWhenFew) {
  EXPECT_EQ(spread_indices(10, 4), (std::vector<size_t>{0, 2, 5, 7}));
  EXPECT_EQ(spread_indices(3, 5), (std::vector<size_t>{0, 1, 2}));
  EXPECT_TRUE(spread_indices(0, 4).empty());
}

}  // namespace
}  // namespace qmap
