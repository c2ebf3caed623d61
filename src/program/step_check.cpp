// check_step (step_check.h): one Checker per step; the first failure wins. Every product of
// sizes is overflow-checked (a forged .bin can hold any int64), so nothing here can overflow
// or index out of range before the check that guards it.
#include "program/step_check.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <variant>

#include <fmt/format.h>

#include "kernels/ref/q8.h"
#include "ops/registry.h"

namespace qmap {

namespace {

namespace kr = kernels::ref;

bool mul_ok(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }
bool add_ok(int64_t a, int64_t b, int64_t* out) { return !__builtin_add_overflow(a, b, out); }

class Checker {
 public:
  Checker(const IntProgram& p, size_t si, bool* outputs_fixed) : p_(p), s_(p.steps[si]), si_(si), fixed_(outputs_fixed) {}

  Status check() const;

 private:
  template <typename... Args>
  Status fail(fmt::format_string<Args...> f, Args&&... args) const {
    const int kind = static_cast<int>(s_.kind);
    const std::string who = kind >= 1 && kind <= kMaxStepKind
                                ? std::string(step_kind_name(s_.kind))
                                : fmt::format("step kind {}", kind);
    return Status::error(
        fmt::format("{} '{}' (step {}): {}", who, s_.node, si_, fmt::format(f, std::forward<Args>(args)...)));
  }

  const ProgramTensor& in(size_t i) const { return p_.tensors[static_cast<size_t>(s_.inputs[i])]; }
  const ProgramTensor& out() const { return p_.tensors[static_cast<size_t>(s_.outputs[0])]; }
  int64_t numel(const ProgramTensor& t) const { return num_elements(t.dims); }

