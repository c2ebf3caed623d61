// Executor: validation at prepare, then kernel calls that cannot fail (see executor.h).
#include "runtime/executor.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "kernels/qconv_kernel.h"
#include "kernels/qelementwise_table.h"
#include "kernels/ref/qconv.h"
#include "kernels/ref/qelementwise.h"
#include "kernels/ref/qpool.h"
#include "ops/registry.h"

namespace qmap::rt {

namespace kr = kernels::ref;

namespace {

bool is_q8(DType t) { return t == DType::kInt8 || t == DType::kUInt8; }

kr::Q8In q8_in(const Tensor& t) { return {t.raw(), t.dtype() == DType::kInt8}; }
kr::Q8Out q8_out(Tensor& t) { return {t.raw(), t.dtype() == DType::kInt8}; }

// Checks of one step against the kernel's assumptions. Each failure names the step kind, the
// node, the value and the rule.
class StepChecker {
 public:
  StepChecker(const IntProgram& p, const Step& s) : p_(p), s_(s) {}

  template <typename... Args>
  Status fail(fmt::format_string<Args...> f, Args&&... args) const {
    return Status::error(fmt::format("runtime: {} '{}': {}", step_kind_name(s_.kind), s_.node,
                                     fmt::format(f, std::forward<Args>(args)...)));
  }
  const ProgramTensor& in(size_t i) const { return p_.tensors[static_cast<size_t>(s_.inputs[i])]; }
  const ProgramTensor& out() const { return p_.tensors[static_cast<size_t>(s_.outputs[0])]; }

  // Exactly n_in inputs (n_in < 0: at least one) and one output, none omitted.
  Status arity(int n_in) const {
    if ((n_in >= 0 && s_.inputs.size() != static_cast<size_t>(n_in)) || (n_in < 0 && s_.inputs.empty()) ||
        s_.outputs.size() != 1)
      return fail("{} inputs and {} outputs: {} input(s) and 1 output expected", s_.inputs.size(), s_.outputs.size(),
                  n_in < 0 ? std::string("1 or more") : std::to_string(n_in));
    for (int32_t t : s_.inputs)
      if (t < 0) return fail("an omitted input: every input is required");
    if (s_.outputs[0] < 0) return fail("an omitted output: the output is required");
    return ok_status();
  }
  // An 8-bit tensor with a quantization whose zero point is in the type's range.
  Status q8(const ProgramTensor& t, const char* role) const {
    if (!is_q8(t.dtype) || !t.quant)
      return fail("{} '{}' is {} {}: a quantized int8/uint8 tensor expected", role, t.name, dtype_name(t.dtype),
                  t.quant ? "with quantization" : "without quantization");
    const bool sg = t.dtype == DType::kInt8;
    if (t.quant->zero_point < kr::q8_min(sg) || t.quant->zero_point > kr::q8_max(sg))
      return fail("{} '{}': zero point {} outside the {} range", role, t.name, t.quant->zero_point, dtype_name(t.dtype));
    return ok_status();
  }
  Status f32(const ProgramTensor& t, const char* role) const {
    if (t.dtype != DType::kFloat32) return fail("{} '{}' is {}: float32 expected", role, t.name, dtype_name(t.dtype));
    return ok_status();
  }
  Status numel(const ProgramTensor& t, int64_t want, const char* what) const {
    if (num_elements(t.dims) != want)
      return fail("'{}' has {} elements ({}), the step's {} needs {}", t.name, num_elements(t.dims), dims_str(t.dims),
                  what, want);
    return ok_status();
  }
  // Output clamp inside the output type's range.
  Status clamp(const ProgramTensor& y) const {
    const bool sg = y.dtype == DType::kInt8;
    if (s_.lo < kr::q8_min(sg) || s_.hi > kr::q8_max(sg) || s_.lo > s_.hi)
      return fail("clamp [{}, {}] is not inside the {} range", s_.lo, s_.hi, dtype_name(y.dtype));
    return ok_status();
  }
  Status multipliers(size_t want) const {
    if (s_.multipliers.size() != want) return fail("{} multipliers, {} expected", s_.multipliers.size(), want);
    for (const QMultiplier& q : s_.multipliers)
      if (q.m < (int32_t{1} << 30) || q.shift < kMinShift || q.shift > kMaxShift)
        return fail("multiplier ({}, shift {}) outside [2^30, 2^31) x shift [{}, {}]", q.m, q.shift, kMinShift,
                    kMaxShift);
    return ok_status();
  }
  static bool positive(std::initializer_list<int64_t> v) {
    return std::all_of(v.begin(), v.end(), [](int64_t x) { return x > 0; });
  }
  static bool non_negative(std::initializer_list<int64_t> v) {
    return std::all_of(v.begin(), v.end(), [](int64_t x) { return x >= 0; });
  }

