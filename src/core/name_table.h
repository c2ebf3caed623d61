// Name tables for enums that users spell in configs and on the command line
// ("rgb" <-> ColorType::kRgb): one constexpr array per enum gives both directions and the
// "allowed values are ..." list for error messages, so the three cannot drift apart.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace qmap {

template <typename E, size_t N>
using NameTable = std::array<std::pair<E, const char*>, N>;

template <typename E, size_t N>
std::optional<E> parse_name(const NameTable<E, N>& table, std::string_view s) {
  for (const auto& [value, name] : table)
    if (s == name) return value;
  return std::nullopt;
}

template <typename E, size_t N>
const char* name_of(const NameTable<E, N>& table, E value) {
  for (const auto& [v, name] : table)
    if (v == value) return name;
  return "?";
}

// "rgb, bgr, yuv444" — the allowed spellings, in table order.
template <typename E, size_t N>
std::string names_list(const NameTable<E, N>& table) {
  std::string out;
  for (const auto& [value, name] : table) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

}  // namespace qmap
