// Text helpers: list splitting as hb_mapper configs write lists, edit distance on known
// pairs, and the typo suggestion's limits.
#include "core/text.h"

#include <gtest/gtest.h>

namespace qmap {
namespace {

using Strings = std::vector<std::string>;

TEST(Text, TrimAndSplit) {
  EXPECT_EQ(trim("  a b \t\n"), "a b");
  EXPECT_EQ(trim(""), "");
  EXPECT_EQ(split_trimmed(" a ; b;c ", ';'), (Strings{"a", "b", "c"}));
  EXPECT_EQ(split_trimmed("a;;b", ';'), (Strings{"a", "", "b"}));  // empty piece kept
  EXPECT_EQ(split_trimmed("a;", ';'), (Strings{"a", ""}));
  EXPECT_EQ(split_trimmed("   ", ';'), Strings{});
  EXPECT_EQ(split_tokens("1x3x224x224", "x,"), (Strings{"1", "3", "224", "224"}));
  EXPECT_EQ(split_tokens(" 1, 3 ,224,,224 ", "x,"), (Strings{"1", "3", "224", "224"}));
  EXPECT_EQ(split_tokens("123.675  116.28\t103.53", ","), (Strings{"123.675", "116.28", "103.53"}));
}

TEST(Text, EditDistance) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);  // the textbook example
  EXPECT_EQ(edit_distance("mean_valeu", "mean_value"), 1u);  // a swap costs 1
  EXPECT_EQ(edit_distance("nv21", "nv12"), 1u);
  EXPECT_EQ(edit_distance("ca", "abc"), 3u);  // optimal string alignment, not full Damerau (2)
  EXPECT_EQ(edit_distance("flaw", "lawn"), 2u);
}

TEST(Text, ClosestName) {
  const Strings keys = {"mean_value", "scale_value", "norm_type", "input_name"};
  EXPECT_EQ(closest_name("mean_valeu", keys), "mean_value");
  EXPECT_EQ(closest_name("scale", keys), "scale_value");  // prefix
  EXPECT_EQ(closest_name("norm", keys), "norm_type");
  EXPECT_EQ(closest_name("completely_else", keys), std::nullopt);
  EXPECT_EQ(closest_name("xy", keys), std::nullopt);
  EXPECT_EQ(closest_name("O4", Strings{"O0", "O1"}), std::nullopt);  // too short to guess
  EXPECT_EQ(closest_name("nv21", Strings{"rgb", "nv12"}), "nv12");
  // Ties go to the first candidate.
  EXPECT_EQ(closest_name("abc", Strings{"abx", "xbc"}), "abx");
  // Long keys (a mutated config) skip the distance table without changing the answer.
  EXPECT_EQ(closest_name(std::string(5000, 'x'), keys), std::nullopt);
  EXPECT_EQ(closest_name("mean_value" + std::string(40, 'x'), keys), "mean_value");  // suffix garbage
}

TEST(Text, ClosestNameEqualsTheFullSearch) {
  // Against the definition (every candidate's distance computed), on seeded random words over
  // a small alphabet, so prefixes, suffixes and near misses all occur.
  auto reference = [](const std::string& w, const Strings& cands) -> std::optional<std::string> {
    const size_t limit = w.size() <= 2 ? 0 : std::max<size_t>(1, w.size() / 3);
    std::optional<std::string> best;
    size_t best_d = 0;
    for (const std::string& c : cands) {
      const size_t d = edit_distance(w, c);
      const bool affix = w.size() >= 3 && (c.starts_with(w) || c.ends_with(w) || w.starts_with(c) || w.ends_with(c));
      if (d > limit && !affix) continue;
      if (!best || d < best_d) best = c, best_d = d;
    }
    return best;
  };
  uint32_t state = 12345;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  auto word = [&] {
    std::string w(next() % 12, 'a');
    for (char& ch : w) ch = static_cast<char>('a' + next() % 3);
    return w;
  };
  for (int t = 0; t < 2000; ++t) {
    Strings cands;
    for (int k = 0; k < 5; ++k) cands.push_back(word());
    const std::string w = word();
    EXPECT_EQ(closest_name(w, cands), reference(w, cands)) << w;
  }
}

}  // namespace
}  // namespace qmap
