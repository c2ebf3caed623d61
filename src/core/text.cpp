// Text helpers for parsing user input (see text.h).
#include "core/text.h"

#include <algorithm>
#include <cctype>

namespace qmap {

namespace {
bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
}  // namespace

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string> split_trimmed(std::string_view s, char sep) {
  std::vector<std::string> out;
  if (trim(s).empty()) return out;
  size_t start = 0;
  while (true) {
    const size_t end = s.find(sep, start);
    out.emplace_back(trim(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

std::vector<std::string> split_tokens(std::string_view s, std::string_view seps) {
  std::vector<std::string> out;
  std::string cur;
  for (const char c : s) {
    if (is_space(c) || seps.find(c) != std::string_view::npos) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: Levenshtein plus swapping two adjacent characters (the
  // commonest typo, "nv21" for "nv12") at cost 1. Three rows of the table: O(|b|) memory.
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      row[j] = std::min({prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) row[j] = std::min(row[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, row);
  }
  return prev[b.size()];
}

std::optional<std::string> closest_name(std::string_view word, std::span<const std::string> candidates) {
  // Words of one or two characters ("O4") are too short for any edit to mean a typo.
  const size_t limit = word.size() <= 2 ? 0 : std::max<size_t>(1, word.size() / 3);
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (const std::string& c : candidates) {
    const bool affix = word.size() >= 3 && (c.starts_with(word) || c.ends_with(word) ||
                                            word.starts_with(c) || word.ends_with(c));
    // The distance is at least the length difference, and exactly that for a prefix or
    // suffix: a long garbage key costs no table (the config fuzzer's keys reach 8 KiB).
    const size_t diff = word.size() > c.size() ? word.size() - c.size() : c.size() - word.size();
    if (!affix && diff > limit) continue;
    const size_t d = affix ? diff : edit_distance(word, c);
    if (d > limit && !affix) continue;
    if (!best || d < best_distance) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

}  // namespace qmap
