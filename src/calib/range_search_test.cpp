// Range search on a small network with one badly clipped tensor: the search steps that
// tensor's threshold up the candidates' ladder, which lowers the output error on samples it
// never saw; it tries only real neighbours and is deterministic.
#include "calib/range_search.h"

#include <gtest/gtest.h>

#include "calib/calib_test_util.h"
#include "quant/float_range_test_util.h"

namespace qmap {
namespace {

struct Fixture {
  Graph g = calib_testing::residual_network(31);
  std::vector<std::vector<Tensor>> search = testing::seeded_samples({1, 3, 8, 8}, 400, 8, -1.f, 1.f);
  std::vector<std::vector<Tensor>> held_out = testing::seeded_samples({1, 3, 8, 8}, 500, 8, -1.f, 1.f);
  Thresholds max = testing::max_abs_thresholds(g, search);
  OutputScorer scorer = *OutputScorer::create(g, search, {.threads = 2});
  OutputScorer held = *OutputScorer::create(g, held_out, {.threads = 2});

  // The thresholds of `max` with r2 (c2 + Relu's output) at `r2_fraction` of its range.
  Thresholds with_r2(float r2_fraction) const {
    Thresholds t = max;
    t.at("r2") *= r2_fraction;
    return t;
  }
  double cosine(const OutputScorer& s, const Thresholds& t) const {
    auto q = quantize_graph(g, t, {});
    QMAP_CHECK(q.ok(), "{}", q.status().message());
    auto sc = s.score(q->graph);
    QMAP_CHECK(sc.ok(), "{}", sc.status().message());
    return sc->cosine;
  }
};

TEST(RangeSearch, StepsTheClippedTensorUpAndLowersTheErrorOnUnseenSamples) {
  const Fixture f;
  // The start clips r2 to a twentieth of its range; the other candidates clip it less.
  const std::vector<RangeCandidate> ladder = {
      {"clip20", f.with_r2(0.05f)}, {"clip4", f.with_r2(0.25f)}, {"clip2", f.with_r2(0.5f)}, {"max", f.max}};
  const Thresholds& start = ladder[0].thresholds;
  const double before = f.cosine(f.scorer, start);
  auto r = search_ranges(f.g, {}, ladder, start, before, f.scorer);
  ASSERT_TRUE(r.ok()) << r.status().message();
  // Four 8-bit values: r1 (c1 + Relu), r2, c3, c4 ... and the Add's output: five.
  EXPECT_EQ(r->values, 5u);
  // Only r2's thresholds differ between the candidates: one step up (its only neighbour).
  EXPECT_EQ(r->runs, 1u);
  ASSERT_EQ(r->moves.size(), 1u);
  EXPECT_EQ(r->moves[0].value, "r2");
  EXPECT_EQ(r->moves[0].method, "clip4");
  EXPECT_FLOAT_EQ(r->moves[0].from, start.at("r2"));
  EXPECT_FLOAT_EQ(r->thresholds.at("r2"), f.max.at("r2") * 0.25f);
  EXPECT_DOUBLE_EQ(r->cosine_before, before);
  EXPECT_DOUBLE_EQ(r->cosine_after, f.cosine(f.scorer, r->thresholds));
  EXPECT_GT(r->cosine_after, before);
  // On samples the search never scored, the output error (1 - cosine) falls too, by far more
  // than the scores' float rounding: clipping three quarters of a tensor's range away costs
  // more than the coarser step that holds it.
  const double err_before = 1 - f.cosine(f.held, start), err_after = 1 - f.cosine(f.held, r->thresholds);
  EXPECT_LT(err_after, 0.8 * err_before) << err_before << " -> " << err_after;
  // Every other value keeps its threshold.
  for (const auto& [name, t] : start) {
    if (name != "r2") {
      EXPECT_EQ(r->thresholds.at(name), t) << name;
    }
  }
  // Deterministic: the same result again.
  auto again = search_ranges(f.g, {}, ladder, start, before, f.scorer);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->thresholds, r->thresholds);
  EXPECT_EQ(again->cosine_after, r->cosine_after);
}

TEST(RangeSearch, KeepsAThresholdWhoseNeighboursScoreLower) {
  const Fixture f;
  // From max, r2's neighbours clip most of its range (below) or waste resolution (8x, above):
  // both score lower, so nothing moves.
  const std::vector<RangeCandidate> ladder = {{"max", f.max}, {"clip20", f.with_r2(0.05f)}, {"wide", f.with_r2(8.f)}};
  const double before = f.cosine(f.scorer, f.max);
  auto r = search_ranges(f.g, {}, ladder, f.max, before, f.scorer);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->runs, 2u);  // both neighbours of r2 tried
  EXPECT_TRUE(r->moves.empty());
  EXPECT_EQ(r->thresholds, f.max);
  EXPECT_DOUBLE_EQ(r->cosine_after, before);
}

TEST(RangeSearch, ThresholdsWithinOnePercentAreOneStep) {
  const Fixture f;
  // A candidate 0.5% away from the start is the same step of the ladder: never tried.
  const std::vector<RangeCandidate> ladder = {{"max", f.max}, {"near", f.with_r2(1.005f)}};
  auto r = search_ranges(f.g, {}, ladder, f.max, f.cosine(f.scorer, f.max), f.scorer);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->runs, 0u);
  EXPECT_TRUE(r->moves.empty());
}

}  // namespace
}  // namespace qmap
