// The files of `qmap debug` (debug_report.h).
#include "report/debug_report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/file_io.h"
#include "report/html.h"

namespace qmap {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

// JSON has no infinity (an output equal to float has an infinite SQNR): null then.
json num(double v) { return std::isfinite(v) ? json(v) : json(nullptr); }

const char* on_name(Placement p) { return p == Placement::kNpu ? "NPU" : p == Placement::kCpu ? "CPU" : "--"; }

std::string db(double v) { return std::isfinite(v) ? fmt::format("{:.2f}", v) : v > 0 ? "inf" : "-inf"; }

std::string short_name(const std::string& s) { return s.size() > 40 ? s.substr(0, 37) + "..." : s; }

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : sep) + x;
  return s;
}

// ---- charts (inline SVG) ----

// Horizontal bars, most sensitive first: 1 - output cosine with only that unit quantized.
std::string sensitivity_chart(const DebugReport& r) {
  const size_t n = std::min<size_t>(r.sensitivity.size(), 40);
  double mx = 1e-12;
  for (size_t i = 0; i < n; ++i) mx = std::max(mx, 1 - r.sensitivity[i].cosine);
  const int label_w = 240, bar_w = 480, row = 12;
  std::string s = fmt::format(
      R"(<svg class="chart" id="sensitivity-chart" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-size="9" font-family="sans-serif">)",
      label_w + bar_w + 90, static_cast<int>(n) * row + 24);
  s += fmt::format(
      R"(<text x="0" y="11" font-size="10">1 - output cosine with only that node quantized (max {:.3g}), {} most sensitive</text>)",
      mx, n);
  int y = 18;
  for (size_t i = 0; i < n; ++i) {
    const auto& u = r.sensitivity[i];
    const double w = (1 - u.cosine) / mx * bar_w;
    s += fmt::format(R"(<text x="{}" y="{}" text-anchor="end">{}</text>)", label_w - 4, y + 8,
                     html_escape(short_name(u.node)));
    s += fmt::format(
        R"(<rect x="{}" y="{}" width="{:.2f}" height="9" fill="{}"><title>{}: cosine {:.6f}, SQNR {} dB</title></rect>)",
        label_w, y, std::max(w, 0.5), i < r.suspects.size() ? "#d9534f" : "#5b8dd6", html_escape(u.node), u.cosine,
        db(u.sqnr_db));
    s += fmt::format(R"(<text x="{:.1f}" y="{}">{:.6f}</text>)", label_w + std::max(w, 0.5) + 3, y + 8, u.cosine);
    y += row;
  }
  return s + "</svg>";
}

// The per-node cosine of the full quantized model along the graph (nodes in graph order).
std::string cumulative_chart(const DebugReport& r) {
  std::vector<std::pair<size_t, double>> pts;
  double lo = 1;
  for (size_t i = 0; i < r.cumulative.nodes.size(); ++i)
    if (const auto& c = r.cumulative.nodes[i].cosine) {
      pts.push_back({i, *c});
      lo = std::min(lo, *c);
    }
  lo = std::max(0.0, std::min(lo, 0.999) - (1 - std::min(lo, 0.999)) * 0.1);
  const int W = 760, H = 240, L = 56, B = 24, T = 18;
  const double nx = std::max<double>(1, static_cast<double>(r.cumulative.nodes.size()) - 1);
  auto X = [&](size_t i) { return L + static_cast<double>(i) / nx * (W - L - 10); };
  auto Y = [&](double c) { return T + (1 - c) / (1 - lo) * (H - B - T); };
  std::string s = fmt::format(
      R"(<svg class="chart" id="cumulative-chart" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-size="9" font-family="sans-serif">)",
      W, H);
  s +=
      R"(<text x="4" y="11" font-size="10">cosine of each node's output, full quantized model vs float, in graph order</text>)";
  s += fmt::format(
      R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#000"/><line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#000"/>)",
      L, H - B, W - 10, H - B, L, T, L, H - B);
  for (int k = 0; k <= 4; ++k) {
    const double c = lo + (1 - lo) * k / 4;
    s += fmt::format(
        R"(<text x="{}" y="{:.1f}" text-anchor="end">{:.4f}</text><line x1="{}" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#ddd"/>)",
        L - 3, Y(c) + 3, c, L, Y(c), W - 10, Y(c));
  }
  s += fmt::format(R"(<text x="{}" y="{}" text-anchor="middle">node index (0..{})</text>)", (W + L) / 2, H - 6,
                   r.cumulative.nodes.size() ? r.cumulative.nodes.size() - 1 : 0);
  std::string path;
  for (const auto& [i, c] : pts) path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "" : " ", X(i), Y(c));
  s += R"(<polyline fill="none" stroke="#5b8dd6" stroke-width="1.5" points=")" + path + "\"/>";
  for (const auto& [i, c] : pts)
    s +=
        fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="2" fill="#5b8dd6"><title>{} ({}): {:.6f}</title></circle>)",
                    X(i), Y(c), html_escape(r.cumulative.nodes[i].name), html_escape(r.cumulative.nodes[i].op_type), c);
  return s + "</svg>";
}