  Status conv(bool float_out) const {
    QMAP_RETURN_IF_ERROR(arity(1));
    QMAP_RETURN_IF_ERROR(q8(in(0), "input"));
    const auto& g = s_.conv;
    if (!positive({g.n, g.c, g.h, g.w, g.m, g.oh, g.ow, g.kh, g.kw, g.stride_h, g.stride_w, g.dil_h, g.dil_w, g.group}) ||
        !non_negative({g.pad_top, g.pad_left}) || g.c % g.group != 0 || g.m % g.group != 0)
      return fail("geometry n {} c {} h {} w {} m {} group {} kernel {}x{}: sizes, strides and dilations must be "
                  "positive, pads non-negative and c, m multiples of group",
                  g.n, g.c, g.h, g.w, g.m, g.group, g.kh, g.kw);
    QMAP_RETURN_IF_ERROR(numel(in(0), g.n * g.c * g.h * g.w, "input geometry"));
    QMAP_RETURN_IF_ERROR(numel(out(), g.n * g.m * g.oh * g.ow, "output geometry"));
    const int64_t wsize = g.m * (g.c / g.group) * g.kh * g.kw;
    if (static_cast<int64_t>(s_.weights.size()) != wsize)
      return fail("{} weight bytes, [M][C/group][KH][KW] needs {}", s_.weights.size(), wsize);
    if (!s_.bias.empty() && static_cast<int64_t>(s_.bias.size()) != g.m)
      return fail("{} bias values, {} (one per output channel) or none expected", s_.bias.size(), g.m);
    if (float_out) {
      QMAP_RETURN_IF_ERROR(f32(out(), "output"));
      if (static_cast<int64_t>(s_.acc_scales.size()) != g.m)
        return fail("{} accumulator scales, {} expected", s_.acc_scales.size(), g.m);
      return ok_status();
    }
    QMAP_RETURN_IF_ERROR(q8(out(), "output"));
    QMAP_RETURN_IF_ERROR(clamp(out()));
    return multipliers(static_cast<size_t>(g.m));
  }

  Status binary(size_t n_mult) const {
    QMAP_RETURN_IF_ERROR(arity(2));
    QMAP_RETURN_IF_ERROR(q8(in(0), "input a"));
    QMAP_RETURN_IF_ERROR(q8(in(1), "input b"));
    QMAP_RETURN_IF_ERROR(q8(out(), "output"));
    QMAP_RETURN_IF_ERROR(clamp(out()));
    QMAP_RETURN_IF_ERROR(multipliers(n_mult));
    const auto& b = s_.binary;
    if (b.a_strides.size() != b.out.size() || b.b_strides.size() != b.out.size())
      return fail("broadcast strides of rank {} and {} for an output of rank {}", b.a_strides.size(),
                  b.b_strides.size(), b.out.size());
    for (int64_t d : b.out)
      if (d < 0) return fail("negative output dimension in {}", dims_str(b.out));
    QMAP_RETURN_IF_ERROR(numel(out(), num_elements(b.out), "output dims"));
    // The highest element offset the kernel reads must lie inside each operand.
    for (int k = 0; k < 2; ++k) {
      const auto& st = k == 0 ? b.a_strides : b.b_strides;
      int64_t last = 0;
      for (size_t d = 0; d < b.out.size(); ++d) {
        if (st[d] < 0) return fail("negative broadcast stride {}", st[d]);
        if (b.out[d] > 0) last += (b.out[d] - 1) * st[d];
      }
      if (num_elements(b.out) > 0 && last >= num_elements(in(k).dims))
        return fail("broadcast reads element {} of '{}', which has {}", last, in(k).name, num_elements(in(k).dims));
    }
    return ok_status();
  }

