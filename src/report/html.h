// Pieces shared by qmap's self-contained HTML reports (perf, debug): escaping and the one
// stylesheet, so every report looks the same and none needs a network.
#pragma once

#include <string>
#include <vector>

namespace qmap {

// Text for HTML element content or a quoted attribute: & < > " ' escaped.
std::string html_escape(const std::string& s);

// One table row: its class attribute (may be empty) and its cells as plain text.
struct HtmlRow {
  std::string cls;
  std::vector<std::string> cells;
};

// <table id=...>: a header row, then the rows, every text escaped. A header starting with
// "t:" names a left-aligned text column (class "t"; the prefix is not shown), the others are
// right-aligned numbers; a column headed "t:on" also gets class "on" (placement colours).
std::string html_table(const std::string& id, const std::vector<std::string>& header, const std::vector<HtmlRow>& rows);

// The reports' inline stylesheet (the body of a <style> element).
const char* report_css();

}  // namespace qmap