// |x| histogram, log-scaled counts, the threshold as a red line.
std::string histogram_chart(const ActivationHistogram& h) {
  const int W = 240, H = 110, T = 24, B = 14;
  const double top = std::max(static_cast<double>(h.abs_max), static_cast<double>(h.threshold));
  const double xmax = top > 0 ? top : 1;
  const double bin_w = h.bins.empty() ? 0 : h.abs_max / static_cast<double>(h.bins.size());
  double cmax = 1;
  for (uint64_t c : h.bins) cmax = std::max(cmax, std::log10(1.0 + static_cast<double>(c)));
  std::string s = fmt::format(
      R"(<svg class="hist" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-size="8" font-family="sans-serif">)",
      W, H);
  s += fmt::format(
      R"(<text x="2" y="9">{}</text><text x="2" y="19" fill="#555">T {:.4g}, max|x| {:.4g}, clipped {:.3f}%</text>)",
      html_escape(short_name(h.value)), h.threshold, h.abs_max, 100 * h.clipped);
  const double plot_w = W - 4, plot_h = H - T - B;
  for (size_t b = 0; b < h.bins.size(); ++b) {
    if (h.bins[b] == 0) continue;
    const double x = 2 + b * bin_w / xmax * plot_w, w = std::max(bin_w / xmax * plot_w, 0.5);
    const double bh = std::log10(1.0 + static_cast<double>(h.bins[b])) / cmax * plot_h;
    s += fmt::format(R"(<rect x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}" fill="#7a9cc6"/>)", x,
                     T + plot_h - bh, w, bh);
  }
  const double tx = 2 + h.threshold / xmax * plot_w;
  s += fmt::format(
      R"(<line class="threshold" x1="{:.2f}" y1="{}" x2="{:.2f}" y2="{:.1f}" stroke="#d9534f" stroke-width="1.5"><title>threshold {:.6g}</title></line>)",
      tx, T - 2, tx, T + plot_h, h.threshold);
  s += fmt::format(
      R"(<text x="2" y="{}" fill="#555">0</text><text x="{}" y="{}" text-anchor="end" fill="#555">{:.4g}</text>)",
      H - 2, W - 2, H - 2, xmax);
  return s + "</svg>";
}

// One bar per output channel from its min to its max weight, zero marked.
std::string weight_chart(const WeightRanges& w) {
  const int W = 360, H = 120, T = 22, B = 6;
  double m = 1e-12;
  for (size_t c = 0; c < w.min.size(); ++c)
    m = std::max({m, -static_cast<double>(w.min[c]), static_cast<double>(w.max[c])});
  const double plot_h = H - T - B, cw = (W - 4.0) / std::max<size_t>(w.min.size(), 1);
  auto Y = [&](double v) { return T + (1 - (v + m) / (2 * m)) * plot_h; };
  std::string s = fmt::format(
      R"(<svg class="wrange" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-size="8" font-family="sans-serif">)",
      W, H);
  s += fmt::format(
      R"(<text x="2" y="9">{}{}</text><text x="2" y="19" fill="#555">{} channels, max|W| {:.4g}, spread {:.1f}x</text>)",
      html_escape(short_name(w.node)), w.depthwise ? " (depthwise)" : "", w.min.size(), m, w.spread);
  s += fmt::format(R"(<line x1="2" y1="{:.1f}" x2="{}" y2="{:.1f}" stroke="#999"/>)", Y(0), W - 2, Y(0));
  for (size_t c = 0; c < w.min.size(); ++c)
    s += fmt::format(
        R"(<rect x="{:.2f}" y="{:.2f}" width="{:.2f}" height="{:.2f}" fill="{}"><title>channel {}: [{:.4g}, {:.4g}]</title></rect>)",
        2 + c * cw, Y(w.max[c]), std::max(cw * 0.8, 0.4), std::max(Y(w.min[c]) - Y(w.max[c]), 0.5),
        std::max(-w.min[c], w.max[c]) > m / 2 ? "#d9534f" : "#6aa870", c, w.min[c], w.max[c]);
  return s + "</svg>";
}

}  // namespace

