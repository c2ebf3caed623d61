// Calibration table text format (see calib_table.h): writer, strict reader with
// "<file>:<line>:" errors, and the check of a table against a graph.
#include "calib/calib_table.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "calib/statistics.h"
#include "core/file_io.h"

namespace qmap {

namespace {

bool needs_quotes(std::string_view name) {
  if (name.empty()) return true;
  return std::any_of(name.begin(), name.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '"' || c == '#' || c == '\\' || c == '\r' || c == '\n'; });
}

std::string quote_name(std::string_view name) {
  if (!needs_quotes(name)) return std::string(name);
  std::string out = "\"";
  for (char c : name) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  out += '"';
  return out;
}

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r'; }

// A cursor over one line; tokens are separated by spaces/tabs, '#' starts a comment.
struct LineReader {
  std::string_view s;
  size_t pos = 0;

  void skip_space() {
    while (pos < s.size() && is_space(s[pos])) ++pos;
  }
  bool at_end() {
    skip_space();
    return pos >= s.size() || s[pos] == '#';
  }
  std::string_view token() {
    skip_space();
    const size_t start = pos;
    while (pos < s.size() && !is_space(s[pos]) && s[pos] != '#') ++pos;
    return s.substr(start, pos - start);
  }
  // A quoted name with \" \\ \n escapes; false when the closing quote is missing.
  bool quoted(std::string* out) {
    ++pos;  // the opening quote
    while (pos < s.size()) {
      const char c = s[pos++];
      if (c == '"') return true;
      if (c == '\\' && pos < s.size()) {
        const char e = s[pos++];
        *out += e == 'n' ? '\n' : e;
      } else {
        *out += c;
      }
    }
    return false;
  }
};

// "# key: value" header comment; returns the value or nullopt.
std::optional<std::string_view> header_field(std::string_view line, std::string_view key) {
  const std::string prefix = "# " + std::string(key) + ":";
  if (line.substr(0, prefix.size()) != prefix) return std::nullopt;
  std::string_view v = line.substr(prefix.size());
  while (!v.empty() && is_space(v.front())) v.remove_prefix(1);
  while (!v.empty() && is_space(v.back())) v.remove_suffix(1);
  return v;
}

}  // namespace

Thresholds CalibTable::thresholds() const {
  Thresholds t;
  for (const CalibEntry& e : entries) t[e.value] = e.threshold;
  return t;
}

CalibTable make_calib_table(const Graph& g, const Thresholds& thresholds, const std::string& method,
                            size_t num_samples, const std::map<std::string, std::string>& value_methods) {
  CalibTable table;
  table.model = g.name;
  table.method = method;
  table.num_samples = num_samples;
  std::set<std::string> written;
  for (const std::string& name : calibrated_values(g)) {
    auto it = thresholds.find(name);
    if (it == thresholds.end()) continue;
    auto label = value_methods.find(name);
    table.entries.push_back({name, it->second, label == value_methods.end() ? method : label->second});
    written.insert(name);
  }
  for (const auto& [name, t] : thresholds)
    if (written.count(name) == 0) table.entries.push_back({name, t, method});
  return table;
}

std::string format_calib_table(const CalibTable& table) {
  std::string out = "# qmap calibration table\n";
  out += fmt::format("# model: {}\n# method: {}\n# samples: {}\n", table.model, table.method, table.num_samples);
  out += "# <value name> <threshold> [<method>]; edit thresholds here and pass the file back to skip calibration\n";
  for (const CalibEntry& e : table.entries) {
    // fmt's default float format is the shortest text that reads back to the same float.
    out += fmt::format("{} {}", quote_name(e.value), e.threshold);
    if (!e.method.empty()) out += " " + e.method;
    out += '\n';
  }
  return out;
}

Result<CalibTable> parse_calib_table(std::string_view text, const std::string& source) {
  CalibTable table;
  std::set<std::string> seen;
  size_t line_no = 0;
  while (!text.empty()) {
    const size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    auto fail = [&](const std::string& what) {
      return Status::error(fmt::format("calibration table {}:{}: {}", source, line_no, what));
    };
    if (auto v = header_field(line, "model")) table.model = std::string(*v);
    if (auto v = header_field(line, "method")) table.method = std::string(*v);
    if (auto v = header_field(line, "samples")) {
      auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), table.num_samples);
      if (ec != std::errc() || p != v->data() + v->size())
        return fail(fmt::format("samples '{}': not a non-negative integer", *v));
    }
    LineReader r{line};
    if (r.at_end()) continue;
    std::string name;
    if (r.s[r.pos] == '"') {
      if (!r.quoted(&name)) return fail("name has no closing '\"'");
    } else {
      name = std::string(r.token());
    }
    if (r.at_end()) return fail(fmt::format("value '{}' has no threshold: a line is <value name> <threshold> [<method>]", name));
    const std::string_view tt = r.token();
    float t = 0.f;
    auto [p, ec] = std::from_chars(tt.data(), tt.data() + tt.size(), t);
    if (ec != std::errc() || p != tt.data() + tt.size())
      return fail(fmt::format("threshold '{}' of '{}': not a number", tt, name));
    if (!std::isfinite(t) || !(t > 0.f))
      return fail(fmt::format("threshold {} of '{}': must be a finite number > 0", tt, name));
    std::string method;
    if (!r.at_end()) method = std::string(r.token());
    if (!r.at_end()) return fail(fmt::format("unexpected '{}' after the method: a line is <value name> <threshold> [<method>]", r.token()));
    if (!seen.insert(name).second) return fail(fmt::format("value '{}' appears twice", name));
    table.entries.push_back({std::move(name), t, std::move(method)});
  }
  return table;
}

Status write_calib_table(const std::string& path, const CalibTable& table) {
  return write_file_atomic(path, format_calib_table(table));
}

Result<CalibTable> read_calib_table(const std::string& path) {
  Result<std::string> text = read_file(path);
  if (!text.ok()) return text.status().with_context("calibration table: ");
  return parse_calib_table(*text, path);
}

Status check_thresholds_cover(const Graph& g, const Thresholds& thresholds, const std::string& source) {
  const std::vector<std::string> names = calibrated_values(g);
  const std::set<std::string> wanted(names.begin(), names.end());
  for (const auto& [name, t] : thresholds)
    if (wanted.count(name) == 0)
      return error("calibration table {}: value '{}': the model '{}' has no non-constant float value of that name",
                   source, name, g.name);
  for (const std::string& name : names)
    if (thresholds.count(name) == 0)
      return error("calibration table {}: value '{}' of the model has no threshold: every float activation needs one",
                   source, name);
  return ok_status();
}

}  // namespace qmap