  Status pool(bool avg) const {
    QMAP_RETURN_IF_ERROR(arity(1));
    QMAP_RETURN_IF_ERROR(q8(in(0), "input"));
    QMAP_RETURN_IF_ERROR(q8(out(), "output"));
    const auto& g = s_.pool;
    if (!positive({g.n, g.c, g.h, g.w, g.oh, g.ow, g.kh, g.kw, g.stride_h, g.stride_w, g.dil_h, g.dil_w}) ||
        !non_negative({g.pad_top, g.pad_left, g.pad_bottom, g.pad_right}))
      return fail("geometry n {} c {} h {} w {} kernel {}x{}: sizes, strides and dilations must be positive, pads "
                  "non-negative",
                  g.n, g.c, g.h, g.w, g.kh, g.kw);
    QMAP_RETURN_IF_ERROR(numel(in(0), g.n * g.c * g.h * g.w, "input geometry"));
    QMAP_RETURN_IF_ERROR(numel(out(), g.n * g.c * g.oh * g.ow, "output geometry"));
    if (!avg) {
      if (in(0).dtype != out().dtype) return fail("max pool from {} to {}: same type expected", dtype_name(in(0).dtype), dtype_name(out().dtype));
      return ok_status();
    }
    QMAP_RETURN_IF_ERROR(clamp(out()));
    // mult[count] for every tap count 1..kh*kw (index 0 unused but present).
    if (s_.multipliers.empty()) return multipliers(static_cast<size_t>(g.kh * g.kw + 1));
    if (static_cast<int64_t>(s_.multipliers.size()) != g.kh * g.kw + 1)
      return fail("{} multipliers, kernel {}x{} needs {}", s_.multipliers.size(), g.kh, g.kw, g.kh * g.kw + 1);
    for (size_t i = 1; i < s_.multipliers.size(); ++i) {
      const QMultiplier& q = s_.multipliers[i];
      if (q.m < (int32_t{1} << 30) || q.shift < kMinShift || q.shift > kMaxShift)
        return fail("multiplier {} ({}, shift {}) out of range", i, q.m, q.shift);
    }
    return ok_status();
  }

  Status concat() const {
    QMAP_RETURN_IF_ERROR(arity(-1));
    QMAP_RETURN_IF_ERROR(q8(out(), "output"));
    const size_t n = s_.inputs.size();
    if (s_.concat_blocks.size() != n || s_.concat_requant.size() != n || s_.multipliers.size() != n)
      return fail("{} inputs with {} blocks, {} requantize flags, {} multipliers: one each expected", n,
                  s_.concat_blocks.size(), s_.concat_requant.size(), s_.multipliers.size());
    if (s_.concat_outer < 0) return fail("outer count {}: non-negative expected", s_.concat_outer);
    int64_t total = 0;
    for (size_t i = 0; i < n; ++i) {
      QMAP_RETURN_IF_ERROR(q8(in(i), "input"));
      if (s_.concat_blocks[i] < 0) return fail("block {} of input {}: non-negative expected", s_.concat_blocks[i], i);
      QMAP_RETURN_IF_ERROR(numel(in(i), s_.concat_outer * s_.concat_blocks[i], "outer x block"));
      if (s_.concat_requant[i]) {
        const QMultiplier& q = s_.multipliers[i];
        if (q.m < (int32_t{1} << 30) || q.shift < kMinShift || q.shift > kMaxShift)
          return fail("multiplier of input {} ({}, shift {}) out of range", i, q.m, q.shift);
      } else if (in(i).dtype != out().dtype) {
        return fail("input {} '{}' is copied but is {}, the output {}", i, in(i).name, dtype_name(in(i).dtype),
                    dtype_name(out().dtype));
      }
      total += s_.concat_blocks[i];
    }
    return numel(out(), s_.concat_outer * total, "outer x sum of blocks");
  }

