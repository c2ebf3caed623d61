// Small text helpers for reading user input: trimming, splitting hb_mapper-style lists
// ("a; b", "123.675 116.28 103.53", "1x3x224x224") and suggesting the closest known name
// for a misspelled one ("did you mean 'mean_value'?").
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace qmap {

// `s` without leading and trailing ASCII whitespace.
std::string_view trim(std::string_view s);

// Splits on `sep` and trims each piece. Empty pieces are kept ("a;;b" gives 3 items) so a
// caller can tell "no value for the second input" from a missing separator; an empty or
// all-blank `s` gives no items.
std::vector<std::string> split_trimmed(std::string_view s, char sep);

// Splits on any character of `seps` (and on whitespace), dropping empty pieces:
// split_tokens("1x3x224x224", "x,") == {"1", "3", "224", "224"}.
std::vector<std::string> split_tokens(std::string_view s, std::string_view seps);

// Edit distance: insert, delete, substitute or swap two adjacent characters, each costing 1
// (optimal string alignment), case-sensitive.
size_t edit_distance(std::string_view a, std::string_view b);

// The candidate nearest to `word` by edit distance when it is plausibly a typo: distance
// at most max(1, word.size() / 3) (none for words of 1-2 characters), or `word` (3+
// characters) is a prefix/suffix of it, or the other way round. Ties go to the earliest
// candidate, so the answer is deterministic.
std::optional<std::string> closest_name(std::string_view word, std::span<const std::string> candidates);

}  // namespace qmap
