// `qmap verify --quantized q.onnx [--bin m.bin] [--input F ...] [--all-nodes]`: the
// bit-exactness check between qmap's integer simulation of the quantized ONNX (IntSimulator)
// and the runtime running the deployed model (libqmap_runtime). Each input set is fed to the
// runtime first (raw bytes in its runtime format: NV12 frames for an nv12 input), and the
// runtime's own converted input buffer is what the simulator receives, so both see the same
// values. Without --input: 5 seeded random input sets (uint8/int8 over the whole type;
// float32 over the first QuantizeLinear's range widened by 10% so saturation is exercised, or
// [-1, 1]). Prints mismatching elements per output (per program tensor with --all-nodes) and
// exits 0 only when every compared byte agrees.
//
// Without --bin the runtime model is built in memory from the same ONNX
// (runtime_model_from_qdq_graph): the runtime's code path against the simulator's, without
// the file format.
#include <CLI/CLI.hpp>

#include <cstring>
#include <random>

#include "cli/commands.h"
#include "cli/common.h"
#include "core/file_io.h"
#include "import/onnx/onnx_import.h"
#include "ops/custom/custom_op.h"
#include "qmap/runtime.h"
#include "quant/int_simulator.h"
#include "quant/runtime_model.h"
#include "report/text_table.h"