  // Tensor indices inside the table. Generic (kMove/kFloat) steps run through the op's eval,
  // where -1 is an omitted optional input or an unused output; integer steps read and write
  // every tensor they list.
  Status indices(bool generic) const {
    const int64_t nt = static_cast<int64_t>(p_.tensors.size());
    for (const auto* list : {&s_.inputs, &s_.outputs}) {
      const char* what = list == &s_.inputs ? "inputs" : "outputs";
      for (size_t i = 0; i < list->size(); ++i) {
        const int32_t t = (*list)[i];
        if (t == -1 && generic) continue;
        if (t == -1) return fail("{}[{}] is omitted (-1): this kind reads and writes every tensor it lists", what, i);
        if (t < 0 || t >= nt)
          return fail("{}[{}] is tensor {}: out of range (the program has {} tensors)", what, i, t, nt);
      }
    }
    return ok_status();
  }
  // Exactly n_in inputs (n_in = 0: one or more) and one output.
  Status arity(size_t n_in) const {
    if ((n_in > 0 && s_.inputs.size() != n_in) || (n_in == 0 && s_.inputs.empty()) || s_.outputs.size() != 1)
      return fail("{} inputs and {} outputs: this kind reads {} and writes 1", s_.inputs.size(), s_.outputs.size(),
                  n_in == 0 ? std::string("1 or more") : std::to_string(n_in));
    return indices(false);
  }
  // An 8-bit tensor with a per-tensor quantization: scale positive and finite, zero point
  // inside the type's range.
  Status q8(const ProgramTensor& t, const std::string& role) const {
    if ((t.dtype != DType::kInt8 && t.dtype != DType::kUInt8) || !t.quant)
      return fail("{} '{}' is {} {}: this step reads and writes quantized int8/uint8 tensors here", role, t.name,
                  dtype_name(t.dtype), t.quant ? "with quantization" : "without quantization");
    if (!(t.quant->scale > 0.f) || !std::isfinite(t.quant->scale))
      return fail("{} '{}' scale {}: scales are positive and finite", role, t.name, t.quant->scale);
    const bool sg = t.dtype == DType::kInt8;
    if (t.quant->zero_point < kr::q8_min(sg) || t.quant->zero_point > kr::q8_max(sg))
      return fail("{} '{}' zero point {}: outside the {} range [{}, {}]", role, t.name, t.quant->zero_point,
                  dtype_name(t.dtype), kr::q8_min(sg), kr::q8_max(sg));
    return ok_status();
  }
  Status f32(const ProgramTensor& t, const char* role) const {
    if (t.dtype != DType::kFloat32) return fail("{} '{}' is {}: this step uses float32 here", role, t.name, dtype_name(t.dtype));
    return ok_status();
  }
  // The tensor's element count equals what the step's parameters say.
  Status count(const ProgramTensor& t, const char* role, int64_t want, const char* rule) const {
    if (numel(t) != want)
      return fail("{} '{}' has {} elements ({}): {} = {}", role, t.name, numel(t), dims_str(t.dims), rule, want);
    return ok_status();
  }
  // A blob or parameter list of the size the geometry implies.
  Status size(size_t got, int64_t want, const char* what, const char* rule) const {
    if (static_cast<int64_t>(got) != want) return fail("{} holds {} values: {} = {}", what, got, rule, want);
    return ok_status();
  }
  // Product of sizes, overflow-checked.
  Status product(std::initializer_list<int64_t> f, const char* what, int64_t* r) const {
    *r = 1;
    for (int64_t v : f)
      if (!mul_ok(*r, v, r)) return fail("{} overflows int64", what);
    return ok_status();
  }
  // The output clamp inside the output type's range.
  Status clamp(const ProgramTensor& y, int32_t lo, int32_t hi) const {
    const bool sg = y.dtype == DType::kInt8;
    if (lo < kr::q8_min(sg) || hi > kr::q8_max(sg) || lo > hi)
      return fail("clamp [{}, {}]: inside the output's {} range [{}, {}] with lo <= hi", lo, hi,
                  dtype_name(y.dtype), kr::q8_min(sg), kr::q8_max(sg));
    return ok_status();
  }
  // Multiplier i, one the kernel uses.
  Status multiplier(const std::vector<QMultiplier>& ms, size_t i) const {
    const QMultiplier& q = ms[i];
    if (q.m < (int32_t{1} << 30) || q.shift < kMinShift || q.shift > kMaxShift)
      return fail("multiplier {} is (m {}, shift {}): m is in [2^30, 2^31) and shift in [{}, {}]", i, q.m, q.shift,
                  kMinShift, kMaxShift);
    return ok_status();
  }
  Status multipliers(const std::vector<QMultiplier>& ms, int64_t want, const char* rule) const {
    QMAP_RETURN_IF_ERROR(size(ms.size(), want, "multipliers", rule));
    for (size_t i = 0; i < ms.size(); ++i) QMAP_RETURN_IF_ERROR(multiplier(ms, i));
    return ok_status();
  }
  // One input, one output of the same element count.
  Status elementwise() const {
    return count(out(), "output", numel(in(0)), "the input's element count");
  }

  Status conv(bool float_out) const;
  Status binary() const;
  Status pool(bool avg) const;
  Status concat() const;
  Status generic() const;

