// The files of `qmap perf` (perf_report.h).
#include "report/perf_report.h"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include "report/html.h"
#include "report/text_table.h"

namespace qmap {

namespace {

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

const char* on_name(bool cpu) { return cpu ? "CPU" : "NPU"; }

json dims_json(const std::vector<Dims>& shapes) {
  json a = json::array();
  for (const Dims& d : shapes) a.push_back(d);
  return a;
}

json stats_json(const TimeStats& t) { return {{"median", t.median_us}, {"min", t.min_us}, {"max", t.max_us}}; }

// The time the graph is shaded by: measured when present, else estimated.
double layer_time(const LayerPerf& L) { return L.measured_us ? *L.measured_us : L.est_us; }

double measured_layer_total(const PerfReport& r) {
  double s = 0;
  for (const auto& L : r.layers) s += L.measured_us.value_or(0);
  return s;
}

bool in_scope(const LayerPerf& L, std::optional<int> sg) { return !sg || L.subgraph == *sg; }

std::string esc(const std::string& s) { return html_escape(s); }

std::string shapes_str(const std::vector<Dims>& shapes) {
  std::string s;
  for (const Dims& d : shapes) s += (s.empty() ? "" : ", ") + dims_str(d);
  return s.empty() ? "-" : s;
}

std::string mb(int64_t bytes) { return fmt::format("{:.3f} MB", static_cast<double>(bytes) / 1e6); }

std::string us_text(double us) { return us >= 1000 ? fmt::format("{:.3f} ms", us / 1000) : fmt::format("{:.1f} us", us); }

// Colour of a node or bar: NPU green, CPU orange, lighter for a smaller share (0..1).
std::string shade(bool cpu, double share) {
  const double t = std::clamp(share, 0.0, 1.0);
  const double k = 0.85 - 0.7 * std::sqrt(t);  // how much white is mixed in
  const int r0 = cpu ? 230 : 40, g0 = cpu ? 120 : 150, b0 = cpu ? 20 : 70;
  auto mix = [&](int c) { return static_cast<int>(c + (255 - c) * k); };
  return fmt::format("#{:02x}{:02x}{:02x}", mix(r0), mix(g0), mix(b0));
}

// ---- charts (inline SVG) ----

// Horizontal bars, one per layer: estimated (and measured when present) µs.
std::string time_chart(const PerfReport& r, std::optional<int> sg) {
  std::vector<const LayerPerf*> ls;
  for (const auto& L : r.layers)
    if (in_scope(L, sg)) ls.push_back(&L);
  double mx = 1e-9;
  for (const auto* L : ls) mx = std::max({mx, L->est_us, L->measured_us.value_or(0)});
  const int row = r.measured ? 14 : 9, label_w = 260, bar_w = 520, h = static_cast<int>(ls.size()) * row + 30;
  std::string s = fmt::format(R"(<svg class="chart" id="time-chart" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-size="8" font-family="sans-serif">)",
                              label_w + bar_w + 80, h);
  s += fmt::format(R"(<text x="0" y="10" font-size="10">time per layer, us (max {:.1f}): estimated{}</text>)", mx,
                   r.measured ? " (solid), measured (outlined, grey)" : "");
  int y = 18;
  for (const auto* L : ls) {
    const double we = L->est_us / mx * bar_w;
    s += fmt::format(R"(<text x="{}" y="{}" text-anchor="end">{}</text>)", label_w - 4, y + 7,
                     esc(L->node.size() > 48 ? L->node.substr(0, 45) + "..." : L->node));
    s += fmt::format(R"(<rect x="{}" y="{}" width="{:.2f}" height="7" fill="{}"><title>{} estimated {:.2f} us</title></rect>)",
                     label_w, y, std::max(we, 0.5), shade(L->cpu, 0.8), esc(L->node), L->est_us);
    if (L->measured_us) {
      const double wm = *L->measured_us / mx * bar_w;
      s += fmt::format(R"(<rect x="{}" y="{}" width="{:.2f}" height="5" fill="#bbbbbb" stroke="#555" stroke-width="0.5"><title>{} measured {:.2f} us</title></rect>)",
                       label_w, y + 7, std::max(wm, 0.5), esc(L->node), *L->measured_us);
    }
    y += row;
  }
  return s + "</svg>";
}

// Roofline-style scatter, log-log: arithmetic intensity (operations per byte moved) against
// the rate achieved (GOP/s): estimated points filled, measured hollow; the NPU roofs drawn.
std::string roofline_chart(const PerfReport& r, std::optional<int> sg) {
  struct Pt {
    double ai, rate;
    bool measured, cpu;
    std::string node;
  };
  std::vector<Pt> pts;
  for (const auto& L : r.layers) {
    if (!in_scope(L, sg) || L.ops <= 0) continue;
    const double bytes = static_cast<double>(L.bytes_in + L.bytes_out + L.weight_bytes);
    if (bytes <= 0) continue;
    const double ai = static_cast<double>(L.ops) / bytes;
    if (L.est_us > 0) pts.push_back({ai, static_cast<double>(L.ops) / L.est_us / 1e3, false, L.cpu, L.node});
    if (L.measured_us && *L.measured_us > 0)
      pts.push_back({ai, static_cast<double>(L.ops) / *L.measured_us / 1e3, true, L.cpu, L.node});
  }
  const double peak = r.cost.clock_mhz * static_cast<double>(r.cost.int8_macs_per_cycle) / 1e3;  // GOP/s (MAC = 1 op here)
  double x0 = 0.01, x1 = 1000, y0 = 0.01, y1 = std::max(peak * 2, 1.0);
  for (const auto& p : pts) x0 = std::min(x0, p.ai), x1 = std::max(x1, p.ai), y0 = std::min(y0, p.rate), y1 = std::max(y1, p.rate);
  const int W = 520, H = 320, L = 50, B = 30;
  auto X = [&](double v) { return L + (std::log10(v) - std::log10(x0)) / (std::log10(x1) - std::log10(x0)) * (W - L - 10); };
  auto Y = [&](double v) { return H - B - (std::log10(v) - std::log10(y0)) / (std::log10(y1) - std::log10(y0)) * (H - B - 20); };
  std::string s = fmt::format(R"(<svg class="chart" id="roofline-chart" xmlns="http://www.w3.org/2000/svg" width="{}" height="{}" font-size="9" font-family="sans-serif">)", W, H);
  s += R"(<text x="4" y="12" font-size="10">roofline: operations per byte (x) vs GOP/s (y), log-log; filled: estimated, hollow: measured</text>)";
  s += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#000"/>)", L, H - B, W - 10, H - B);
  s += fmt::format(R"(<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#000"/>)", L, 20, L, H - B);
  for (double d = std::pow(10, std::floor(std::log10(x0))); d <= x1; d *= 10)
    if (d >= x0) s += fmt::format(R"(<text x="{:.1f}" y="{}" text-anchor="middle">{:g}</text>)", X(d), H - B + 12, d);
  for (double d = std::pow(10, std::floor(std::log10(y0))); d <= y1; d *= 10)
    if (d >= y0) s += fmt::format(R"(<text x="{}" y="{:.1f}" text-anchor="end">{:g}</text>)", L - 3, Y(d) + 3, d);
  // Roofs: min(peak, ai * DDR bandwidth).
  const double bw = r.cost.ddr_bandwidth_gbps;
  const double knee = peak / bw;
  if (knee > x0) {
    const double xa = std::max(x0, y0 / bw);
    s += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#c33" stroke-dasharray="4 2"><title>DDR {:g} GB/s</title></line>)",
                     X(xa), Y(xa * bw), X(std::min(knee, x1)), Y(std::min(knee, x1) * bw), bw);
  }
  s += fmt::format(R"(<line x1="{:.1f}" y1="{:.1f}" x2="{:.1f}" y2="{:.1f}" stroke="#c33" stroke-dasharray="4 2"><title>peak {:g} GMAC/s</title></line>)",
                   X(std::clamp(knee, x0, x1)), Y(peak), X(x1), Y(peak), peak);
  for (const auto& p : pts) {
    const std::string col = p.cpu ? "#e07814" : "#28964a";
    s += fmt::format(R"(<circle cx="{:.1f}" cy="{:.1f}" r="3" fill="{}" stroke="{}"><title>{} {}: {:.3g} op/B, {:.3g} GOP/s</title></circle>)",
                     X(p.ai), Y(p.rate), p.measured ? "none" : col, col, esc(p.node), p.measured ? "measured" : "estimated",
                     p.ai, p.rate);
  }
  return s + "</svg>";
}

std::string summary_rows(const PerfReport& r, std::optional<int> sg) {
  std::vector<std::pair<std::string, std::string>> rows;
  rows.emplace_back("model", r.model);
  rows.emplace_back("source", r.source + " (" + r.source_kind + ")");
  rows.emplace_back("march", r.march);
  if (sg) {
    const SubgraphPerf& s = r.subgraphs[static_cast<size_t>(*sg)];
    rows.emplace_back("subgraph", fmt::format("{} on {} (steps {}..{})", s.id, on_name(s.cpu), s.first_step, s.last_step));
    rows.emplace_back("estimated latency", us_text(s.est_us));
    if (s.measured_us) rows.emplace_back("measured latency (sum of the layers' medians)", us_text(*s.measured_us));
    rows.emplace_back("DDR loaded / stored per frame", mb(s.ddr_load_bytes) + " / " + mb(s.ddr_store_bytes));
    rows.emplace_back("weight bytes", mb(s.weight_bytes));
    rows.emplace_back("GOPs per frame", fmt::format("{:.4f}", 2.0 * static_cast<double>(s.macs) / 1e9));
  } else {
    rows.emplace_back("estimated latency", fmt::format("{} (NPU {}, CPU {}, {} switch{} {})", us_text(r.est_total_us),
                                                        us_text(r.est_npu_us), us_text(r.est_cpu_us), r.switches,
                                                        r.switches == 1 ? "" : "es", us_text(r.switch_us)));
    if (r.measured) {
      const auto& m = *r.measured;
      auto st = [](const TimeStats& t) {
        return fmt::format("median {} (min {}, max {})", us_text(t.median_us), us_text(t.min_us), us_text(t.max_us));
      };
      rows.emplace_back(fmt::format("measured latency, total ({} runs, {} thread{}, {})", m.runs, m.threads,
                                    m.threads == 1 ? "" : "s", m.isa),
                        st(m.total));
      rows.emplace_back("measured NPU subgraphs", st(m.npu));
      rows.emplace_back("measured CPU ops", st(m.cpu));
      rows.emplace_back("per-layer sum vs end to end",
                        fmt::format("{} vs {} ({:+.1f} %)", us_text(m.layer_sum_us), us_text(m.total.median_us),
                                    m.total.median_us > 0 ? (m.layer_sum_us / m.total.median_us - 1) * 100 : 0.0));
    }
    rows.emplace_back("DDR occupation per frame", mb(r.ddr_bytes()));
    rows.emplace_back("DDR loaded / stored per frame", mb(r.ddr_load_bytes) + " / " + mb(r.ddr_store_bytes));
    rows.emplace_back("weight bytes", mb(r.weight_bytes));
    rows.emplace_back("peak activation memory (arena)", mb(r.arena_bytes));
    rows.emplace_back("GOPs per frame", fmt::format("{:.4f}", r.gops()));
    rows.emplace_back("layers / subgraphs", fmt::format("{} / {}", r.layers.size(), r.subgraphs.size()));
  }
  std::string s = R"(<table id="summary">)";
  for (const auto& [k, v] : rows) s += fmt::format(R"(<tr><th class="t">{}</th><td class="t">{}</td></tr>)", esc(k), esc(v));
  return s + "</table>\n";
}

std::string layer_table(const PerfReport& r, const SubgraphPerf& sg) {
  const double total = r.measured ? measured_layer_total(r) : 0;
  std::string s = fmt::format(R"(<h3>subgraph {} ({}), steps {}..{}</h3>)", sg.id, on_name(sg.cpu), sg.first_step, sg.last_step);
  s += fmt::format(R"(<table class="layers" id="layers-sg{}"><tr><th>step</th><th class="t">node</th><th class="t">op</th><th class="t">on</th><th class="t">inputs</th><th class="t">outputs</th><th>MACs</th><th>weight B</th><th>bytes in</th><th>bytes out</th><th>DDR load B</th><th>DDR store B</th><th>est. cycles</th><th>est. us</th><th class="t">bound</th>)",
                   sg.id);
  if (r.measured) s += "<th>measured us</th><th>share</th><th>GMAC/s</th>";
  s += "</tr>\n";
  for (int32_t i = sg.first_step; i <= sg.last_step; ++i) {
    const LayerPerf& L = r.layers[static_cast<size_t>(i)];
    s += fmt::format(R"(<tr class="layer {}"><td>{}</td><td class="t">{}</td><td class="t">{}</td><td class="t on">{}</td><td class="t">{}</td><td class="t">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.0f}</td><td>{:.2f}</td><td class="t">{}</td>)",
                     L.cpu ? "cpu" : "npu", L.step, esc(L.node), esc(L.op), on_name(L.cpu), shapes_str(L.in_shapes),
                     shapes_str(L.out_shapes), L.macs, L.weight_bytes, L.bytes_in, L.bytes_out, L.ddr_load_bytes,
                     L.ddr_store_bytes, L.est_cycles, L.est_us, L.bound);
    if (r.measured) {
      const double m = L.measured_us.value_or(0);
      s += fmt::format("<td>{:.2f}</td><td>{:.1f} %</td><td>{}</td>", m, total > 0 ? m / total * 100 : 0.0,
                       L.macs > 0 && m > 0 ? fmt::format("{:.1f}", static_cast<double>(L.macs) / m / 1e3) : "-");
    }
    s += "</tr>\n";
  }
  return s + "</table>\n";
}

}  // namespace

json perf_json(const PerfReport& r, std::optional<int> sg) {
  json j;
  j["schema"] = kPerfSchema;
  j["model"] = r.model;
  j["source"] = r.source;
  j["source_kind"] = r.source_kind;
  j["march"] = r.march;
  j["cost_model"] = {{"clock_mhz", r.cost.clock_mhz},
                     {"int8_macs_per_cycle", r.cost.int8_macs_per_cycle},
                     {"depthwise_macs_per_cycle", r.cost.depthwise_rate()},
                     {"vector_ops_per_cycle", r.cost.vector_rate()},
                     {"ddr_bandwidth_gbps", r.cost.ddr_bandwidth_gbps},
                     {"sram_kib", r.cost.sram_kib},
                     {"sram_bandwidth_gbps", r.cost.sram_bandwidth_gbps},
                     {"cpu_gflops", r.cost.cpu_gflops},
                     {"subgraph_switch_us", r.cost.subgraph_switch_us},
                     {"layer_overhead_us", r.cost.layer_overhead_us},
                     {"simple_ops_per_cycle", r.cost.simple_rate()},
                     {"output_ops_per_cycle", r.cost.output_ops_per_cycle},
                     {"depthwise_channel_cycles", r.cost.depthwise_channel_cycles},
                     {"eval_overhead_us", r.cost.eval_overhead_us},
                     {"cpu_shares_sram", r.cost.cpu_shares_sram},
                     {"conv_pixel_vector", r.cost.conv_pixel_vector},
                     {"conv_row_halo", r.cost.conv_row_halo},
                     {"move_run_cycles", r.cost.move_run_cycles}};
  json sum;
  int npu = 0, cpu = 0;
  for (const auto& s : r.subgraphs) (s.cpu ? cpu : npu)++;
  if (sg) {
    const SubgraphPerf& s = r.subgraphs[static_cast<size_t>(*sg)];
    j["subgraph"] = s.id;
    sum = {{"on", on_name(s.cpu)},
           {"first_step", s.first_step},
           {"last_step", s.last_step},
           {"estimated_latency_us", s.est_us},
           {"measured_latency_us", s.measured_us ? json(*s.measured_us) : json(nullptr)},
           {"macs", s.macs},
           {"gops", 2.0 * static_cast<double>(s.macs) / 1e9},
           {"weight_bytes", s.weight_bytes},
           {"ddr_load_bytes", s.ddr_load_bytes},
           {"ddr_store_bytes", s.ddr_store_bytes},
           {"ddr_bytes", s.ddr_load_bytes + s.ddr_store_bytes}};
  } else {
    sum = {{"estimated_latency_us", r.est_total_us},
           {"estimated_npu_us", r.est_npu_us},
           {"estimated_cpu_us", r.est_cpu_us},
           {"subgraph_switches", r.switches},
           {"switch_us", r.switch_us},
           {"macs", r.macs},
           {"gops", r.gops()},
           {"weight_bytes", r.weight_bytes},
           {"ddr_load_bytes", r.ddr_load_bytes},
           {"ddr_store_bytes", r.ddr_store_bytes},
           {"ddr_bytes", r.ddr_bytes()},
           {"arena_bytes", r.arena_bytes},
           {"layers", r.layers.size()},
           {"npu_subgraphs", npu},
           {"cpu_subgraphs", cpu}};
  }
  j["summary"] = sum;
  if (r.measured && !sg) {
    const auto& m = *r.measured;
    j["measured"] = {{"runs", m.runs},          {"threads", m.threads},          {"isa", m.isa},
                     {"total_us", stats_json(m.total)}, {"npu_us", stats_json(m.npu)}, {"cpu_us", stats_json(m.cpu)},
                     {"layer_sum_us", m.layer_sum_us}};
  } else {
    j["measured"] = nullptr;
  }
  json sgs = json::array();
  for (const auto& s : r.subgraphs) {
    if (sg && s.id != *sg) continue;
    sgs.push_back({{"id", s.id},
                   {"on", on_name(s.cpu)},
                   {"first_step", s.first_step},
                   {"last_step", s.last_step},
                   {"macs", s.macs},
                   {"weight_bytes", s.weight_bytes},
                   {"ddr_load_bytes", s.ddr_load_bytes},
                   {"ddr_store_bytes", s.ddr_store_bytes},
                   {"estimated_us", s.est_us},
                   {"measured_us", s.measured_us ? json(*s.measured_us) : json(nullptr)}});
  }
  j["subgraphs"] = sgs;
  const double total = r.measured ? measured_layer_total(r) : 0;
  json layers = json::array();
  for (const auto& L : r.layers) {
    if (!in_scope(L, sg)) continue;
    json l = {{"step", L.step},
              {"node", L.node},
              {"op", L.op},
              {"kind", L.kind},
              {"on", on_name(L.cpu)},
              {"subgraph", L.subgraph},
              {"unit", L.unit},
              {"input_shapes", dims_json(L.in_shapes)},
              {"output_shapes", dims_json(L.out_shapes)},
              {"macs", L.macs},
              {"ops", L.ops},
              {"weight_bytes", L.weight_bytes},
              {"bytes_in", L.bytes_in},
              {"bytes_out", L.bytes_out},
              {"ddr_load_bytes", L.ddr_load_bytes},
              {"ddr_store_bytes", L.ddr_store_bytes},
              {"sram_bytes", L.sram_bytes},
              {"compute_us", L.compute_us},
              {"memory_us", L.memory_us},
              {"estimated_cycles", L.est_cycles},
              {"estimated_us", L.est_us},
              {"bound", L.bound}};
    if (L.measured_us) {
      l["measured_us"] = *L.measured_us;
      l["share"] = total > 0 ? *L.measured_us / total : 0.0;
      l["gmacs_per_s"] = *L.measured_us > 0 ? static_cast<double>(L.macs) / *L.measured_us / 1e3 : 0.0;
    } else {
      l["measured_us"] = nullptr;
      l["share"] = nullptr;
      l["gmacs_per_s"] = nullptr;
    }
    layers.push_back(std::move(l));
  }
  j["layers"] = layers;
  return j;
}

std::string perf_dot(const PerfReport& r) {
  double total = 0;
  for (const auto& L : r.layers) total += layer_time(L);
  std::string s = "digraph perf {\n  rankdir=TB;\n  node [shape=box, style=\"rounded,filled\", fontname=\"sans-serif\", fontsize=10];\n";
  // The shade is scaled so a step with a quarter of the time or more is fully saturated.
  for (const auto& L : r.layers) {
    const double share = total > 0 ? layer_time(L) / total : 0;
    std::string label = L.node + "\\n" + L.op + " (" + on_name(L.cpu) + ")" + fmt::format("\\n{:.1f} us", layer_time(L));
    for (char& c : label)
      if (c == '"') c = '\'';
    s += fmt::format("  s{} [label=\"{}\", fillcolor=\"{}\", tooltip=\"{:.1f} % of the time\"];\n", L.step, label,
                     shade(L.cpu, share * 4), share * 100);
  }
  for (const auto& [from, to] : r.edges) s += fmt::format("  s{} -> s{};\n", from, to);
  return s + "}\n";
}

Result<std::string> render_dot_svg(const std::string& dot_text) {
  if (std::system("command -v dot >/dev/null 2>&1") != 0)
    return error("perf: graphviz 'dot' not found: the graph picture is skipped (apt-get install graphviz)");
  char in_tmpl[] = "/tmp/qmap_perf_dot_XXXXXX";
  const int fd = mkstemp(in_tmpl);
  if (fd < 0) return error("perf: cannot create a temporary file for dot");
  close(fd);
  const std::string in = in_tmpl, out = in + ".svg";
  std::ofstream(in) << dot_text;
  const std::string cmd = "dot -Tsvg '" + in + "' -o '" + out + "' 2>/dev/null";
  const int st = std::system(cmd.c_str());
  std::string svg;
  if (st == 0) {
    std::ifstream f(out, std::ios::binary);
    svg.assign(std::istreambuf_iterator<char>(f), {});
  }
  fs::remove(in);
  fs::remove(out);
  if (st != 0 || svg.empty()) return error("perf: graphviz 'dot' failed (exit status {})", st);
  return svg;
}

std::string perf_html(const PerfReport& r, const std::string& graph_svg, const std::string& graph_note,
                      std::optional<int> sg) {
  std::string s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>qmap perf: " + esc(r.model) +
                  (sg ? fmt::format(" subgraph {}", *sg) : "") + "</title><style>" + report_css() + "</style></head><body>\n";
  s += "<h1>qmap perf: " + esc(r.model) + (sg ? fmt::format(", subgraph {}", *sg) : "") + "</h1>\n";
  s += "<h2>Summary</h2>\n" + summary_rows(r, sg);
  if (!sg) {
    s += R"(<table id="subgraphs"><tr><th>subgraph</th><th class="t">on</th><th>steps</th><th>MACs</th><th>weight B</th><th>DDR load B</th><th>DDR store B</th><th>est. us</th>)";
    s += r.measured ? "<th>measured us</th></tr>\n" : "</tr>\n";
    for (const auto& g : r.subgraphs) {
      s += fmt::format(R"(<tr class="{}"><td><a href="{}_subgraph_{}.html">{}</a></td><td class="t on">{}</td><td>{}..{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2f}</td>)",
                       g.cpu ? "cpu" : "npu", esc(r.model), g.id, g.id, on_name(g.cpu), g.first_step, g.last_step, g.macs,
                       g.weight_bytes, g.ddr_load_bytes, g.ddr_store_bytes, g.est_us);
      if (r.measured) s += fmt::format("<td>{:.2f}</td>", g.measured_us.value_or(0));
      s += "</tr>\n";
    }
    s += "</table>\n";
  }
  s += "<h2>Charts</h2>\n<div>" + time_chart(r, sg) + "</div>\n<div>" + roofline_chart(r, sg) + "</div>\n";
  s += "<h2>Layers</h2>\n<p class=\"note\">Estimated for march " + esc(r.march) +
       " (docs/perf.md: cost model and formulas). Cycles are NPU clock cycles.</p>\n";
  for (const auto& g : r.subgraphs)
    if (!sg || g.id == *sg) s += layer_table(r, g);
  if (!sg) {
    s += "<h2>Graph</h2>\n<p class=\"note\">NPU green, CPU orange; darker = larger share of the time (" +
         std::string(r.measured ? "measured" : "estimated") + ").</p>\n";
    s += graph_svg.empty() ? "<p class=\"note\" id=\"graph-missing\">" + esc(graph_note) + "</p>\n"
                           : "<div class=\"graph\">" + graph_svg.substr(std::min(graph_svg.find("<svg"), graph_svg.size())) + "</div>\n";
  }
  return s + "</body></html>\n";
}

std::string perf_summary_text(const PerfReport& r) {
  std::vector<TextRow> rows{{"Item", "Value"}};
  rows.push_back({"Model", r.model + " (" + r.source_kind + ")"});
  rows.push_back({"March", r.march});
  rows.push_back({"Estimated latency", us_text(r.est_total_us)});
  rows.push_back({"  NPU subgraphs", us_text(r.est_npu_us)});
  rows.push_back({"  CPU ops", us_text(r.est_cpu_us)});
  rows.push_back({"  NPU/CPU switches", fmt::format("{} x {:g} us", r.switches, r.cost.subgraph_switch_us)});
  if (r.measured) {
    const auto& m = *r.measured;
    auto st = [](const TimeStats& t) {
      return fmt::format("{} (min {}, max {})", us_text(t.median_us), us_text(t.min_us), us_text(t.max_us));
    };
    rows.push_back({fmt::format("Measured latency ({} runs, {} thr, {})", m.runs, m.threads, m.isa), st(m.total)});
    rows.push_back({"  NPU subgraphs", st(m.npu)});
    rows.push_back({"  CPU ops", st(m.cpu)});
  }
  rows.push_back({"DDR occupation per frame", mb(r.ddr_bytes())});
  rows.push_back({"DDR loaded per frame", mb(r.ddr_load_bytes)});
  rows.push_back({"DDR stored per frame", mb(r.ddr_store_bytes)});
  rows.push_back({"Weight bytes", mb(r.weight_bytes)});
  rows.push_back({"Peak activation memory", mb(r.arena_bytes)});
  rows.push_back({"GOPs per frame", fmt::format("{:.4f}", r.gops())});
  rows.push_back({"Layers / subgraphs", fmt::format("{} / {}", r.layers.size(), r.subgraphs.size())});
  return render_text_table(rows);
}

Result<std::string> write_perf_report(const PerfReport& r, const std::string& out_root, std::string* graph_note) {
  std::error_code ec;
  const fs::path root(out_root);
  fs::create_directories(root, ec);
  if (ec || !fs::is_directory(root))
    return error("perf: --output-dir '{}': cannot create: {}", out_root, ec ? ec.message() : "not a folder");
  const fs::path final_dir = root / r.model;
  if (fs::exists(final_dir) && !fs::is_directory(final_dir))
    return error("perf: '{}': exists and is not a folder: the report needs that name", final_dir.string());
  const fs::path tmp = root / fmt::format(".{}.tmp{}", r.model, static_cast<long>(getpid()));
  fs::remove_all(tmp, ec);
  fs::create_directory(tmp, ec);
  if (ec) return error("perf: --output-dir '{}': cannot write: {}", out_root, ec.message());
  auto put = [&](const std::string& name, const std::string& text) -> Status {
    std::ofstream f(tmp / name, std::ios::binary);
    f << text;
    f.close();
    if (!f) return error("perf: '{}': cannot write", (tmp / name).string());
    return ok_status();
  };
  auto body = [&]() -> Status {
    std::string svg;
    const std::string dot = perf_dot(r);
    auto rendered = render_dot_svg(dot);
    if (rendered.ok()) {
      svg = *rendered;
      QMAP_RETURN_IF_ERROR(put(r.model + ".svg", svg));
      if (graph_note) graph_note->clear();
    } else if (graph_note) {
      *graph_note = rendered.status().message();
    }
    QMAP_RETURN_IF_ERROR(put(r.model + ".dot", dot));
    QMAP_RETURN_IF_ERROR(put(r.model + ".json", perf_json(r).dump(2) + "\n"));
    QMAP_RETURN_IF_ERROR(put(r.model + ".html", perf_html(r, svg, graph_note ? *graph_note : "")));
    for (const auto& g : r.subgraphs) {
      const std::string base = fmt::format("{}_subgraph_{}", r.model, g.id);
      QMAP_RETURN_IF_ERROR(put(base + ".json", perf_json(r, g.id).dump(2) + "\n"));
      QMAP_RETURN_IF_ERROR(put(base + ".html", perf_html(r, "", "", g.id)));
    }
    return ok_status();
  };
  const Status st = body();
  if (!st.ok()) {
    fs::remove_all(tmp, ec);
    return st;
  }
  // Replace an older report only now that the new one is complete.
  const fs::path old = root / fmt::format(".{}.old{}", r.model, static_cast<long>(getpid()));
  if (fs::exists(final_dir)) fs::rename(final_dir, old, ec);
  if (!ec) fs::rename(tmp, final_dir, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove_all(tmp, ignored);
    return error("perf: cannot move the report into '{}': {}", final_dir.string(), ec.message());
  }
  fs::remove_all(old, ec);
  return final_dir.string();
}

}  // namespace qmap