  Status check() const {
    switch (s_.kind) {
      case StepKind::kQuantize:
        QMAP_RETURN_IF_ERROR(arity(1));
        QMAP_RETURN_IF_ERROR(f32(in(0), "input"));
        QMAP_RETURN_IF_ERROR(q8(out(), "output"));
        if (!(out().quant->scale > 0.f) || !std::isfinite(out().quant->scale))
          return fail("scale {}: positive and finite expected", out().quant->scale);
        return numel(out(), num_elements(in(0).dims), "input");
      case StepKind::kDequantize:
        QMAP_RETURN_IF_ERROR(arity(1));
        QMAP_RETURN_IF_ERROR(q8(in(0), "input"));
        QMAP_RETURN_IF_ERROR(f32(out(), "output"));
        return numel(out(), num_elements(in(0).dims), "input");
      case StepKind::kConv: return conv(false);
      case StepKind::kConvFloatOut: return conv(true);
      case StepKind::kAdd: return binary(2);
      case StepKind::kMul: return binary(1);
      case StepKind::kLut:
        QMAP_RETURN_IF_ERROR(arity(1));
        QMAP_RETURN_IF_ERROR(q8(in(0), "input"));
        QMAP_RETURN_IF_ERROR(q8(out(), "output"));
        if (s_.table.size() != 256) return fail("table of {} bytes: 256 expected", s_.table.size());
        return numel(out(), num_elements(in(0).dims), "input");
      case StepKind::kMaxPool: return pool(false);
      case StepKind::kAvgPool: return pool(true);
      case StepKind::kConcat: return concat();
      case StepKind::kMove:
      case StepKind::kFloat:
        // op_def(id) aborts on an unknown id: the id must be one of the registry's.
        if (std::find(all_ops().begin(), all_ops().end(), s_.op) == all_ops().end())
          return fail("op id {} ({}) is not an op this runtime knows", static_cast<int>(s_.op), s_.op_type);
        if (s_.outputs.empty()) return fail("no outputs");
        return ok_status();
    }
    return fail("step kind {}: not a kind this runtime knows", static_cast<int>(s_.kind));
  }

 private:
  const IntProgram& p_;
  const Step& s_;
};

// The kernel-side view of a checked kConv / kConvFloatOut step.
kernels::QConvParams conv_params(const IntProgram& p, const Step& s) {
  const ProgramTensor& x = p.tensors[static_cast<size_t>(s.inputs[0])];
  const ProgramTensor& y = p.tensors[static_cast<size_t>(s.outputs[0])];
  kernels::QConvParams k;
  k.g = s.conv;
  k.x_signed = x.dtype == DType::kInt8;
  k.zx = x.quant->zero_point;
  k.weights = s.weights;
  k.bias = s.bias;
  k.float_out = s.kind == StepKind::kConvFloatOut;
  if (k.float_out) {
    k.acc_scale = s.acc_scales;
    k.float_min = s.float_min;
    k.float_max = s.float_max;
  } else {
    k.y_signed = y.dtype == DType::kInt8;
    k.mult = s.multipliers;
    k.zy = y.quant->zero_point;
    k.lo = s.lo;
    k.hi = s.hi;
  }
  return k;
}

// The fast convolution of `isa` for a checked step, or null (the reference runs it).
std::unique_ptr<kernels::QConvKernel> make_conv_kernel(kernels::Isa isa, const kernels::QConvParams& k) {
  switch (isa) {
    case kernels::Isa::kRef: return nullptr;
    case kernels::Isa::kAvx2:
#if QMAP_HAVE_AVX2
      return kernels::make_qconv_avx2(k);
#else
      return nullptr;
#endif
    case kernels::Isa::kAvx512Vnni:
#if QMAP_HAVE_AVX512VNNI
      return kernels::make_qconv_avx512vnni(k);
#else
      return nullptr;
#endif
  }
  return nullptr;
}

// Kernel tasks on a Context's thread pool.
class PoolRunner final : public kernels::TaskRunner {
 public:
  explicit PoolRunner(ThreadPool& pool) : pool_(pool) {}
  int num_workers() const override { return pool_.size(); }
  void run(size_t n, const std::function<void(size_t, int)>& fn) const override { pool_.parallel_for(n, fn); }

