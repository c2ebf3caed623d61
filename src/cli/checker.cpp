// `qmap checker`: can this model run on this march, and where does each node run?
// Prints hb_mapper's node table (Node, ON, Subgraph, Type, note) between timestamped INFO
// lines, to stdout and qmap_checker.log (and --output). Any error is one
// `ERROR <message>` line on stderr and in the log, exit code 1.
#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/log.h"
#include "import/import_model.h"
#include "ops/custom/custom_op.h"
#include "ops/registry.h"
#include "quant/checker_placement.h"
#include "report/text_table.h"
#include "target/placement.h"
#include "target/spec_doc.h"
#include "target/target_spec.h"

namespace qmap::cli {

namespace {

constexpr const char* kLogFile = "qmap_checker.log";

struct CheckerArgs {
  std::string model_type;
  std::string model;
  std::string proto;  // Caffe: the deploy .prototxt (--model is the .caffemodel)
  std::string march;
  std::vector<std::string> input_shapes;  // NAME SHAPE pairs, flattened
  std::string output;
  std::vector<std::string> custom_op_libs;
  bool print_spec_md = false;
};

// The log: console (stdout) plus qmap_checker.log and --output. Errors go to stderr and the
// files only, so the terminal shows the one ERROR line once.
class CheckerLog {
 public:
  Status open(const std::vector<std::string>& files) {
    for (const std::string& f : files) {
      QMAP_RETURN_IF_ERROR(log_.add_file(f));
      files_.push_back(f);
    }
    return ok_status();
  }
  Logger& logger() { return log_; }
  int fail(const std::string& message) {
    std::fprintf(stderr, "ERROR %s\n", message.c_str());
    // Logger has no files-only level; append to the same files (each line is flushed, and
    // nothing is logged after the error).
    for (const std::string& f : files_) {
      if (FILE* fp = std::fopen(f.c_str(), "a")) {
        std::fprintf(fp, "%s ERROR %s\n", log_timestamp().c_str(), message.c_str());
        std::fclose(fp);
      }
    }
    return 1;
  }

