// qmap runtime, C++ API: load a converted model, feed inputs, run, read outputs.
//
//   qmap::rt::Model model = qmap::rt::Model::load("model.bin");
//   qmap::rt::Context ctx(model);                 // one per thread; the model is shared
//   ctx.set_input(0, pixels, model.inputs()[0].input_bytes());
//   ctx.run();
//   std::vector<float> scores = ctx.output_float(0);
//
// Errors (a file that does not load, an input of the wrong size, an index out of range) throw
// qmap::rt::Error with a one-line message naming the file or input, the value and the rule.
// A Model is immutable once loaded and may be used by any number of Contexts on any threads
// at once; a Context is used by one thread at a time. Self-contained: the standard library
// only (the implementation lives in libqmap_runtime).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace qmap::rt {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// This library's version and build: `qmap --version` prints version_text().
struct VersionInfo {
  std::string version;            // the release, "0.1.0"
  std::string git_commit;         // commit the build was configured at (12 hex digits), or "unknown"
  std::string build_type;         // CMake build type: "Release", "Debug", ...
  std::vector<std::string> isas;  // kernel levels compiled in, lowest first: "ref", "avx2", ...
};
VersionInfo version();
// "qmap 0.1.0\ngit commit: ...\nbuild type: Release\nISAs compiled in: ref avx2 avxvnni avx512vnni\n"
std::string version_text();

// Element types, numbered as ONNX TensorProto.DataType (and qmap's IR).
enum class ElemType : int32_t { kFloat32 = 1, kUInt8 = 2, kInt8 = 3, kInt32 = 6, kInt64 = 7, kBool = 9, kFloat64 = 11 };
const char* elem_type_name(ElemType t);  // "float32", "uint8", ...
size_t elem_type_size(ElemType t);       // bytes per element

// What an input carries (the YAML's input_type_rt); outputs are kFeaturemap.
enum class ColorType { kRgb, kBgr, kYuv444, kNv12, kGray, kFeaturemap };
enum class Layout { kNCHW, kNHWC };
const char* color_type_name(ColorType t);  // "rgb", "nv12", ...
const char* layout_name(Layout l);         // "NCHW", "NHWC"

struct Quantization {
  float scale = 1.f;  // real = (q - zero_point) * scale
  int32_t zero_point = 0;
};

struct TensorDesc {
  std::string name;
  ElemType dtype = ElemType::kFloat32;
  std::vector<int64_t> dims;  // the model's tensor; an nv12 input is its yuv444 form
  ColorType color = ColorType::kFeaturemap;
  Layout layout = Layout::kNCHW;
  std::optional<Quantization> quant;  // 8-bit tensors

  int64_t elements() const;
  // Bytes set_input takes (an nv12 input: N * H * W * 3 / 2, the NV12 frames) or
  // output_raw returns (elements * element size).
  size_t input_bytes() const;
  size_t bytes() const;
};

struct LoadOptions {
  // The kernels to run with: "ref" (the scalar reference), "avx2", "avxvnni" or "avx512vnni"; empty: the
  // environment variable QMAP_ISA if set, else the best this CPU has. A level the CPU lacks
  // is an Error naming the value and the levels it has. Every level gives identical outputs.
  std::string isa;
  // Custom-op plugins (include/qmap/custom_op.h, docs/custom-op.md) providing the custom ops the
  // .bin needs: shared libraries loaded with dlopen, in order. A .bin that needs an op none of
  // them provides (domain, type and version) is an Error naming the op and the library it was
  // built with; so is a library that does not load or two that claim one op. A plugin is native
  // code running in this process: load only libraries you trust as you trust this program.
  std::vector<std::string> custom_op_libs;
  // Map the file (mmap) and run its weights where they lie, instead of reading a private copy.
  // Loading then touches only the parts it checks, and the pages are shared by every process
  // that maps the same file. The file must not be modified in place while the model lives
  // (replace it with a rename, as `qmap makertbin` does; as with a shared library, writing
  // into a mapped file changes or, truncated, faults the running model). false: read a copy.
  bool map_file = true;
  // Hash the weights too (the .bin's payload checksum, docs/format.md §2). The structure
  // (every field, offset and size) is always checked and its checksum verified; hashing the
  // weights reads all of them, which costs more than the rest of a load, so it is opt-in here
  // and done by `qmap info` and `qmap verify`.
  bool check_weights = false;
};

class Model {
 public:
  // A .bin file written by `qmap makertbin`. Throws Error naming the file.
  static Model load(const std::string& path, const LoadOptions& options = {});
  static Model load_from_memory(const void* data, size_t size, const std::string& name = "<memory>",
                                const LoadOptions& options = {});

  const std::vector<TensorDesc>& inputs() const;
  const std::vector<TensorDesc>& outputs() const;
  // Bytes of the per-context arena the offline memory plan needs (intermediate tensors).
  size_t arena_bytes() const;
  // The makertbin YAML the .bin was built from (preprocessing, input types); empty for a
  // model built in memory.
  const std::string& makertbin_yaml() const;
  // The kernel level in use ("ref", "avx2", "avxvnni", "avx512vnni") and the levels this CPU has.
  std::string isa() const;
  static std::vector<std::string> available_isas();

  struct Impl;  // the loaded program (src/runtime/model_impl.h)
  explicit Model(std::shared_ptr<const Impl> impl);
  const Impl& impl() const { return *impl_; }

 private:
  friend class Context;
  std::shared_ptr<const Impl> impl_;
};

struct ContextOptions {
  // Every intermediate tensor gets its own memory (no arena reuse), so tensor_raw() can read
  // any of them after run(): per-node comparisons (`qmap verify --all-nodes`).
  bool keep_all_tensors = false;
  // Time every step of every run (Context::profile()); costs two clock reads per step.
  bool profile = false;
  // Intra-op threads for this context's runs (kernels split each step's output over them);
  // 0 = one per core; negative is an Error. Outputs are identical for every thread count.
  int threads = 1;
};

class Context {
 public:
  explicit Context(const Model& model, ContextOptions options = {});  // keeps the model alive
  Context(Context&&) noexcept;
  Context& operator=(Context&&) noexcept;
  ~Context();

  // Copies one input. bytes must equal inputs()[i].input_bytes(); an nv12 input takes NV12
  // frames (Y plane then interleaved UV, per batch item) and is converted to the model's
  // yuv444 layout here.
  void set_input(size_t i, const void* data, size_t bytes);
  void set_input(const std::string& name, const void* data, size_t bytes);
  void run();
  // Output i after run(): dequantized to float (8-bit outputs: (q - zero_point) * scale in
  // float32, as ONNX DequantizeLinear), or as produced (dtype of outputs()[i]).
  std::vector<float> output_float(size_t i) const;
  std::span<const std::byte> output_raw(size_t i) const;
  // Any program tensor by name (keep_all_tensors contexts; graph inputs/outputs always).
  std::span<const std::byte> tensor_raw(const std::string& name) const;

  // With ContextOptions::profile: per step of the program, in execution order, the mean wall
  // time over the runs so far.
  struct StepProfile {
    std::string node;    // the ONNX node the step computes
    std::string kind;    // "conv", "add", "move", "float", ...
    std::string kernel;  // "qu8_conv_gemm__avx512vnni_8x48", "avx2", "ref", ...
    double mean_us = 0;
  };
  std::vector<StepProfile> profile() const;

  struct State;

 private:
  std::unique_ptr<State> s_;
};

}  // namespace qmap::rt
