// Shared HTML pieces of the reports (html.h).
#include "report/html.h"

namespace qmap {

std::string html_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&':
        o += "&amp;";
        break;
      case '<':
        o += "&lt;";
        break;
      case '>':
        o += "&gt;";
        break;
      case '"':
        o += "&quot;";
        break;
      case '\'':
        o += "&#39;";
        break;
      default:
        o += c;
    }
  }
  return o;
}

std::string html_table(const std::string& id, const std::vector<std::string>& header,
                       const std::vector<HtmlRow>& rows) {
  std::vector<std::string> cls;
  std::string s = "<table id=\"" + html_escape(id) + "\"><tr>";
  for (const std::string& h : header) {
    const bool text = h.rfind("t:", 0) == 0;
    const std::string name = text ? h.substr(2) : h;
    cls.push_back(text ? (name == "on" ? " class=\"t on\"" : " class=\"t\"") : "");
    s += "<th" + std::string(text ? " class=\"t\"" : "") + ">" + html_escape(name) + "</th>";
  }
  s += "</tr>\n";
  for (const HtmlRow& r : rows) {
    s += r.cls.empty() ? "<tr>" : "<tr class=\"" + html_escape(r.cls) + "\">";
    for (size_t i = 0; i < r.cells.size(); ++i)
      s += "<td" + (i < cls.size() ? cls[i] : std::string()) + ">" + html_escape(r.cells[i]) + "</td>";
    s += "</tr>\n";
  }
  return s + "</table>\n";
}

const char* report_css() {
  return R"(body{font-family:sans-serif;margin:16px;color:#222}
table{border-collapse:collapse;margin:8px 0 16px 0;font-size:12px}
td,th{border:1px solid #bbb;padding:2px 6px;text-align:right}
td.t,th.t{text-align:left}
th{background:#eee}
tr.npu td.on{background:#d8f0dd} tr.cpu td.on{background:#fbe2c8}
.graph svg{max-width:100%;height:auto}
.note{color:#666;font-size:12px}
.grid{display:flex;flex-wrap:wrap;gap:8px}
pre{background:#f4f4f4;padding:6px;font-size:12px})";
}

}  // namespace qmap
