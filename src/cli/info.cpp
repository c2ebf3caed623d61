// `qmap info`: what a model holds.
//  - a .bin (docs/format.md; recognized by its magic or the .bin extension): qmap version,
//    march, inputs and outputs (runtime type, layout, shape, dtype, quantization), placement
//    (integer / border / float step counts, NPU and CPU subgraphs), removed nodes, memory
//    plan and the YAML it was built with, like hb_mapper's hb_model_info;
//  - an .onnx: the qmap metadata makertbin stores in its outputs (when present), then the IR
//    text dump after import (opset-17 form, shapes inferred).
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <fstream>

#include <fmt/ranges.h>

#include "cli/commands.h"
#include "config/makertbin_config.h"
#include "cli/common.h"
#include "format/model_bin.h"
#include "program/bin_reader.h"
#include "import/onnx/onnx_import.h"
#include "ops/dump.h"
#include "report/text_table.h"
#include "runtime/model_impl.h"

namespace qmap::cli {

namespace {

std::string quant_text(const ProgramTensor& t) {
  return t.quant ? fmt::format("scale {} zp {}", t.quant->scale, t.quant->zero_point) : "-";
}

// Each line of `text` indented by two spaces (the YAML block stays readable and copyable).
std::string indented(const std::string& text) {
  std::string out;
  size_t start = 0;
  while (start < text.size()) {
    const size_t nl = text.find('\n', start);
    const size_t end = nl == std::string::npos ? text.size() : nl;
    out += "  " + text.substr(start, end - start) + "\n";
    start = end + 1;
  }
  return out;
}

std::string bin_info_text(const LoadedBin& bin, const std::string& path) {
  const IntProgram& p = bin.program;
  const BinMetadata& m = bin.metadata;
  std::string out = fmt::format("model: {} (qmap .bin format v{})\n", path, bin.format_version);
  out += fmt::format("qmap version: {}\nmarch: {}\ncreated by: {}\n\n", m.qmap_version.empty() ? "-" : m.qmap_version,
                     m.march.empty() ? "-" : m.march, m.created_by.empty() ? "-" : m.created_by);

  std::vector<TextRow> io = {{"Name", "I/O", "Type rt", "Layout rt", "Shape", "Data type", "Quantization", "Train"}};
  for (size_t i = 0; i < p.inputs.size(); ++i) {
    const ProgramTensor& t = p.tensors[static_cast<size_t>(p.inputs[i])];
    const BinInputSpec& s = m.inputs[i];
    std::string train = fmt::format("{} {}", color_type_name(s.type_train), layout_name(s.layout_train));
    if (!s.shape.empty()) train += " " + dims_str(s.shape);
    std::string type = color_type_name(s.type_rt);
    if (s.type_rt == ColorType::kYuv444 || s.type_rt == ColorType::kNv12) type += fmt::format(" ({})", color_range_name(s.range));
    io.push_back({t.name, "input", type, layout_name(s.layout_rt), dims_str(t.dims), dtype_name(t.dtype), quant_text(t), train});
  }
  for (int32_t o : p.outputs) {
    const ProgramTensor& t = p.tensors[static_cast<size_t>(o)];
    io.push_back({t.name, "output", "-", "-", dims_str(t.dims), dtype_name(t.dtype), quant_text(t), "-"});
  }
  out += "Inputs and outputs\n" + render_text_table(io) + "\n";

  const ProgramStats st = p.stats();
  const PlacementSummary ps = summarize_placement(bin.placement);
  out += fmt::format("Placement: {} steps: {} integer, {} border (quantize/dequantize), {} float; {} NPU subgraph{}, "
                     "{} CPU subgraph{}\n",
                     p.steps.size(), st.integer_steps, st.border_steps, st.float_steps, ps.npu_subgraphs,
                     ps.npu_subgraphs == 1 ? "" : "s", ps.cpu_subgraphs, ps.cpu_subgraphs == 1 ? "" : "s");
  std::vector<TextRow> sg = {{"Subgraph", "ON", "Steps", "First node", "Last node"}};
  for (size_t i = 0; i < bin.placement.size();) {
    size_t j = i;
    while (j + 1 < bin.placement.size() && bin.placement[j + 1].subgraph == bin.placement[i].subgraph) ++j;
    sg.push_back({std::to_string(bin.placement[i].subgraph), bin.placement[i].cpu ? "CPU" : "NPU",
                  std::to_string(j - i + 1), p.steps[i].node, p.steps[j].node});
    i = j + 1;
  }
  out += render_text_table(sg);
  std::vector<std::string> kinds;
  for (const auto& [k, n] : st.by_kind) kinds.push_back(fmt::format("{} {}", k, n));
  out += fmt::format("Steps by kind: {}\n\n", fmt::join(kinds, ", "));

  // Custom ops the runtime needs plugins for (the .bin names them, never holds their code).
  std::set<std::string> custom;
  for (const Step& s : p.steps)
    if (const auto* op = std::get_if<GenericParams>(&s.params); op && s.op == OpId::Custom)
      custom.insert(fmt::format("{}.{} v{} ({})", op->domain, s.op_type, op->custom_version, op->custom_library));
  out += custom.empty() ? std::string("Custom ops: none\n")
                        : fmt::format("Custom ops (load their plugins with --custom-op-lib): {}\n", fmt::join(custom, ", "));
  out += m.removed_nodes.empty() ? std::string("Removed nodes: none\n")
                                 : fmt::format("Removed nodes: {}\n", fmt::join(m.removed_nodes, ", "));
  if (m.memory_plan) {
    // In place: a step output stored at one of the step's inputs' offsets (format v8; the
    // runtime's check allows no other overlap of tensors alive together).
    const auto& off = m.memory_plan->offsets;
    auto at = [&](int32_t t) {
      return t >= 0 && static_cast<size_t>(t) < off.size() ? off[static_cast<size_t>(t)] : binfmt::kNotInArena;
    };
    int in_place = 0;
    for (const Step& s : p.steps)
      for (int32_t y : s.outputs)
        in_place += at(y) != binfmt::kNotInArena &&
                    std::any_of(s.inputs.begin(), s.inputs.end(), [&](int32_t x) { return at(x) == at(y); });
    out += fmt::format("Memory plan: arena of {} bytes, {} step output{} in place\n", m.memory_plan->arena_bytes,
                       in_place, in_place == 1 ? "" : "s");
  } else {
    out += "Memory plan: none stored (the runtime plans at load)\n";
  }
  std::map<std::string, std::pair<int, uint64_t>> packed;  // ISA -> steps, bytes
  for (const PackedWeights& pw : p.packed) {
    auto& e = packed[pw.layout.substr(0, pw.layout.find('.'))];
    ++e.first;
    e.second += pw.bytes.size();
  }
  std::vector<std::string> packed_text;
  for (const auto& [isa, e] : packed) packed_text.push_back(fmt::format("{} ({} steps, {:.1f} MB)", isa, e.first, e.second / 1e6));
  out += packed.empty() ? std::string("Packed weights: none (a load packs every convolution's weights)\n")
                        : fmt::format("Packed weights (a load on these ISAs adopts them): {}\n", fmt::join(packed_text, ", "));
  out += "\nYAML used:\n" + (m.yaml_text.empty() ? std::string("  (none)\n") : indented(m.yaml_text));
  return out;
}

// The qmap_* metadata_props makertbin writes into its ONNX outputs; empty when there are none.
std::string onnx_qmap_metadata_text(const Graph& g) {
  std::string out;
  for (const auto& [key, value] : g.metadata) {
    if (key.rfind("qmap_", 0) != 0 || key == kMetadataYamlKey) continue;
    out += fmt::format("{}: {}\n", key, value);
  }
  auto yaml = g.metadata.find(kMetadataYamlKey);
  if (yaml != g.metadata.end()) out += "qmap_makertbin_yaml:\n" + indented(yaml->second);
  return out.empty() ? out : "qmap metadata\n" + out + "\n";
}

// The runtime's view of the .bin: the kernel level it loads with and which steps get a fast
// kernel. Loading checks and packs everything, so a .bin the runtime refuses says so here.
std::string runtime_kernels_text(const std::string& path, const std::vector<std::string>& custom_op_libs) {
  std::string cpu;
  for (const std::string& i : rt::Model::available_isas()) cpu += (cpu.empty() ? "" : ", ") + i;
  try {
    rt::LoadOptions load;
    load.custom_op_libs = custom_op_libs;
    load.check_weights = true;
    const rt::Model model = rt::Model::load(path, load);
    std::map<std::string, int> by_kernel;  // convolutions on fast kernels, by kernel
    const std::vector<std::string> kernels = model.impl().exec.step_kernel_names();
    const auto& steps = model.impl().exec.program().steps;
    int convs = 0;
    for (size_t si = 0; si < steps.size(); ++si) {
      if (steps[si].kind != StepKind::kConv && steps[si].kind != StepKind::kConvFloatOut) continue;
      ++convs;
      if (kernels[si] != "ref") ++by_kernel[kernels[si]];
    }
    int fast = 0;
    std::vector<std::string> names;
    for (const auto& [k, n] : by_kernel) fast += n, names.push_back(fmt::format("{} x{}", k, n));
    const size_t adopted = model.impl().exec.adopted_packed_steps();
    return fmt::format("Runtime kernels: {} (this CPU has: {}; QMAP_ISA selects); {} of {} convolutions on fast "
                       "kernels{}{}{}\n",
                       model.isa(), cpu, fast, convs, names.empty() ? "" : ": ", fmt::join(names, ", "),
                       adopted > 0 ? fmt::format("; {} use the file's packed weights", adopted) : std::string());
  } catch (const rt::Error& e) {
    return fmt::format("Runtime kernels: the runtime does not load it: {}\n", e.what());
  }
}

}  // namespace

void register_info(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand("info", "Show what a model holds (.bin or .onnx)");
  struct Args {
    std::string model;
    bool ir = false;
    bool isas = false;
    std::vector<std::string> input_shapes;
    std::vector<std::string> custom_op_libs;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("model", a->model, "model file (.bin or .onnx)");
  cmd->add_flag("--isas", a->isas, "print the runtime kernel levels this CPU has (of ref avx2 avxvnni avx512vnni), then exit");
  cmd->add_flag("--ir", a->ir, "print the IR text dump of the imported model");
  cmd->add_option("--input-shape", a->input_shapes, "NAME SHAPE (e.g. data 1x3x224x224) for a dynamic input")
      ->expected(2)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  add_custom_op_lib_option(cmd, &a->custom_op_libs);
  cmd->callback([run, a] {
    *run = [a] {
      Logger log(stderr, LogLevel::kWarning);
      if (a->isas) {
        std::puts(fmt::format("{}", fmt::join(rt::Model::available_isas(), " ")).c_str());
        return 0;
      }
      if (a->model.empty()) return fail(Status::error("info: a model file is required (or --isas)"));
      if (looks_like_bin(a->model)) {
        auto bin = read_bin_file(a->model);
        if (!bin.ok()) return fail(bin.status());
        std::fputs(bin_info_text(*bin, a->model).c_str(), stdout);
        std::fputs(runtime_kernels_text(a->model, a->custom_op_libs).c_str(), stdout);
        return 0;
      }
      auto shapes = parse_input_shapes(a->input_shapes);
      if (!shapes.ok()) return fail(shapes.status());
      OnnxImportOptions opt;
      opt.input_shapes = *shapes;
      opt.log = &log;
      auto custom_ops = CustomOpSet::load(a->custom_op_libs);
      if (!custom_ops.ok()) return fail(custom_ops.status().with_context("info: "));
      opt.custom_ops = &*custom_ops;
      auto g = import_onnx(a->model, opt);
      if (!g.ok()) return fail(g.status());
      std::fputs(onnx_qmap_metadata_text(*g).c_str(), stdout);
      std::fputs(dump_graph(*g).c_str(), stdout);
      return 0;
    };
  });
}

}  // namespace qmap::cli