 private:
  ThreadPool& pool_;
};

}  // namespace

Result<Executor> Executor::prepare(IntProgram program, const StoredMemoryPlan* stored_plan, kernels::Isa isa) {
  Executor ex;
  if (stored_plan) {
    QMAP_ASSIGN_OR_RETURN(ex.plan_, adopt_memory_plan(program, *stored_plan));
  } else {
    QMAP_ASSIGN_OR_RETURN(ex.plan_, plan_memory(program));
  }
  for (size_t si = 0; si < program.steps.size(); ++si) {
    const Step& s = program.steps[si];
    QMAP_RETURN_IF_ERROR(StepChecker(program, s).check());
    Node n;
    n.name = s.node;
    n.op = s.op;
    n.op_type = s.op_type;
    n.attrs = s.attrs;
    ex.step_nodes_.push_back(std::move(n));
    std::shared_ptr<const kernels::QConvKernel> k;
    if (s.kind == StepKind::kConv || s.kind == StepKind::kConvFloatOut) k = make_conv_kernel(isa, conv_params(program, s));
    if (k) ex.scratch_per_worker_ = std::max(ex.scratch_per_worker_, kernels::scratch_stride(k->scratch_bytes_per_worker()));
    ex.conv_kernels_.push_back(std::move(k));
  }
  ex.isa_ = isa;
  ex.elementwise_ = &kernels::qelementwise_table(isa);
  ex.program_ = std::make_shared<const IntProgram>(std::move(program));
  return ex;
}

std::vector<std::string> Executor::step_kernel_names() const {
  std::vector<std::string> names;
  for (const auto& k : conv_kernels_) names.push_back(k ? k->name() : "ref");
  return names;
}

ExecState Executor::make_state(bool keep_all, int threads) const {
  const IntProgram& p = *program_;
  const MemoryPlan plan = keep_all ? plan_without_reuse(plan_) : plan_;
  ExecState st;
  st.keep_all_ = keep_all;
  if (threads <= 0) threads = default_thread_count();
  if (threads > 1) {
    st.pool_ = std::make_unique<ThreadPool>(threads);
    st.runner_ = std::make_unique<PoolRunner>(*st.pool_);
  } else {
    st.runner_ = std::make_unique<kernels::SerialRunner>();
  }
  if (scratch_per_worker_ > 0)
    st.scratch_ = Tensor::uninitialized(DType::kUInt8, {static_cast<int64_t>(scratch_per_worker_) * threads});
  st.arena_ = Tensor::uninitialized(DType::kUInt8, {plan.arena_bytes});
  st.views_.resize(p.tensors.size());
  for (size_t t = 0; t < p.tensors.size(); ++t) {
    const ProgramTensor& pt = p.tensors[t];
    switch (plan.storage[t]) {
      case Storage::kUnused: break;
      case Storage::kConstant: st.views_[t] = *pt.constant; break;
      case Storage::kInput:
      case Storage::kOutput:
        st.own_.push_back(Tensor(pt.dtype, pt.dims));
        st.views_[t] = st.own_.back();
        break;
      case Storage::kArena:
        st.views_[t] = Tensor::view(pt.dtype, pt.dims, st.arena_.raw() + plan.offset[t]);
        break;
    }
  }
  for (int32_t t : p.inputs) st.input_index_.push_back(static_cast<size_t>(t));
  return st;
}

Status Executor::run(ExecState& st) const {
  for (size_t si = 0; si < program_->steps.size(); ++si) QMAP_RETURN_IF_ERROR(run_step(si, st));
  return ok_status();
}

Status Executor::run_step(size_t si, ExecState& st) const {
  const Step& s = program_->steps[si];
  const auto& T = program_->tensors;
  auto in = [&](size_t i) -> const Tensor& { return st.views_[static_cast<size_t>(s.inputs[i])]; };
  auto qin = [&](size_t i) -> const TensorQuant& { return *T[static_cast<size_t>(s.inputs[i])].quant; };
  auto out = [&]() -> Tensor& { return st.views_[static_cast<size_t>(s.outputs[0])]; };
  const kernels::QElementwiseTable& ew = *elementwise_;
  const TensorQuant qy = T[static_cast<size_t>(s.outputs[0] < 0 ? 0 : s.outputs[0])].quant.value_or(TensorQuant{});
  switch (s.kind) {
    case StepKind::kQuantize:
      ew.quantize(in(0).data<float>(), qy.scale, qy.zero_point, q8_out(out()));
      break;
    case StepKind::kDequantize:
      ew.dequantize(q8_in(in(0)), in(0).numel(), qin(0).scale, qin(0).zero_point, out().data<float>().data());
      break;
    case StepKind::kConv:
    case StepKind::kConvFloatOut:
      if (const auto& k = conv_kernels_[si]) {
        k->run(in(0).raw(), out().raw(), st.scratch_.raw(), *st.runner_);
        break;
      }
      if (s.kind == StepKind::kConvFloatOut) {
        float* yp = out().data<float>().data();
        kr::qconv2d_float_out(s.conv, q8_in(in(0)), qin(0).zero_point, s.weights, s.bias, s.acc_scales, yp);
        // The fused Relu/Clip, in float (the output is not requantized).
        for (int64_t i = 0; i < out().numel(); ++i) yp[i] = std::min(std::max(yp[i], s.float_min), s.float_max);
        break;
      }
      kr::qconv2d(s.conv, q8_in(in(0)), qin(0).zero_point, s.weights, s.bias, s.multipliers, qy.zero_point, s.lo,
                  s.hi, q8_out(out()));
      break;
    case StepKind::kAdd:
      ew.qadd(s.binary, q8_in(in(0)), qin(0).zero_point, s.multipliers[0], q8_in(in(1)), qin(1).zero_point,
               s.multipliers[1], qy.zero_point, s.lo, s.hi, q8_out(out()));
      break;
    case StepKind::kMul:
      ew.qmul(s.binary, q8_in(in(0)), qin(0).zero_point, q8_in(in(1)), qin(1).zero_point, s.multipliers[0],
               qy.zero_point, s.lo, s.hi, q8_out(out()));
      break;
    case StepKind::kLut:
      ew.lut8(q8_in(in(0)), in(0).numel(), s.table, q8_out(out()));
      break;
    case StepKind::kMaxPool:
      ew.qmaxpool2d(s.pool, q8_in(in(0)), q8_out(out()));
      break;
    case StepKind::kAvgPool:
      ew.qavgpool2d(s.pool, s.count_include_pad, q8_in(in(0)), qin(0).zero_point, s.multipliers, qy.zero_point,
                     s.lo, s.hi, q8_out(out()));
      break;
    case StepKind::kConcat: {
      std::vector<kr::ConcatInput> parts;
      for (size_t i = 0; i < s.inputs.size(); ++i)
        parts.push_back({q8_in(in(i)), s.concat_blocks[i], s.concat_requant[i] != 0, qin(i).zero_point,
                         s.multipliers[i]});
      ew.qconcat(parts, s.concat_outer, qy.zero_point, q8_out(out()));
      break;
    }
    case StepKind::kMove:
    case StepKind::kFloat: {
      std::vector<const Tensor*> ins;
      for (int32_t t : s.inputs) ins.push_back(t < 0 ? nullptr : &st.views_[static_cast<size_t>(t)]);
      // Outputs written straight into their arena/output views; an omitted output gets a
      // scratch buffer (allocated by eval_node_into) that is dropped afterwards.
      std::vector<Tensor> outs;
      for (int32_t t : s.outputs) outs.push_back(t < 0 ? Tensor() : st.views_[static_cast<size_t>(t)]);
      QMAP_RETURN_IF_ERROR(eval_node_into(step_nodes_[si], ins, outs).with_context("runtime: "));
      break;
    }
  }
  return ok_status();
}

}  // namespace qmap::rt