  const IntProgram& p_;
  const Step& s_;
  size_t si_;
  bool* fixed_;  // check_step's outputs_fixed (may be null)
};

Status Checker::conv(bool float_out) const {
  QMAP_RETURN_IF_ERROR(arity(1));  // weights and bias are blobs
  QMAP_RETURN_IF_ERROR(q8(in(0), "input"));
  const ConvWeights& cw = *s_.conv_weights();
  const auto& g = cw.geom;
  for (int64_t v : {g.n, g.c, g.h, g.w, g.m, g.oh, g.ow, g.kh, g.kw, g.stride_h, g.stride_w, g.dil_h, g.dil_w, g.group})
    if (v < 1)
      return fail("conv geometry n {} c {} h {} w {} m {} oh {} ow {} kernel {}x{} stride {}x{} dilation {}x{} group {} "
                  "has {}: sizes, strides, dilations and group are >= 1",
                  g.n, g.c, g.h, g.w, g.m, g.oh, g.ow, g.kh, g.kw, g.stride_h, g.stride_w, g.dil_h, g.dil_w, g.group, v);
  if (g.pad_top < 0 || g.pad_left < 0) return fail("conv pads {} {}: pads are >= 0", g.pad_top, g.pad_left);
  // An upper bound too: the window checks below scale with the pad, so a pad near 2^63 passed
  // them and overflowed the kernels' int64 row offsets (fuzz/regressions/bin/
  // conv_pad_near_int64_max.bin). Real networks stay far below (ASPP's dilation 36 is the
  // largest in common use).
  for (int64_t v : {g.pad_top, g.pad_left, g.stride_h, g.stride_w, g.dil_h, g.dil_w})
    if (v > kMaxConvWindowParam)
      return fail("conv pads {} {}, stride {}x{}, dilation {}x{} has {}: each is at most {}", g.pad_top, g.pad_left,
                  g.stride_h, g.stride_w, g.dil_h, g.dil_w, v, kMaxConvWindowParam);
  if (g.c % g.group != 0 || g.m % g.group != 0)
    return fail("conv C {} and M {}: both are multiples of group {}", g.c, g.m, g.group);
  // The windows stay near the padded input. A conv step stores its leading pads only, so the
  // bounds allow a trailing pad up to the leading pad plus the kernel extent (ONNX's and
  // Caffe's SAME and explicit pads stay far inside them): the kernel extent at most twice
  // the input plus its leading pad, plus one, and every window starting before the padded
  // input ends. Kernels size their packed row planes by the extent and the output width
  // (kernels/x86_avx512vnni/qconv_gemm.cpp), so a corrupt dilation or output size must stop
  // here. 128-bit so no product of file values overflows.
  const auto axis = [&](const char* name, int64_t in, int64_t pad, int64_t k, int64_t dil, int64_t stride,
                        int64_t out) -> Status {
    const __int128 extent = static_cast<__int128>(k - 1) * dil + 1;
    const __int128 last_start = static_cast<__int128>(out - 1) * stride;
    if (extent > 2 * (static_cast<__int128>(in) + pad) + 1 || last_start >= static_cast<__int128>(in) + 2 * static_cast<__int128>(pad) + extent)
      return fail("conv {}: input {} + leading pad {}, kernel {} dilation {} stride {}, output {}: the windows must lie "
                  "near the padded input (kernel extent <= 2 * (input + pad) + 1, (output - 1) * stride < input + "
                  "2 * pad + extent)",
                  name, in, pad, k, dil, stride, out);
    return ok_status();
  };
  QMAP_RETURN_IF_ERROR(axis("height", g.h, g.pad_top, g.kh, g.dil_h, g.stride_h, g.oh));
  QMAP_RETURN_IF_ERROR(axis("width", g.w, g.pad_left, g.kw, g.dil_w, g.stride_w, g.ow));
  int64_t xin = 0, xout = 0, wn = 0;
  QMAP_RETURN_IF_ERROR(product({g.n, g.c, g.h, g.w}, "conv geometry N*C*H*W", &xin));
  QMAP_RETURN_IF_ERROR(product({g.n, g.m, g.oh, g.ow}, "conv geometry N*M*OH*OW", &xout));
  QMAP_RETURN_IF_ERROR(product({g.m, g.c / g.group, g.kh, g.kw}, "conv geometry M*C/group*KH*KW", &wn));
  QMAP_RETURN_IF_ERROR(count(in(0), "input", xin, "conv geometry N*C*H*W"));
  QMAP_RETURN_IF_ERROR(count(out(), "output", xout, "conv geometry N*M*OH*OW"));
  QMAP_RETURN_IF_ERROR(size(cw.weights.size(), wn, "weights blob", "M*C/group*KH*KW int8"));
  if (!cw.bias.empty()) QMAP_RETURN_IF_ERROR(size(cw.bias.size(), g.m, "bias blob", "M int32 (or none)"));
  if (float_out) {
    QMAP_RETURN_IF_ERROR(f32(out(), "output"));
    return size(s_.as<ConvFloatOutParams>().acc_scales.size(), g.m, "acc scales blob", "M float64");
  }
  const auto& c = s_.as<ConvParams>();
  QMAP_RETURN_IF_ERROR(q8(out(), "output"));
  QMAP_RETURN_IF_ERROR(clamp(out(), c.lo, c.hi));
  return multipliers(c.multipliers, g.m, "M");
}

Status Checker::binary() const {
  QMAP_RETURN_IF_ERROR(arity(2));
  QMAP_RETURN_IF_ERROR(q8(in(0), "input a"));
  QMAP_RETURN_IF_ERROR(q8(in(1), "input b"));
  const auto& bp = s_.as<BinaryParams>();
  QMAP_RETURN_IF_ERROR(q8(out(), "output"));
  QMAP_RETURN_IF_ERROR(clamp(out(), bp.lo, bp.hi));
  QMAP_RETURN_IF_ERROR(multipliers(bp.multipliers, s_.kind == StepKind::kAdd ? 2 : 1, "2 for add, 1 for mul"));
  const auto& g = bp.geom;
  if (g.a_strides.size() != g.out.size() || g.b_strides.size() != g.out.size())
    return fail("binary geometry has {} output dims but {} and {} strides: one stride per output dim", g.out.size(),
                g.a_strides.size(), g.b_strides.size());
  int64_t on = 1;
  for (int64_t d : g.out)
    if (d < 0 || !mul_ok(on, d, &on))
      return fail("binary output dims {}: dims are >= 0 and their product fits int64", dims_str(g.out));
  QMAP_RETURN_IF_ERROR(count(out(), "output", on, "the binary output dims' product"));
  if (on == 0) return ok_status();
  // The furthest element each operand's strides reach must lie inside that operand.
  for (size_t k = 0; k < 2; ++k) {
    const auto& st = k == 0 ? g.a_strides : g.b_strides;
    int64_t last = 0;
    for (size_t d = 0; d < st.size(); ++d) {
      int64_t term = 0;
      if (st[d] < 0 || !mul_ok(g.out[d] - 1, st[d], &term) || !add_ok(last, term, &last))
        return fail("binary strides {} of input {}: strides are >= 0 and the furthest offset fits int64",
                    dims_str(st), k == 0 ? "a" : "b");
    }
    if (last >= numel(in(k)))
      return fail("binary strides {} of input {} '{}' reach element {} of {}: reads stay inside the operand",
                  dims_str(st), k == 0 ? "a" : "b", in(k).name, last, numel(in(k)));
  }
  return ok_status();
}

Status Checker::pool(bool avg) const {
  QMAP_RETURN_IF_ERROR(arity(1));
  QMAP_RETURN_IF_ERROR(q8(in(0), "input"));
  QMAP_RETURN_IF_ERROR(q8(out(), "output"));
  const auto& g = avg ? s_.as<AvgPoolParams>().geom : s_.as<MaxPoolParams>().geom;
  for (int64_t v : {g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.stride_h, g.stride_w, g.dil_h, g.dil_w})
    if (v < 1)
      return fail("pool geometry n {} c {} h {} w {} oh {} ow {} kernel {}x{} stride {}x{} dilation {}x{} has {}: sizes, "
                  "strides and dilations are >= 1",
                  g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.stride_h, g.stride_w, g.dil_h, g.dil_w, v);
  for (int64_t v : {g.pad_top, g.pad_left, g.pad_bottom, g.pad_right})
    if (v < 0) return fail("pool pads {} {} {} {}: pads are >= 0", g.pad_top, g.pad_left, g.pad_bottom, g.pad_right);
  // Every window starts inside the padded input and the window fits in it (ONNX's shape rule,
  // ceil_mode included), and no stride exceeds the padded input (lowering gives a 1-wide
  // output stride 1): kernels size row buffers by these, so a corrupt stride or dilation
  // must stop here. 128-bit so no product of file values overflows.
  const auto axis = [&](const char* name, int64_t in, int64_t pad_b, int64_t pad_e, int64_t k, int64_t dil,
                        int64_t stride, int64_t out) -> Status {
    const __int128 padded = static_cast<__int128>(in) + pad_b + pad_e;
    const __int128 extent = static_cast<__int128>(k - 1) * dil + 1;
    const __int128 last_start = static_cast<__int128>(out - 1) * stride;
    if (extent > padded || last_start >= padded || stride > padded)
      return fail("pool {}: input {} + pads {}+{}, kernel {} dilation {} stride {}, output {}: the windows must lie in the "
                  "padded input (kernel extent <= padded size, (output - 1) * stride < padded size, stride <= padded size)",
                  name, in, pad_b, pad_e, k, dil, stride, out);
    // Pads at most the input plus 8: kernels size their row buffers by the padded row, which
    // must stay proportional to the tensor (a crafted pad of 2^40 threw bad_alloc inside a
    // kernel). Real pads are below the kernel (ONNX Runtime requires it) plus ceil_mode's
    // stride - 1, and kernels fit the padded input.
    if (pad_b > static_cast<__int128>(in) + 8 || pad_e > static_cast<__int128>(in) + 8)
      return fail("pool {}: pads {}+{} on an input of {}: each pad is at most the input size + 8", name, pad_b, pad_e, in);
    return ok_status();
  };
  QMAP_RETURN_IF_ERROR(axis("height", g.h, g.pad_top, g.pad_bottom, g.kh, g.dil_h, g.stride_h, g.oh));
  QMAP_RETURN_IF_ERROR(axis("width", g.w, g.pad_left, g.pad_right, g.kw, g.dil_w, g.stride_w, g.ow));
  int64_t xin = 0, xout = 0, taps = 0;
  QMAP_RETURN_IF_ERROR(product({g.n, g.c, g.h, g.w}, "pool geometry N*C*H*W", &xin));
  QMAP_RETURN_IF_ERROR(product({g.n, g.c, g.oh, g.ow}, "pool geometry N*C*OH*OW", &xout));
  QMAP_RETURN_IF_ERROR(product({g.kh, g.kw, 1}, "pool geometry KH*KW", &taps));
  QMAP_RETURN_IF_ERROR(count(in(0), "input", xin, "pool geometry N*C*H*W"));
  QMAP_RETURN_IF_ERROR(count(out(), "output", xout, "pool geometry N*C*OH*OW"));
  if (!avg) {
    if (in(0).dtype != out().dtype)
      return fail("max pool from {} to {}: input and output have the same type", dtype_name(in(0).dtype),
                  dtype_name(out().dtype));
    return ok_status();
  }
  const auto& ap = s_.as<AvgPoolParams>();
  QMAP_RETURN_IF_ERROR(clamp(out(), ap.lo, ap.hi));
  if (taps == INT64_MAX) return fail("pool geometry KH*KW {}: too large", taps);
  // mult[count] for every tap count 1..KH*KW; index 0 is present but unused (a window with no
  // tap writes the clamped zero point).
  QMAP_RETURN_IF_ERROR(size(ap.multipliers.size(), taps + 1, "multipliers blob", "KH*KW + 1 (one per tap count)"));
  for (size_t i = 1; i < ap.multipliers.size(); ++i) QMAP_RETURN_IF_ERROR(multiplier(ap.multipliers, i));
  return ok_status();
}

Status Checker::concat() const {
  QMAP_RETURN_IF_ERROR(arity(0));
  QMAP_RETURN_IF_ERROR(q8(out(), "output"));
  const auto& cp = s_.as<ConcatParams>();
  const size_t n = s_.inputs.size();
  const auto k = static_cast<int64_t>(n);
  QMAP_RETURN_IF_ERROR(size(cp.blocks.size(), k, "concat blocks", "one per input"));
  QMAP_RETURN_IF_ERROR(size(cp.requant.size(), k, "concat requant flags", "one per input"));
  QMAP_RETURN_IF_ERROR(size(cp.multipliers.size(), k, "multipliers blob", "one per input"));
  if (cp.outer < 0) return fail("concat outer {}: outer counts are >= 0", cp.outer);
  int64_t total = 0;
  for (size_t i = 0; i < n; ++i) {
    const std::string role = fmt::format("input {}", i);
    QMAP_RETURN_IF_ERROR(q8(in(i), role));
    int64_t part = 0;
    if (cp.blocks[i] < 0 || !mul_ok(cp.outer, cp.blocks[i], &part) || !add_ok(total, part, &total))
      return fail("concat block {} of input {}: blocks are >= 0 and outer * blocks fit int64", cp.blocks[i], i);
    if (numel(in(i)) != part)
      return fail("input {} '{}' has {} elements ({}): concat outer {} * block {} = {}", i, in(i).name, numel(in(i)),
                  dims_str(in(i).dims), cp.outer, cp.blocks[i], part);
    if (cp.requant[i]) {
      QMAP_RETURN_IF_ERROR(multiplier(cp.multipliers, i));
    } else if (in(i).dtype != out().dtype) {
      return fail("input {} '{}' is copied but is {}, the output {}: a copied input has the output's type", i,
                  in(i).name, dtype_name(in(i).dtype), dtype_name(out().dtype));
    }
  }
  return count(out(), "output", total, "concat outer * the sum of the blocks");
}

Status Checker::generic() const {
  QMAP_RETURN_IF_ERROR(indices(true));
  if (s_.outputs.empty()) return fail("no outputs: the step writes at least one tensor");
  // The declared output types and dims are what the op infers from the declared inputs (the
  // runtime sizes its arena by them before any step runs, so a forged 2 GiB output of a
  // Transpose must stop here, not when the step runs). Inputs computed at run time are known
  // by type and dims only; where the op cannot infer from that (a value-dependent shape, an
  // error it would not give on the real values), the run-time check stands. Custom ops are
  // bound to their plugin after reading (resolve_custom_ops).
  if (s_.op == OpId::Custom) return ok_status();
  const Node n = step_node(s_);
  // The op's infer and eval read attributes by type: a forged type or key stops here.
  if (const Status st = validate_builtin_attributes(n); !st.ok()) return fail("{}", st.message());
  std::vector<TensorInfo> infos;
  for (int32_t t : s_.inputs) {
    if (t < 0) {
      infos.push_back(TensorInfo{});
      continue;
    }
    const ProgramTensor& pt = p_.tensors[static_cast<size_t>(t)];
    infos.push_back(TensorInfo{true, pt.dtype, pt.dims, pt.constant ? &*pt.constant : nullptr});
  }
  InferCtx ctx(n, infos);
  if (!op_def(s_.op).infer(ctx).ok()) return ok_status();
  bool fixed = ctx.outputs().size() == s_.outputs.size();
  for (size_t i = 0; i < s_.outputs.size() && i < ctx.outputs().size(); ++i) {
    const auto& o = ctx.outputs()[i];
    fixed = fixed && s_.outputs[i] >= 0 && o.dims.has_value();
    if (s_.outputs[i] < 0) continue;
    const ProgramTensor& y = p_.tensors[static_cast<size_t>(s_.outputs[i])];
    if (o.dims && (o.dtype != y.dtype || *o.dims != y.dims))
      return fail("output {} '{}' is {} {}: {} infers {} {} from the inputs", i, y.name, dtype_name(y.dtype),
                  dims_str(y.dims), s_.op_type, dtype_name(o.dtype), dims_str(*o.dims));
  }
  if (fixed_) *fixed_ = fixed;
  return ok_status();
}

Status Checker::check() const {
  if (static_cast<int>(s_.kind) < 1 || static_cast<int>(s_.kind) > static_cast<int>(StepKind::kFloat))
    return fail("not a step kind (1..{})", static_cast<int>(StepKind::kFloat));
  // Every kind: op_def(id) aborts on an unknown id (kMove/kFloat steps run the op; tools such as
  // qmap info and perf look up every step's op), so the id must be one of the registry's.
  const auto ops = all_ops();
  if (std::find(ops.begin(), ops.end(), s_.op) == ops.end())
    return fail("op id {} ({}): not an op this qmap knows (ids in ops/op_list.def)", static_cast<int>(s_.op),
                s_.op_type);
  // The parameters are the kind's type (the reader builds them so; a program made in memory
  // could hold another).
  if (s_.params.index() != step_params_index(s_.kind))
    return fail("parameters of type {} of {}: not this kind's (type {})", s_.params.index(),
                std::variant_size_v<StepParams>, step_params_index(s_.kind));
  if (s_.op == OpId::Custom && s_.kind != StepKind::kFloat)
    return fail("custom op '{}': custom ops are float steps (kind 12)", s_.op_type);
  if (const auto* op = std::get_if<GenericParams>(&s_.params)) {
    if (s_.op == OpId::Custom && (op->domain.empty() || op->custom_version < 1))
      return fail("custom op '{}' (domain '{}', version {}): custom ops have a domain and a version >= 1", s_.op_type,
                  op->domain, op->custom_version);
    if (s_.op != OpId::Custom && (!op->domain.empty() || op->custom_version != 0 || !op->custom_library.empty()))
      return fail("op '{}' has a custom-op domain '{}', version {} or library '{}': only custom ops (op id {}) have them",
                  s_.op_type, op->domain, op->custom_version, op->custom_library, static_cast<int>(OpId::Custom));
  }
  switch (s_.kind) {
    case StepKind::kQuantize:
      QMAP_RETURN_IF_ERROR(arity(1));
      QMAP_RETURN_IF_ERROR(f32(in(0), "input"));
      QMAP_RETURN_IF_ERROR(q8(out(), "output"));
      return elementwise();
    case StepKind::kDequantize:
      QMAP_RETURN_IF_ERROR(arity(1));
      QMAP_RETURN_IF_ERROR(q8(in(0), "input"));
      QMAP_RETURN_IF_ERROR(f32(out(), "output"));
      return elementwise();
    case StepKind::kConv: return conv(false);
    case StepKind::kConvFloatOut: return conv(true);
    case StepKind::kAdd:
    case StepKind::kMul: return binary();
    case StepKind::kLut:
      QMAP_RETURN_IF_ERROR(arity(1));
      QMAP_RETURN_IF_ERROR(q8(in(0), "input"));
      QMAP_RETURN_IF_ERROR(q8(out(), "output"));
      QMAP_RETURN_IF_ERROR(size(s_.as<LutParams>().table.size(), 256, "table", "one entry per 8-bit input value"));
      return elementwise();
    case StepKind::kMaxPool: return pool(false);
    case StepKind::kAvgPool: return pool(true);
    case StepKind::kConcat: return concat();
    case StepKind::kMove:
    case StepKind::kFloat: return generic();
  }
  return fail("not a step kind (1..{})", static_cast<int>(StepKind::kFloat));
}

}  // namespace

Status check_step(const IntProgram& p, size_t step, bool* outputs_fixed) {
  QMAP_CHECK(step < p.steps.size(), "check_step: step {} of {}", step, p.steps.size());
  if (outputs_fixed) *outputs_fixed = false;
  return Checker(p, step, outputs_fixed).check();
}

}  // namespace qmap