json debug_json(const DebugReport& r) {
  json j;
  j["schema"] = kDebugSchema;
  j["model"] = r.model;
  j["config"] = r.config;
  j["float_model"] = r.float_model;
  j["quantized_model"] = r.quantized_model;
  j["calibration_table"] = r.calibration_table;
  j["calibration_method"] = r.calibration_method;
  j["budget_cpu"] = r.budget_cpu;
  j["per_channel"] = r.per_channel;
  j["samples"] = r.samples;
  json outs = json::array();
  for (const auto& o : r.cumulative.outputs)
    outs.push_back({{"name", o.name},
                    {"cosine", num(o.distance.cosine)},
                    {"mse", num(o.distance.mse)},
                    {"sqnr_db", num(o.distance.sqnr_db)},
                    {"l1", num(o.distance.l1)},
                    {"l2", num(o.distance.l2)},
                    {"chebyshev", num(o.distance.chebyshev)}});
  j["outputs"] = outs;
  json sens = json::array();
  for (size_t i = 0; i < r.sensitivity.size(); ++i) {
    const auto& u = r.sensitivity[i];
    sens.push_back({{"rank", i + 1},
                    {"node", u.node},
                    {"type", u.op_type},
                    {"members", u.members},
                    {"cosine", num(u.cosine)},
                    {"mse", num(u.mse)},
                    {"sqnr_db", num(u.sqnr_db)}});
  }
  j["sensitivity"] = sens;
  json cum = json::array();
  for (const auto& n : r.cumulative.nodes)
    cum.push_back({{"node", n.name},
                   {"type", n.op_type},
                   {"on", on_name(n.where)},
                   {"subgraph", n.subgraph},
                   {"value", n.value},
                   {"cosine", n.cosine ? num(*n.cosine) : json(nullptr)},
                   {"threshold", n.threshold ? json(*n.threshold) : json(nullptr)}});
  j["cumulative"] = cum;
  json hs = json::array();
  for (const auto& h : r.histograms)
    hs.push_back({{"value", h.value},
                  {"threshold", h.threshold},
                  {"min", h.min},
                  {"max", h.max},
                  {"abs_max", h.abs_max},
                  {"clipped", h.clipped},
                  {"abs_bins", h.bins}});
  j["histograms"] = hs;
  json ws = json::array();
  for (const auto& w : r.weights)
    ws.push_back(
        {{"node", w.node}, {"depthwise", w.depthwise}, {"spread", num(w.spread)}, {"min", w.min}, {"max", w.max}});
  j["weights"] = ws;
  json ss = json::array();
  for (const auto& s : r.suspects)
    ss.push_back({{"node", s.node},
                  {"members", s.members},
                  {"cosine", num(s.cosine)},
                  {"sqnr_db", num(s.sqnr_db)},
                  {"why", s.why}});
  j["suspects"] = ss;
  j["suspects_yaml"] = r.suspects_yaml;
  j["suspects_on_cpu"] = r.suspects_on_cpu_cosine ? json{{"cosine", num(*r.suspects_on_cpu_cosine)},
                                                         {"sqnr_db", num(r.suspects_on_cpu_sqnr_db.value_or(0))}}
                                                  : json(nullptr);
  j["suspects_int16_yaml"] = r.suspects_int16_yaml;
  j["suspects_int16"] = r.suspects_int16_cosine ? json{{"cosine", num(*r.suspects_int16_cosine)},
                                                       {"sqnr_db", num(r.suspects_int16_sqnr_db.value_or(0))}}
                                                : json(nullptr);
  return j;
}

