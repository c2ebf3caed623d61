// `qmap infer --model X (--image I | --input F.bin ...)`: runs one input through a model of
// any stage (float ONNX, quantized ONNX, .bin) and prints every output's name and shape, and
// for a classifier output the top-K classes with probabilities and names (docs/eval.md).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/common.h"
#include "cli/image_flags.h"
#include "core/file_io.h"
#include "image/decode.h"
#include "report/text_table.h"
#include "session/classify.h"
#include "session/image_input.h"
#include "session/session.h"

namespace qmap::cli {

namespace {

constexpr const char* kStage = "infer";

struct InferArgs {
  std::string model, image, labels, output_dir, config;
  std::vector<std::string> inputs;
  std::vector<std::string> custom_op_libs;
  size_t top = 5;
  int threads = 1;
  bool profile = false;
  ImageFlags flags;
};

// An output name as a file name: characters other than [A-Za-z0-9._-] become '_'.
std::string file_safe(const std::string& name) {
  std::string out = name.empty() ? "output" : name;
  for (char& c : out)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') c = '_';
  return out;
}

Result<std::vector<Tensor>> make_inputs(const InferArgs& a, const Session& s, const ImageInputOptions& opt,
                                        std::vector<std::string>* sources) {
  std::vector<Tensor> inputs;
  if (!a.image.empty()) {
    if (s.inputs().size() != 1)
      return error("{}: model '{}' has {} inputs: give one --input file per input, in order", kStage, s.path(),
                   s.inputs().size());
    std::vector<InputSpec> config_specs;
    if (!a.config.empty()) {
      QMAP_ASSIGN_OR_RETURN(std::string text, read_file(a.config));
      QMAP_ASSIGN_OR_RETURN(config_specs, parse_stored_input_specs(text, a.config));
    }
    const std::vector<InputSpec> specs = input_specs_for(s, config_specs, opt);
    auto img = read_image(a.image);  // its errors name the image
    if (!img.ok()) return img.status().with_context(fmt::format("{}: ", kStage));
    auto t = image_to_model_input(*img, specs[0], s.inputs()[0], opt);
    if (!t.ok()) return t.status().with_context(fmt::format("{}: image '{}': ", kStage, a.image));
    inputs.push_back(std::move(*t));
    sources->push_back("image '" + a.image + "'");
    return inputs;
  }
  if (a.inputs.size() != s.inputs().size())
    return error("{}: {} --input files for model '{}' with {} inputs: one file per input, in order", kStage,
                 a.inputs.size(), s.path(), s.inputs().size());
  for (size_t k = 0; k < a.inputs.size(); ++k) {
    QMAP_ASSIGN_OR_RETURN(Tensor t, read_raw_input(a.inputs[k], s.inputs()[k]));
    inputs.push_back(std::move(t));
    sources->push_back("file '" + a.inputs[k] + "'");
  }
  return inputs;
}

// The top-K rows of a classifier output.
std::string top_k_table(const Tensor& out, const IoInfo& io, size_t k, const std::vector<std::string>& names) {
  auto scores = classifier_scores(out, io.name);
  if (!scores.ok()) return "";
  const std::vector<double> prob = to_probabilities(*scores);
  std::vector<TextRow> rows{{"Rank", "Class", "Probability", "Name"}};
  const std::vector<int64_t> top = top_k(*scores, k);
  for (size_t r = 0; r < top.size(); ++r) {
    const size_t c = static_cast<size_t>(top[r]);
    rows.push_back({std::to_string(r + 1), std::to_string(c), fmt::format("{:.6f}", prob[c]),
                    c < names.size() ? names[c] : ""});
  }
  return render_text_table(rows);
}

Status write_outputs(const std::string& dir, const Session& s, const std::vector<Tensor>& outs) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec || !std::filesystem::is_directory(dir))
    return error("{}: --output-dir '{}': cannot create: {}", kStage, dir, ec ? ec.message() : "not a folder");
  for (size_t k = 0; k < outs.size(); ++k) {
    // Raw row-major values as numpy's tofile writes them (np.fromfile(path, dtype).reshape(shape)).
    const std::string path = (std::filesystem::path(dir) / (file_safe(s.outputs()[k].name) + ".bin")).string();
    QMAP_RETURN_IF_ERROR(write_file_atomic(
        path, std::string_view(reinterpret_cast<const char*>(outs[k].raw()), outs[k].nbytes())));
  }
  return ok_status();
}