 private:
  Logger log_{stdout, LogLevel::kInfo};
  std::vector<std::string> files_;
};

// hb_mapper's checker table: Node, ON, Subgraph, Type, and why a node is not on the NPU.
std::string node_table(const Graph& g, const GraphPlacement& pl) {
  std::vector<TextRow> rows;
  rows.push_back({"Node", "ON", "Subgraph", "Type", "Note"});
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    const NodePlacement& p = pl.nodes[i];
    switch (p.where) {
      case Placement::kNpu:
        rows.push_back({n.name, "NPU", fmt::format("id({})", p.subgraph), n.op_type, ""});
        break;
      case Placement::kCpu:
        // A custom node names itself as one: "Normalize (custom)".
        rows.push_back({n.name, "CPU", "--", n.op == OpId::Custom ? n.op_type + " (custom)" : n.op_type, p.reason});
        break;
      case Placement::kFolded:
      case Placement::kRemoved:
        rows.push_back({n.name, "--", "--", placement_name(p.where), fmt::format("{}: {}", n.op_type, p.reason)});
        break;
      case Placement::kUnsupported:
        rows.push_back({n.name, "--", "--", n.op_type, p.reason});
        break;
    }
  }
  return render_text_table(rows);
}

std::string unsupported_message(const std::vector<std::string>& ops) {
  return fmt::format("qmap does not support these operators: {{{}}}", fmt::join(ops, ", "));
}

int print_spec_md(const CheckerArgs& a) {
  std::vector<std::string> marches = a.march.empty() ? embedded_target_names() : std::vector<std::string>{a.march};
  std::vector<TargetSpec> specs;
  for (const std::string& m : marches) {
    // The docs describe the spec text; whether its ops exist in this IR is the checker's
    // business (and a unit test's), so an IR still missing some ops can regenerate them.
    Result<TargetSpec> spec = load_target_spec(m, SpecLoadOptions{.require_registered_ops = false});
    if (!spec) {
      std::fprintf(stderr, "ERROR %s\n", spec.status().message().c_str());
      return 1;
    }
    specs.push_back(std::move(*spec));
  }
  std::fputs(targets_markdown(specs).c_str(), stdout);
  return 0;
}

int run_checker(const CheckerArgs& a) {
  if (a.print_spec_md) return print_spec_md(a);
  CheckerLog log;
  // Argument errors come before the log exists; they still get the one-line form.
  if (a.model.empty() || a.march.empty() || a.model_type.empty())
    return log.fail("checker: --model-type, --model and --march are required");
  std::vector<std::string> files = {kLogFile};
  if (!a.output.empty() && a.output != kLogFile) files.push_back(a.output);
  if (Status s = log.open(files); !s) return log.fail(s.message());
  Logger& L = log.logger();

  L.info("Start qmap checker....");
  L.info("qmap version {}", QMAP_VERSION);
  L.info("log will be stored in {}", fmt::join(files, " and "));
  L.info("Model type: {}", a.model_type);
  L.info("model: {}", a.model);
  L.info("march: {}", a.march);
  if (a.model_type == "caffe") {
    if (a.proto.empty()) return log.fail("checker: --model-type caffe needs --proto (the deploy .prototxt) and --model (the .caffemodel)");
    L.info("proto: {}", a.proto);
  } else if (!a.proto.empty()) {
    return log.fail("checker: --proto applies to --model-type caffe only");
  }

  Result<std::map<std::string, Dims>> shapes = parse_input_shapes(a.input_shapes);
  if (!shapes) return log.fail("checker: " + shapes.status().message());
  for (const auto& [name, dims] : *shapes) L.info("input shape override: {} {}", name, dims_str(dims));

  Result<TargetSpec> spec = load_target_spec(a.march);
  if (!spec) return log.fail(spec.status().message());
  L.info("target spec: {} ({} NPU ops, {} CPU-only ops)", spec->source, spec->npu_ops.size(), spec->cpu_ops.size());

  L.info("Begin model checking....");
  Result<CustomOpSet> custom_ops = CustomOpSet::load(a.custom_op_libs);
  if (!custom_ops) return log.fail("checker: " + custom_ops.status().message());
  for (const auto& op : custom_ops->ops())
    L.info("custom op {} version {} from {}: {}", op->qualified_name(), op->version, op->library, op->summary);
  std::vector<std::string> unknown_ops;
  const Result<Graph> imported =
      import_model(a.model_type == "caffe" ? ModelType::kCaffe : ModelType::kOnnx, {.model = a.model, .proto = a.proto},
                   {.input_shapes = *shapes, .log = &L, .unsupported_ops = &unknown_ops, .custom_ops = &*custom_ops});
  if (!imported) {
    if (!unknown_ops.empty()) return log.fail(unsupported_message(unknown_ops));
    return log.fail(imported.status().message());
  }
  const Graph& graph = *imported;

  for (ValueId v : graph.inputs) {
    const Value& in = graph.value(v);
    L.info("input '{}': {} {}", in.name, dtype_name(in.dtype), in.dims ? dims_str(*in.dims) : "unknown shape");
  }
  for (ValueId v : graph.outputs) {
    const Value& out = graph.value(v);
    L.info("output '{}': {} {}", out.name, dtype_name(out.dtype), out.dims ? dims_str(*out.dims) : "unknown shape");
  }
  L.info("opset: {} (IR), {} nodes", graph.onnx_opset, graph.nodes.size());

  const GraphPlacement march = place_graph(graph, *spec);
  if (!march.unsupported_ops.empty()) {
    for (size_t i = 0; i < graph.nodes.size(); ++i)
      if (march.nodes[i].where == Placement::kUnsupported)
        L.info("node '{}' ({}): {}", graph.nodes[i].name, graph.nodes[i].op_type, march.nodes[i].reason);
    return log.fail(unsupported_message(march.unsupported_ops));
  }
  // makertbin's placement (the march's rules, then the ops without an integer form on the
  // CPU), shown on the nodes of the model as given.
  Result<GraphPlacement> placed = checker_placement(graph, *spec);
  if (!placed) return log.fail(placed.status().message());
  const GraphPlacement& pl = *placed;
  L.info("The converted model node information:");
  L.raw(node_table(graph, pl));
  const int npu = pl.count(Placement::kNpu), cpu = pl.count(Placement::kCpu);
  const int folded = pl.count(Placement::kFolded), removed = pl.count(Placement::kRemoved);
  L.info("{} nodes: {} on NPU in {} subgraph{}, {} on CPU, {} folded, {} removed", graph.nodes.size(), npu,
         pl.num_subgraphs, pl.num_subgraphs == 1 ? "" : "s", cpu, folded, removed);
  L.info("End model checking....");
  return 0;
}

}  // namespace

void register_checker(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand("checker", "Check which nodes of a model run on the NPU of a march");
  auto a = std::make_shared<CheckerArgs>();
  cmd->add_option("--model-type", a->model_type, "model format")->check(CLI::IsMember({"onnx", "caffe"}));
  cmd->add_option("--model", a->model, "model file (.onnx, or the .caffemodel with --model-type caffe)");
  cmd->add_option("--proto", a->proto, "Caffe deploy .prototxt (with --model-type caffe)");
  cmd->add_option("--march", a->march,
                  fmt::format("built-in march name ({}) or a path to a spec .yaml", fmt::join(embedded_target_names(), ", ")));
  cmd->add_option("--input-shape", a->input_shapes, "NAME SHAPE: fix an input's shape, e.g. data 1x3x224x224")
      ->expected(2)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd->add_option("--output", a->output, "also write the log to this file");
  add_custom_op_lib_option(cmd, &a->custom_op_libs);
  cmd->add_flag("--print-spec-md", a->print_spec_md,
                "print docs/targets.md generated from the built-in specs (or --march) and exit");
  cmd->callback([run, a] { *run = [a] { return run_checker(*a); }; });
}

}  // namespace qmap::cli
