// Pieces shared by qmap's self-contained HTML reports (perf, debug): escaping and the one
// stylesheet, so every report looks the same and none needs a network.
#pragma once

#include <string>

namespace qmap {

// Text for HTML element content or a quoted attribute: & < > " ' escaped.
std::string html_escape(const std::string& s);

// The reports' inline stylesheet (the body of a <style> element).
const char* report_css();

}  // namespace qmap
