// qmap::rt::Model and Context (include/qmap/runtime.h) over the Executor: Status errors become
// qmap::rt::Error at this boundary.
#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "core/file_io.h"
#include "core/nv12.h"
#include "kernels/ref/qelementwise.h"
#include "runtime/model_impl.h"

namespace qmap::rt {

namespace {

[[noreturn]] void throw_status(const Status& s) { throw Error(s.message()); }

template <typename T>
T value_or_throw(Result<T> r) {
  if (!r.ok()) throw_status(r.status());
  return std::move(r).value();
}

int color_channels(ColorType c) {
  switch (c) {
    case ColorType::kGray: return 1;
    case ColorType::kFeaturemap: return -1;
    default: return 3;
  }
}

TensorDesc describe(const ProgramTensor& pt) {
  TensorDesc d;
  d.name = pt.name;
  d.dtype = static_cast<ElemType>(pt.dtype);
  d.dims = pt.dims;
  if (pt.quant) d.quant = Quantization{pt.quant->scale, pt.quant->zero_point};
  return d;
}

// Height and width of an image input: dims [N, C, H, W] or [N, H, W, C].
struct Hw {
  int64_t n, h, w, c;
};
Hw image_dims(const TensorDesc& d) {
  if (d.layout == Layout::kNCHW) return {d.dims[0], d.dims[2], d.dims[3], d.dims[1]};
  return {d.dims[0], d.dims[1], d.dims[2], d.dims[3]};
}

}  // namespace

const char* elem_type_name(ElemType t) { return dtype_name(static_cast<DType>(t)); }
size_t elem_type_size(ElemType t) { return dtype_size(static_cast<DType>(t)); }

const char* color_type_name(ColorType t) {
  switch (t) {
    case ColorType::kRgb: return "rgb";
    case ColorType::kBgr: return "bgr";
    case ColorType::kYuv444: return "yuv444";
    case ColorType::kNv12: return "nv12";
    case ColorType::kGray: return "gray";
    case ColorType::kFeaturemap: return "featuremap";
  }
  return "?";
}
const char* layout_name(Layout l) { return l == Layout::kNCHW ? "NCHW" : "NHWC"; }

int64_t TensorDesc::elements() const { return num_elements(dims); }
size_t TensorDesc::bytes() const { return static_cast<size_t>(elements()) * elem_type_size(dtype); }
size_t TensorDesc::input_bytes() const {
  if (color != ColorType::kNv12) return bytes();
  const Hw hw = image_dims(*this);
  return static_cast<size_t>(hw.n * hw.h * hw.w * 3 / 2);
}

InputFormat input_format_of(qmap::ColorType type_rt, qmap::Layout layout_rt) {
  InputFormat f;
  switch (type_rt) {
    case qmap::ColorType::kRgb: f.color = ColorType::kRgb; break;
    case qmap::ColorType::kBgr: f.color = ColorType::kBgr; break;
    case qmap::ColorType::kYuv444: f.color = ColorType::kYuv444; break;
    case qmap::ColorType::kNv12: f.color = ColorType::kNv12; break;
    case qmap::ColorType::kGray: f.color = ColorType::kGray; break;
    case qmap::ColorType::kFeaturemap: f.color = ColorType::kFeaturemap; break;
  }
  f.layout = layout_rt == qmap::Layout::kNCHW ? Layout::kNCHW : Layout::kNHWC;
  return f;
}

Result<Model> model_from_program(IntProgram program, const std::vector<InputFormat>& formats, const std::string& name,
                                 const StoredMemoryPlan* stored_plan, std::string makertbin_yaml, kernels::Isa isa,
                                 const std::vector<bool>* checked) {
  std::vector<TensorDesc> inputs, outputs;
  for (size_t i = 0; i < program.inputs.size(); ++i) {
    if (program.inputs[i] < 0 || static_cast<size_t>(program.inputs[i]) >= program.tensors.size()) break;  // prepare reports it
    TensorDesc d = describe(program.tensors[static_cast<size_t>(program.inputs[i])]);
    if (i < formats.size()) d.color = formats[i].color, d.layout = formats[i].layout;
    if (d.color != ColorType::kFeaturemap) {
      const int c = color_channels(d.color);
      if (d.dtype != ElemType::kUInt8 || d.dims.size() != 4 || image_dims(d).c != c)
        return error("runtime: '{}': input '{}' is {} {} but its runtime type {} in {} needs uint8 with {} channel(s) "
                     "on the {} axis",
                     name, d.name, elem_type_name(d.dtype), dims_str(d.dims), color_type_name(d.color),
                     layout_name(d.layout), c, d.layout == Layout::kNCHW ? "second" : "last");
      const Hw hw = image_dims(d);
      if (d.color == ColorType::kNv12 && (hw.h % 2 != 0 || hw.w % 2 != 0))
        return error("runtime: '{}': nv12 input '{}' is {}x{}: NV12 needs an even height and width", name, d.name,
                     hw.h, hw.w);
    }
    inputs.push_back(std::move(d));
  }
  for (int32_t t : program.outputs)
    if (t >= 0 && static_cast<size_t>(t) < program.tensors.size())
      outputs.push_back(describe(program.tensors[static_cast<size_t>(t)]));
  auto ex = Executor::prepare(std::move(program), stored_plan, isa, checked);
  if (!ex.ok()) return ex.status().with_context(fmt::format("'{}': ", name));
  // Names view the executor's program (it keeps it); the first of equal names wins.
  const auto& tensors = ex->program().tensors;
  std::vector<std::pair<std::string_view, size_t>> by_name(tensors.size());
  for (size_t t = 0; t < tensors.size(); ++t) by_name[t] = {tensors[t].name, t};
  std::stable_sort(by_name.begin(), by_name.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return Model(std::make_shared<const Model::Impl>(
      Model::Impl{name, std::move(*ex), std::move(inputs), std::move(outputs), std::move(by_name),
                  std::move(makertbin_yaml)}));
}

// --- Model ---

Model::Model(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}

Result<kernels::Isa> select_isa(const std::string& requested) {
  std::string value = requested;
  if (value.empty())
    if (const char* env = std::getenv("QMAP_ISA")) value = env;
  if (value.empty()) return kernels::best_host_isa();
  kernels::Isa isa{};
  std::string err;
  if (!kernels::parse_isa(value, &isa, &err)) return error("runtime: {}", err);
  return isa;
}

Model Model::load(const std::string& path, const LoadOptions& options) {
  const kernels::Isa isa = value_or_throw(select_isa(options.isa));
  const CustomOpSet custom_ops = value_or_throw(CustomOpSet::load(options.custom_op_libs));
  FileBytes bytes = value_or_throw(options.map_file ? map_file_bytes(path) : read_file_bytes(path));
  std::function<Result<FileBytes>()> copy;
  if (options.map_file) copy = [&] { return read_file_bytes(path); };
  return value_or_throw(load_model_bin(bytes.span(), path, isa, custom_ops, bytes.data, options.check_weights, copy));
}

Model Model::load_from_memory(const void* data, size_t size, const std::string& name, const LoadOptions& options) {
  const kernels::Isa isa = value_or_throw(select_isa(options.isa));
  const CustomOpSet custom_ops = value_or_throw(CustomOpSet::load(options.custom_op_libs));
  return value_or_throw(
      load_model_bin({static_cast<const std::byte*>(data), size}, name, isa, custom_ops, nullptr, options.check_weights));
}

std::string Model::isa() const { return kernels::isa_name(impl_->exec.isa()); }

std::vector<std::string> Model::available_isas() {
  std::vector<std::string> out;
  for (kernels::Isa i : kernels::host_isas()) out.push_back(kernels::isa_name(i));
  return out;
}

const std::vector<TensorDesc>& Model::inputs() const { return impl_->inputs; }
const std::vector<TensorDesc>& Model::outputs() const { return impl_->outputs; }
const std::string& Model::makertbin_yaml() const { return impl_->makertbin_yaml; }

size_t Model::arena_bytes() const { return static_cast<size_t>(impl_->exec.plan().arena_bytes); }

// --- Context ---

struct Context::State {
  std::shared_ptr<const Model::Impl> model;
  ExecState exec;
  std::vector<uint8_t> hwc;  // one yuv444 frame, HWC, for an nv12 input read into NCHW
};

Context::Context(const Model& model, ContextOptions options)
    : s_(nullptr) {
  if (options.threads < 0)
    throw Error(fmt::format("runtime: '{}': threads {}: 0 (one per core) or more", model.impl_->name, options.threads));
  s_.reset(new State{model.impl_, model.impl_->exec.make_state(options.keep_all_tensors, options.threads), {}});
  s_->exec.enable_profile(options.profile);
}

std::vector<Context::StepProfile> Context::profile() const {
  const Executor& ex = s_->model->exec;
  const auto& ns = s_->exec.profile_ns();
  const int64_t runs = s_->exec.profile_runs();
  const std::vector<std::string> kernels = ex.step_kernel_names();
  std::vector<StepProfile> out;
  for (size_t si = 0; si < ex.program().steps.size(); ++si) {
    const Step& s = ex.program().steps[si];
    StepProfile p;
    p.node = s.node;
    p.kind = step_kind_name(s.kind);
    p.kernel = kernels[si];
    if (runs > 0 && si < ns.size()) p.mean_us = static_cast<double>(ns[si]) / 1e3 / static_cast<double>(runs);
    out.push_back(std::move(p));
  }
  return out;
}
Context::Context(Context&&) noexcept = default;
Context& Context::operator=(Context&&) noexcept = default;
Context::~Context() = default;

void Context::set_input(size_t i, const void* data, size_t bytes) {
  const auto& ins = s_->model->inputs;
  if (i >= ins.size())
    throw Error(fmt::format("runtime: input index {} out of range: the model has {} input(s)", i, ins.size()));
  const TensorDesc& d = ins[i];
  if (bytes != d.input_bytes())
    throw Error(fmt::format("runtime: input '{}': got {} bytes, expected {} ({} {} {}{})", d.name, bytes,
                            d.input_bytes(), color_type_name(d.color), elem_type_name(d.dtype), dims_str(d.dims),
                            d.color == ColorType::kNv12 ? " as NV12 frames: N*H*W*3/2 bytes" : ""));
  if (data == nullptr && bytes > 0) throw Error(fmt::format("runtime: input '{}': null data", d.name));
  std::byte* dst = s_->exec.input(i).raw();
  if (d.color != ColorType::kNv12) {
    if (bytes > 0) std::memcpy(dst, data, bytes);
    return;
  }
  // NV12 -> yuv444 exactly as the image pipeline (core/nv12.h), then into the model's layout.
  const Hw hw = image_dims(d);
  const int64_t plane = hw.h * hw.w;
  const auto* src = static_cast<const uint8_t*>(data);
  auto* out = reinterpret_cast<uint8_t*>(dst);
  for (int64_t n = 0; n < hw.n; ++n) {
    const uint8_t* frame = src + n * plane * 3 / 2;
    uint8_t* item = out + n * plane * 3;
    if (d.layout == Layout::kNHWC) {
      nv12_to_yuv444_hwc(frame, hw.h, hw.w, item);
      continue;
    }
    s_->hwc.resize(static_cast<size_t>(plane * 3));
    nv12_to_yuv444_hwc(frame, hw.h, hw.w, s_->hwc.data());
    for (int64_t p = 0; p < plane; ++p)
      for (int64_t c = 0; c < 3; ++c) item[c * plane + p] = s_->hwc[static_cast<size_t>(p * 3 + c)];
  }
}

void Context::set_input(const std::string& name, const void* data, size_t bytes) {
  const auto& ins = s_->model->inputs;
  for (size_t i = 0; i < ins.size(); ++i)
    if (ins[i].name == name) return set_input(i, data, bytes);
  throw Error(fmt::format("runtime: no input named '{}'", name));
}

void Context::run() {
  const Status st = s_->model->exec.run(s_->exec);
  if (!st.ok()) throw_status(st.with_context(fmt::format("'{}': ", s_->model->name)));
}

std::span<const std::byte> Context::output_raw(size_t i) const {
  const IntProgram& p = s_->model->exec.program();
  if (i >= p.outputs.size())
    throw Error(fmt::format("runtime: output index {} out of range: the model has {} output(s)", i, p.outputs.size()));
  const Tensor& t = s_->exec.tensor(static_cast<size_t>(p.outputs[i]));
  return {t.raw(), t.nbytes()};
}

std::vector<float> Context::output_float(size_t i) const {
  const IntProgram& p = s_->model->exec.program();
  output_raw(i);  // range check
  const ProgramTensor& pt = p.tensors[static_cast<size_t>(p.outputs[i])];
  const Tensor& t = s_->exec.tensor(static_cast<size_t>(p.outputs[i]));
  std::vector<float> out(static_cast<size_t>(t.numel()));
  if (t.dtype() == DType::kFloat32) {
    if (!out.empty()) std::memcpy(out.data(), t.raw(), t.nbytes());
  } else if (pt.quant && (t.dtype() == DType::kInt8 || t.dtype() == DType::kUInt8 || t.dtype() == DType::kInt16)) {
    kernels::ref::dequantize({t.raw(), t.dtype() != DType::kUInt8, t.dtype() == DType::kInt16}, t.numel(), pt.quant->scale,
                             pt.quant->zero_point, out.data());
  } else {
    const std::vector<double> v = t.to_double();
    for (size_t k = 0; k < v.size(); ++k) out[k] = static_cast<float>(v[k]);
  }
  return out;
}

std::span<const std::byte> Context::tensor_raw(const std::string& name) const {
  const auto& m = *s_->model;
  auto it = std::lower_bound(m.tensor_by_name.begin(), m.tensor_by_name.end(), std::string_view(name),
                             [](const auto& e, std::string_view n) { return e.first < n; });
  if (it == m.tensor_by_name.end() || it->first != name)
    throw Error(fmt::format("runtime: '{}' has no tensor named '{}'", m.name, name));
  const Storage st = m.exec.plan().storage[it->second];
  if (st == Storage::kUnused || (st == Storage::kArena && !s_->exec.keeps_all()))
    throw Error(fmt::format("runtime: tensor '{}' is not kept after run(): create the Context with keep_all_tensors",
                            name));
  const Tensor& t = s_->exec.tensor(it->second);
  return {t.raw(), t.nbytes()};
}

}  // namespace qmap::rt