std::string debug_html(const DebugReport& r) {
  const std::string title = "qmap debug: " + html_escape(r.model);
  std::string s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + title +
                  "</title><style>" + report_css() + "</style></head><body>\n<h1>" + title + "</h1>\n";
  s += "<h2>Summary</h2>\n<table id=\"summary\">\n";
  auto row = [&](const std::string& k, const std::string& v) {
    s += "<tr><th class=\"t\">" + html_escape(k) + "</th><td class=\"t\">" + html_escape(v) + "</td></tr>\n";
  };
  row("config", r.config);
  row("float model", r.float_model);
  row("quantized model", r.quantized_model);
  row("calibration table", r.calibration_table + " (method " + r.calibration_method + ")");
  row("weights", r.per_channel ? "per channel" : "per tensor");
  if (!r.budget_cpu.empty())
    row("kept in float by accuracy_budget", fmt::format("{} nodes: {}", r.budget_cpu.size(), fmt::join(r.budget_cpu, ", ")));
  row("samples", fmt::format("{} (spread over the calibration set)", r.samples));
  for (const auto& o : r.cumulative.outputs)
    row("output '" + o.name + "'", fmt::format("cosine {:.6f}, SQNR {} dB, MSE {:.6g}", o.distance.cosine,
                                               db(o.distance.sqnr_db), o.distance.mse));
  if (r.suspects_on_cpu_cosine)
    row(fmt::format("with the {} suspects in float", r.suspects.size()),
        fmt::format("output cosine {:.6f}, SQNR {} dB", *r.suspects_on_cpu_cosine,
                    db(r.suspects_on_cpu_sqnr_db.value_or(0))));
  if (r.suspects_int16_cosine)
    row("with int16 outputs where the suspects can have them",
        fmt::format("output cosine {:.6f}, SQNR {} dB", *r.suspects_int16_cosine,
                    db(r.suspects_int16_sqnr_db.value_or(0))));
  s += "</table>\n";

  s += "<h2>Top suspects</h2>\n";
  std::vector<HtmlRow> rows;
  for (size_t i = 0; i < r.suspects.size(); ++i) {
    const auto& x = r.suspects[i];
    rows.push_back(
        {"suspect",
         {std::to_string(i + 1), join(x.members, " + "), fmt::format("{:.6f}", x.cosine), db(x.sqnr_db), x.why}});
  }
  s += html_table("suspects", {"rank", "t:node", "cosine", "SQNR dB", "t:why"}, rows);
  s += "<p class=\"note\">Keep them in float on the CPU (qmap's higher precision) with these lines in the "
       "makertbin YAML:</p>\n<pre id=\"suspects-yaml\">" +
       html_escape(r.suspects_yaml) + "</pre>\n";
  if (!r.suspects_int16_yaml.empty())
    s += "<p class=\"note\">Or keep them on the NPU with int16 outputs where they can have one (the rest in "
         "float), merged into the YAML's node_info:</p>\n<pre id=\"suspects-int16-yaml\">" +
         html_escape(r.suspects_int16_yaml) + "</pre>\n";

  s += "<h2>Per-node sensitivity</h2>\n<p class=\"note\">Each node (or fused group) quantized alone, every other "
       "node in float; the model outputs against the float model's, mean over the samples.</p>\n<div>" +
       sensitivity_chart(r) + "</div>\n";
  rows.clear();
  for (size_t i = 0; i < r.sensitivity.size(); ++i) {
    const auto& u = r.sensitivity[i];
    rows.push_back({"sens",
                    {std::to_string(i + 1), u.node, u.op_type, join(u.members, ", "), fmt::format("{:.6f}", u.cosine),
                     fmt::format("{:.6g}", u.mse), db(u.sqnr_db)}});
  }
  s += html_table("sensitivity", {"rank", "t:node", "t:type", "t:members", "cosine", "MSE", "SQNR dB"}, rows);

  s += "<h2>Cumulative error</h2>\n<p class=\"note\">The full quantized model (the file) in the integer simulator: "
       "each node's output against float, mean cosine over the samples.</p>\n<div>" +
       cumulative_chart(r) + "</div>\n";
  rows.clear();
  for (const auto& n : r.cumulative.nodes)
    rows.push_back({n.where == Placement::kNpu ? "cum npu" : "cum cpu",
                    {n.name, on_name(n.where), n.op_type, n.cosine ? fmt::format("{:.6f}", *n.cosine) : "--",
                     n.threshold ? fmt::format("{:.6g}", *n.threshold) : "--"}});
  s += html_table("cumulative", {"t:node", "t:on", "t:type", "cosine", "threshold"}, rows);

  s += "<h2>Activation histograms</h2>\n<p class=\"note\">|x| over the samples (log counts); red: the threshold "
       "the quantized model clips at.</p>\n<div class=\"grid\" id=\"histograms\">";
  for (const auto& h : r.histograms) s += histogram_chart(h);
  s += "</div>\n<h2>Weight ranges per output channel</h2>\n<p class=\"note\">Each Conv's weights per output "
       "channel, min to max; red: channels above half the largest. A wide spread starves the other channels of a "
       "per-tensor scale; depthwise layers, with 9 weights per channel, are where it shows first.</p>\n<div "
       "class=\"grid\" id=\"weights\">";
  for (const auto& w : r.weights) s += weight_chart(w);
  return s + "</div>\n</body></html>\n";
}

