// debug_report: the JSON keeps what the HTML shows, writes no infinity, and the HTML escapes
// node names (a model's names are user input) and draws one chart per histogram / Conv.
#include "report/debug_report.h"

#include <gtest/gtest.h>

#include <limits>

namespace qmap {
namespace {

size_t count(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t pos = text.find(part); pos != std::string::npos; pos = text.find(part, pos + 1)) ++n;
  return n;
}

DebugReport sample_report() {
  DebugReport r;
  r.model = "m";
  r.samples = 2;
  r.sensitivity = {{"conv<b>", "Conv", {"conv<b>", "relu"}, 0.99, 0.01, 20.0},
                   {"add", "Add", {"add"}, 1.0, 0.0, std::numeric_limits<double>::infinity()}};
  r.cumulative.nodes = {{"conv<b>", "Conv", Placement::kNpu, 0, "c", 0.995, 2.5f},
                        {"relu", "Relu", Placement::kNpu, 0, "c", std::nullopt, std::nullopt}};
  r.cumulative.outputs = {{"y", {}}};
  r.histograms = {{"c", 2.f, -1.f, 4.f, 4.f, std::vector<uint64_t>(64, 1), 0.25}};
  r.weights = {{"conv<b>", false, {-1.f, -0.1f}, {1.f, 0.2f}, 5.0}};
  r.suspects = {{"conv<b>", {"conv<b>", "relu"}, 0.99, 20.0, "'c' clips"}};
  r.suspects_yaml = "calibration_parameters:\n  run_on_cpu: 'conv<b>;relu'\n";
  return r;
}

TEST(DebugReport, JsonHasEverySectionAndNoInfinity) {
  const auto j = debug_json(sample_report());
  EXPECT_EQ(j["schema"], kDebugSchema);
  ASSERT_EQ(j["sensitivity"].size(), 2u);
  EXPECT_EQ(j["sensitivity"][0]["rank"], 1);
  EXPECT_EQ(j["sensitivity"][0]["members"], nlohmann::ordered_json({"conv<b>", "relu"}));
  // An output equal to float: infinite SQNR, written as null (JSON has no infinity).
  EXPECT_TRUE(j["sensitivity"][1]["sqnr_db"].is_null());
  EXPECT_TRUE(j["cumulative"][1]["cosine"].is_null());
  EXPECT_TRUE(j["cumulative"][1]["threshold"].is_null());
  EXPECT_EQ(j["histograms"][0]["abs_bins"].size(), 64u);
  EXPECT_EQ(j["weights"][0]["max"], nlohmann::ordered_json({1.f, 0.2f}));
  EXPECT_TRUE(j["suspects_on_cpu"].is_null());
  EXPECT_EQ(j["suspects_int16_yaml"], "");  // no suspect can have an int16 output
  EXPECT_TRUE(j["suspects_int16"].is_null());
  EXPECT_EQ(j["budget_cpu"], nlohmann::ordered_json::array());  // no accuracy budget: empty
  EXPECT_NO_THROW((void)nlohmann::json::parse(j.dump()));
}

// The nodes an accuracy budget kept in float: listed in the JSON and the HTML summary
// (escaped: node names are user input).
TEST(DebugReport, BudgetNodesAreListed) {
  DebugReport r = sample_report();
  r.budget_cpu = {"add<1>", "conv9"};
  EXPECT_EQ(debug_json(r)["budget_cpu"], nlohmann::ordered_json({"add<1>", "conv9"}));
  const std::string html = debug_html(r);
  EXPECT_NE(html.find("kept in float by accuracy_budget"), std::string::npos);
  EXPECT_NE(html.find("2 nodes: add&lt;1&gt;, conv9"), std::string::npos);
  EXPECT_EQ(debug_html(sample_report()).find("kept in float by accuracy_budget"), std::string::npos);
}

TEST(DebugReport, HtmlEscapesNamesAndDrawsEveryChart) {
  const std::string h = debug_html(sample_report());
  EXPECT_EQ(h.find("conv<b>"), std::string::npos) << "a node name reached the page unescaped";
  EXPECT_NE(h.find("conv&lt;b&gt;"), std::string::npos);
  EXPECT_EQ(count(h, "<tr class=\"sens\">"), 2u);
  EXPECT_EQ(count(h, "<tr class=\"cum "), 2u);
  EXPECT_EQ(count(h, "<svg class=\"hist\""), 1u);
  EXPECT_EQ(count(h, "<line class=\"threshold\""), 1u);
  EXPECT_EQ(count(h, "<svg class=\"wrange\""), 1u);
  EXPECT_NE(h.find("id=\"sensitivity-chart\""), std::string::npos);
  EXPECT_NE(h.find("id=\"cumulative-chart\""), std::string::npos);
  // Self-contained: no script, nothing fetched (the SVG namespace URI is a name, not a fetch).
  EXPECT_EQ(h.find("<script"), std::string::npos);
  EXPECT_EQ(count(h, "src="), 0u);
  EXPECT_EQ(count(h, "href="), 0u);
}

TEST(DebugReport, SummaryTextRanksAndShowsTheYaml) {
  const std::string t = debug_summary_text(sample_report(), 1);
  EXPECT_NE(t.find("1 of 2 shown"), std::string::npos) << t;
  EXPECT_NE(t.find("conv<b>"), std::string::npos);
  EXPECT_NE(t.find("run_on_cpu: 'conv<b>;relu'"), std::string::npos);
}

}  // namespace
}  // namespace qmap