// The per-layer table of one run (Session::profile): step, node, kind, kernel, us, share.
std::string profile_table(const std::vector<StepTime>& steps) {
  double total = 0;
  for (const StepTime& t : steps) total += t.mean_us;
  std::vector<TextRow> rows{{"Step", "Node", "Kind", "Kernel", "Time us", "Share"}};
  for (size_t i = 0; i < steps.size(); ++i)
    rows.push_back({std::to_string(i), steps[i].node, steps[i].kind, steps[i].kernel, fmt::format("{:.2f}", steps[i].mean_us),
                    fmt::format("{:.1f}%", total > 0 ? steps[i].mean_us / total * 100 : 0.0)});
  rows.push_back({"", "total", "", "", fmt::format("{:.2f}", total), "100.0%"});
  return "Per-layer times (one run after a warm-up run, wall clock per step)\n" + render_text_table(rows);
}

Status run_infer(const InferArgs& a) {
  if (a.image.empty() == a.inputs.empty())
    return error("{}: give either --image or --input (one raw file per model input)", kStage);
  if (a.top == 0) return error("{}: --top 0: must be at least 1", kStage);
  QMAP_ASSIGN_OR_RETURN(ImageInputOptions opt, to_image_input_options(kStage, a.flags));
  std::vector<std::string> names;
  if (!a.labels.empty()) {
    QMAP_ASSIGN_OR_RETURN(names, read_class_names(a.labels));
  }
  QMAP_ASSIGN_OR_RETURN(std::unique_ptr<Session> s, Session::open(a.model, {.threads = a.threads, .profile = a.profile, .custom_op_libs = a.custom_op_libs}));
  if (a.profile && s->kind() != "bin")
    return error("{}: --profile: model '{}' is a {}: per-layer times come from the runtime, give the .bin", kStage,
                 a.model, s->kind());
  std::vector<std::string> sources;
  QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> inputs, make_inputs(a, *s, opt, &sources));
  QMAP_ASSIGN_OR_RETURN(std::vector<Tensor> outs, s->run(inputs));

  std::string text = fmt::format("Model: {} ({})\nKernels: {}\n", s->path(), s->kind(), s->kernels());
  for (size_t k = 0; k < inputs.size(); ++k)
    text += fmt::format("Input '{}': {} {} from {}\n", s->inputs()[k].name, dtype_name(inputs[k].dtype()),
                        dims_str(inputs[k].dims()), sources[k]);
  for (size_t k = 0; k < outs.size(); ++k) {
    text += fmt::format("Output '{}': {} {}\n", s->outputs()[k].name, dtype_name(outs[k].dtype()),
                        dims_str(outs[k].dims()));
    if (is_classifier_output(outs[k].dims())) text += top_k_table(outs[k], s->outputs()[k], a.top, names);
  }
  if (a.profile) {
    // The run above was the first: cold caches, first touch of the arena. Run the same input
    // again and report that run alone (the profile holds means over the runs so far).
    const std::vector<StepTime> first = s->profile();
    QMAP_RETURN_IF_ERROR(s->run(inputs).status());
    std::vector<StepTime> second = s->profile();
    for (size_t i = 0; i < second.size() && i < first.size(); ++i)
      second[i].mean_us = std::max(0.0, 2 * second[i].mean_us - first[i].mean_us);
    text += profile_table(second);
  }
  std::fputs(text.c_str(), stdout);
  if (!a.output_dir.empty()) {
    QMAP_RETURN_IF_ERROR(write_outputs(a.output_dir, *s, outs));
    std::printf("Outputs written to '%s' (<output name>.bin, raw row-major)\n", a.output_dir.c_str());
  }
  return ok_status();
}

}  // namespace

void register_infer(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand(
      "infer", "Run one image or raw input through a model of any stage (.onnx float, quantized .onnx, .bin)");
  auto a = std::make_shared<InferArgs>();
  cmd->add_option("--model,-m", a->model, "model: .onnx (float or quantized) or .bin")->required();
  cmd->add_option("--image,-i", a->image, "an image (JPEG/PNG/BMP), preprocessed as the model's YAML says");
  cmd->add_option("--input", a->inputs, "raw input file(s) in the model input's dtype and shape (numpy tofile), one per input");
  cmd->add_option("--labels", a->labels, "class names, one per line (synset_words.txt lines accepted)");
  cmd->add_option("--top", a->top, "classes shown for a classifier output")->default_val(5);
  cmd->add_option("--threads", a->threads, "intra-op threads for a .bin (0: one per core); outputs do not depend on it")
      ->default_val(1)->check(CLI::NonNegativeNumber);
  cmd->add_flag("--profile", a->profile, "print every layer's time for this input (a .bin: the runtime's per-step timer)");
  cmd->add_option("--config,-c", a->config, "makertbin YAML whose input_parameters preprocess the image (models without qmap metadata)");
  cmd->add_option("--output-dir", a->output_dir, "write each output as <name>.bin (raw, numpy tofile)");
  add_custom_op_lib_option(cmd, &a->custom_op_libs);
  add_image_flags(cmd, &a->flags);
  cmd->callback([run, a] {
    *run = [a] {
      const Status s = run_infer(*a);
      return s ? 0 : fail(s);
    };
  });
}

}  // namespace qmap::cli