std::string debug_summary_text(const DebugReport& r, size_t rows) {
  std::vector<TextRow> t{{"Rank", "Node", "Type", "Cosine", "MSE", "SQNR dB"}};
  for (size_t i = 0; i < std::min(rows, r.sensitivity.size()); ++i) {
    const auto& u = r.sensitivity[i];
    t.push_back({std::to_string(i + 1), u.node, u.op_type, fmt::format("{:.6f}", u.cosine),
                 fmt::format("{:.6g}", u.mse), db(u.sqnr_db)});
  }
  std::string s = fmt::format("Per-node sensitivity (only that node quantized, {} samples; {} of {} shown):\n",
                              r.samples, t.size() - 1, r.sensitivity.size());
  s += render_text_table(t);
  for (const auto& o : r.cumulative.outputs)
    s += fmt::format("Full quantized model, output '{}': cosine {:.6f}, SQNR {} dB\n", o.name, o.distance.cosine,
                     db(o.distance.sqnr_db));
  if (!r.suspects.empty()) {
    s += "Top suspects:\n";
    for (size_t i = 0; i < r.suspects.size(); ++i)
      s += fmt::format("  {}. {}: {}\n", i + 1, join(r.suspects[i].members, " + "), r.suspects[i].why);
    s += "To keep them in float on the CPU, in the makertbin YAML:\n" + r.suspects_yaml;
    if (r.suspects_on_cpu_cosine)
      s += fmt::format("which gives output cosine {:.6f}, SQNR {} dB on these samples\n", *r.suspects_on_cpu_cosine,
                       db(r.suspects_on_cpu_sqnr_db.value_or(0)));
    if (!r.suspects_int16_yaml.empty()) {
      s += "Or on the NPU with int16 outputs where they can have one (merged into node_info):\n" +
           r.suspects_int16_yaml;
      if (r.suspects_int16_cosine)
        s += fmt::format("which gives output cosine {:.6f}, SQNR {} dB on these samples\n", *r.suspects_int16_cosine,
                         db(r.suspects_int16_sqnr_db.value_or(0)));
    }
  }
  return s;
}

Result<std::string> write_debug_report(const DebugReport& r, const std::string& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    return error("debug: --output-dir '{}': cannot create: {}", dir, ec ? ec.message() : "not a folder");
  const std::string base = (fs::path(dir) / (r.model + "_debug")).string();
  QMAP_RETURN_IF_ERROR(write_file_atomic(base + ".json", debug_json(r).dump(2) + "\n"));
  QMAP_RETURN_IF_ERROR(write_file_atomic(base + ".html", debug_html(r)));
  return base + ".html";
}

}  // namespace qmap