namespace qmap::cli {

namespace {

constexpr int kRandomSets = 5;

// Elements whose bytes differ (bit-exact: NaN payloads and signed zeros count).
int64_t count_mismatches(std::span<const std::byte> a, std::span<const std::byte> b, size_t elem) {
  int64_t n = 0;
  for (size_t i = 0; i + elem <= a.size(); i += elem) n += std::memcmp(a.data() + i, b.data() + i, elem) != 0;
  return n;
}

// Random bytes for one runtime input, in its dtype and range (see the file comment).
std::vector<std::byte> random_input(const rt::TensorDesc& d, const IntProgram& p, int32_t tensor, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::byte> out(d.input_bytes());
  if (d.dtype != rt::ElemType::kFloat32) {
    std::uniform_int_distribution<int> byte(0, 255);
    for (auto& b : out) b = static_cast<std::byte>(byte(rng));
    return out;
  }
  float lo = -1.f, hi = 1.f;
  for (const Step& s : p.steps)
    if (s.kind == StepKind::kQuantize && s.inputs[0] == tensor) {
      const ProgramTensor& q = p.tensors[static_cast<size_t>(s.outputs[0])];
      const bool sg = q.dtype != DType::kUInt8, wide = q.dtype == DType::kInt16;
      lo = 1.1f * static_cast<float>(kernels::ref::q_min(sg, wide) - q.quant->zero_point) * q.quant->scale;
      hi = 1.1f * static_cast<float>(kernels::ref::q_max(sg, wide) - q.quant->zero_point) * q.quant->scale;
      break;
    }
  std::uniform_real_distribution<float> u(lo, hi);
  for (size_t i = 0; i + 4 <= out.size(); i += 4) {
    const float v = u(rng);
    std::memcpy(out.data() + i, &v, 4);
  }
  return out;
}

struct Tally {
  int64_t elements = 0, mismatches = 0;
};

int run_verify(const std::string& quantized, const std::string& bin, const std::vector<std::string>& input_files,
               bool all_nodes, const std::vector<std::string>& custom_op_libs) {
  // Custom ops run in both engines with the same plugin kernel (float steps, so the
  // comparison stays bit-exact).
  auto custom_ops = CustomOpSet::load(custom_op_libs);
  if (!custom_ops.ok()) return fail(custom_ops.status().with_context("verify: "));
  OnnxImportOptions import;
  import.custom_ops = &*custom_ops;
  auto g = import_onnx(quantized, import);
  if (!g.ok()) return fail(g.status());
  auto sim = IntSimulator::create(*g, all_nodes);
  if (!sim.ok()) return fail(sim.status().with_context(fmt::format("verify: '{}': ", quantized)));
  const IntProgram& p = sim->program();
  std::optional<rt::Model> model;
  try {
    if (!bin.empty()) {
      rt::LoadOptions load;
      load.custom_op_libs = custom_op_libs;
      load.check_weights = true;  // verify vouches for the file: hash its weights too
      model = rt::Model::load(bin, load);
    } else {
      auto m = runtime_model_from_qdq_graph(*g, quantized);
      if (!m.ok()) return fail(m.status());
      model = std::move(*m);
      std::printf("verify: no --bin: the runtime model is built in memory from %s\n", quantized.c_str());
    }
  } catch (const rt::Error& e) {
    return fail(Status::error(e.what()));
  }
  const auto& ins = model->inputs();
  if (ins.size() != p.inputs.size())
    return fail(error("verify: '{}' has {} input(s), '{}' has {}", bin, ins.size(), quantized, p.inputs.size()));
  for (size_t i = 0; i < ins.size(); ++i) {
    const ProgramTensor& pt = p.tensors[static_cast<size_t>(p.inputs[i])];
    if (ins[i].name != pt.name || ins[i].dims != pt.dims || static_cast<DType>(ins[i].dtype) != pt.dtype)
      return fail(error("verify: input {} is '{}' {} {} in '{}' but '{}' {} {} in '{}'", i, ins[i].name,
                        rt::elem_type_name(ins[i].dtype), dims_str(ins[i].dims), bin, pt.name, dtype_name(pt.dtype),
                        dims_str(pt.dims), quantized));
  }
  if (!input_files.empty() && input_files.size() != ins.size())
    return fail(error("verify: {} --input file(s) for a model with {} input(s): one per input, in order",
                      input_files.size(), ins.size()));

  // Input sets: the files given, or seeded random bytes.
  std::vector<std::vector<std::vector<std::byte>>> sets;
  if (!input_files.empty()) {
    std::vector<std::vector<std::byte>> set;
    for (const std::string& f : input_files) {
      auto bytes = read_file(f);
      if (!bytes.ok()) return fail(bytes.status());
      const auto* b = reinterpret_cast<const std::byte*>(bytes->data());
      set.emplace_back(b, b + bytes->size());
    }
    sets.push_back(std::move(set));
  } else {
    for (int k = 0; k < kRandomSets; ++k) {
      std::vector<std::vector<std::byte>> set;
      for (size_t i = 0; i < ins.size(); ++i)
        set.push_back(random_input(ins[i], p, p.inputs[i], 1000u * static_cast<uint32_t>(k + 1) + static_cast<uint32_t>(i)));
      sets.push_back(std::move(set));
    }
  }

  std::vector<Tally> out_tally(p.outputs.size()), node_tally(p.tensors.size());
  std::vector<bool> node_missing(p.tensors.size(), false);
  try {
    rt::Context ctx(*model, {.keep_all_tensors = all_nodes});
    for (size_t k = 0; k < sets.size(); ++k) {
      std::vector<Tensor> sim_in;
      for (size_t i = 0; i < ins.size(); ++i) {
        ctx.set_input(i, sets[k][i].data(), sets[k][i].size());
        // The runtime's converted input (nv12 -> yuv444 in the model's layout) feeds the simulator.
        const auto conv = ctx.tensor_raw(ins[i].name);
        Tensor t = Tensor::uninitialized(static_cast<DType>(ins[i].dtype), ins[i].dims);
        std::memcpy(t.raw(), conv.data(), conv.size());
        sim_in.push_back(std::move(t));
      }
      ctx.run();
      auto want = sim->run(sim_in);
      if (!want.ok()) return fail(want.status());
      for (size_t o = 0; o < p.outputs.size(); ++o) {
        const Tensor& w = (*want)[o];
        const auto got = ctx.output_raw(o);
        if (got.size() != w.nbytes())
          return fail(error("verify: output '{}' is {} bytes in the runtime, {} in the simulator", model->outputs()[o].name,
                            got.size(), w.nbytes()));
        out_tally[o].elements += w.numel();
        out_tally[o].mismatches += count_mismatches(got, {w.raw(), w.nbytes()}, dtype_size(w.dtype()));
      }
      if (!all_nodes) continue;
      for (size_t t = 0; t < p.tensors.size(); ++t) {
        const Tensor& w = sim->raw_values()[t];
        if (!w.defined() || p.tensors[t].constant) continue;
        std::span<const std::byte> got;
        try {
          got = ctx.tensor_raw(p.tensors[t].name);
        } catch (const rt::Error&) {
          node_missing[t] = true;
          continue;
        }
        node_tally[t].elements += w.numel();
        node_tally[t].mismatches +=
            got.size() != w.nbytes() ? w.numel() : count_mismatches(got, {w.raw(), w.nbytes()}, dtype_size(w.dtype()));
      }
    }
  } catch (const rt::Error& e) {
    return fail(Status::error(e.what()));
  }

  bool all_match = true;
  if (all_nodes) {
    std::vector<TextRow> rows{{"Tensor", "Type", "Elements", "Mismatches"}};
    for (size_t t = 0; t < p.tensors.size(); ++t) {
      if (node_missing[t]) {
        rows.push_back({p.tensors[t].name, dtype_name(p.tensors[t].dtype), "-", "missing in the runtime"});
        all_match = false;
      } else if (node_tally[t].elements > 0 || (sim->raw_values()[t].defined() && !p.tensors[t].constant)) {
        rows.push_back({p.tensors[t].name, dtype_name(p.tensors[t].dtype), std::to_string(node_tally[t].elements),
                        std::to_string(node_tally[t].mismatches)});
        all_match = all_match && node_tally[t].mismatches == 0;
      }
    }
    std::fputs(render_text_table(rows).c_str(), stdout);
  }
  std::vector<TextRow> rows{{"Output", "Type", "Elements", "Mismatches"}};
  for (size_t o = 0; o < p.outputs.size(); ++o) {
    const ProgramTensor& pt = p.tensors[static_cast<size_t>(p.outputs[o])];
    rows.push_back({pt.name, dtype_name(pt.dtype), std::to_string(out_tally[o].elements),
                    std::to_string(out_tally[o].mismatches)});
    all_match = all_match && out_tally[o].mismatches == 0;
  }
  std::fputs(render_text_table(rows).c_str(), stdout);
  const std::string what = input_files.empty() ? fmt::format("{} seeded random input sets", sets.size()) : "the given input";
  if (all_match) {
    std::printf("verify: PASS: the runtime and the simulator agree bit for bit on %s\n", what.c_str());
    return 0;
  }
  std::printf("verify: FAIL: the runtime and the simulator differ on %s\n", what.c_str());
  return 1;
}

}  // namespace

void register_verify(CLI::App& app, Runner* run) {
  auto* cmd = app.add_subcommand("verify", "Check that the runtime and the integer simulator agree bit for bit");
  struct Args {
    std::string quantized, bin;
    std::vector<std::string> inputs;
    bool all_nodes = false;
    std::vector<std::string> custom_op_libs;
  };
  auto a = std::make_shared<Args>();
  cmd->add_option("--quantized", a->quantized, "the _quantized_model.onnx makertbin wrote")->required();
  cmd->add_option("--bin", a->bin, "the .bin to run in the runtime (default: built in memory from --quantized)");
  cmd->add_option("--input", a->inputs,
                  "raw input file, one per model input in order, in the runtime format (nv12: NV12 frames)");
  cmd->add_flag("--all-nodes", a->all_nodes, "compare every intermediate tensor, not only the outputs");
  add_custom_op_lib_option(cmd, &a->custom_op_libs);
  cmd->callback([run, a] {
    *run = [a] { return run_verify(a->quantized, a->bin, a->inputs, a->all_nodes, a->custom_op_libs); };
  });
}

}  // namespace qmap::cli
