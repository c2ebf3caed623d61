// The inside of qmap::rt::Model (include/qmap/runtime.h): a prepared Executor plus the input
// and output descriptions. Also the two ways a Model is made: from a .bin (load_model_bin)
// and from an in-memory IntProgram (model_from_program; the toolchain builds one from a QDQ
// graph with runtime_model_from_qdq_graph, quant/runtime_model.h).
#pragma once

#include <functional>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/color_format.h"
#include "core/file_io.h"
#include "core/status.h"
#include "qmap/runtime.h"
#include "ops/custom/custom_op.h"
#include "program/int_program.h"
#include "runtime/executor.h"

namespace qmap::rt {

// How graph input i is fed (the YAML's input_type_rt / input_layout_rt); inputs without an
// entry are featuremaps.
struct InputFormat {
  ColorType color = ColorType::kFeaturemap;
  Layout layout = Layout::kNCHW;
};

// The toolchain's input_type_rt / input_layout_rt (core/color_format.h, header-only enums)
// as the public API's.
InputFormat input_format_of(qmap::ColorType type_rt, qmap::Layout layout_rt);

struct Model::Impl {
  std::string name;  // the file (for messages)
  Executor exec;
  std::vector<TensorDesc> inputs, outputs;
  // (name, program tensor index) sorted by name; the names view exec's program.
  std::vector<std::pair<std::string_view, size_t>> tensor_by_name;
  std::string makertbin_yaml;  // the .bin's metadata; empty for models built in memory
};

// Prepares the program (every check the kernels rely on) and describes its inputs and
// outputs. Image inputs must be uint8 4-D with the channel count of their color type at the
// layout's channel axis; nv12 inputs need an even height and width.
// stored_plan: a memory plan read from the file, checked (check_memory_plan) and used instead
// of computing one; nullptr: computed at load.
// makertbin_yaml: the YAML the .bin carries (Model::makertbin_yaml).
// isa: the kernels (kernels/isa.h); the runtime picks it with select_isa.
Result<Model> model_from_program(IntProgram program, const std::vector<InputFormat>& formats, const std::string& name,
                                 const StoredMemoryPlan* stored_plan = nullptr, std::string makertbin_yaml = {},
                                 kernels::Isa isa = kernels::Isa::kRef, const std::vector<bool>* checked = nullptr);

// The level LoadOptions::isa names, else QMAP_ISA's, else the best this CPU has. Errors name
// the value and the levels the CPU has.
Result<kernels::Isa> select_isa(const std::string& requested);

// A .bin image: parsed and validated by the format reader, then model_from_program. With an
// `owner` of `bytes` (Model::load's file buffer) the weights alias it instead of copies.
// custom_ops: the plugins that provide the .bin's custom steps (resolve_custom_ops).
// check_weights: verify the payload checksum too (BinReadOptions::check_payload).
// copy_instead (a mapped file): when the kernels will pack weights at load (the file holds
// none packed for `isa`), the file is loaded from the copy this returns instead.
Result<Model> load_model_bin(std::span<const std::byte> bytes, const std::string& name, kernels::Isa isa,
                             const CustomOpSet& custom_ops, std::shared_ptr<std::byte[]> owner = nullptr,
                             bool check_weights = false, const std::function<Result<FileBytes>()>& copy_instead = {});

}  // namespace qmap::rt
