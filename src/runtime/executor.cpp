// Executor: validation at prepare, then kernel calls that cannot fail (see executor.h).
#include "runtime/executor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/huge_pages.h"
#include "kernels/isa_vector.h"
#include "kernels/qconv_kernel.h"
#include "kernels/qelementwise_table.h"
#include "kernels/ref/qconv.h"
#include "kernels/ref/qelementwise.h"
#include "kernels/ref/qpool.h"
#include "ops/registry.h"
#include "program/step_check.h"

namespace qmap::rt {

namespace kr = kernels::ref;

namespace {

kr::Q8In q8_in(const Tensor& t) { return {t.raw(), t.dtype() == DType::kInt8}; }
kr::Q8Out q8_out(Tensor& t) { return {t.raw(), t.dtype() == DType::kInt8}; }

// The memory-bound steps (add, mul, table, quantize, dequantize, pools) split their output
// into one contiguous part per worker when it is large enough to pay for the hand-off; each
// part is computed exactly as the whole would be, so results do not depend on the split.
int64_t parts_for(const kernels::TaskRunner& r, int64_t elements, int64_t min_per_task) {
  return std::max<int64_t>(1, std::min<int64_t>(r.num_workers(), elements / min_per_task));
}

// Calls fn(begin, end) for `parts` even slices of [0, n), on the runner's workers.
template <typename Fn>
void for_slices(const kernels::TaskRunner& r, int64_t n, int64_t parts, Fn fn) {
  if (parts <= 1) return fn(int64_t{0}, n);
  r.run(static_cast<size_t>(parts), [&](size_t k, int) {
    const int64_t b = n * static_cast<int64_t>(k) / parts, e = n * static_cast<int64_t>(k + 1) / parts;
    if (b < e) fn(b, e);
  });
}

// A binary step's geometry restricted to [b, e) along its first axis longer than 1 (axis
// `d`): operand and output offsets in elements.
struct BinarySlice {
  kr::BinaryGeometry g;
  int64_t a_off = 0, b_off = 0, y_off = 0;
};
BinarySlice binary_slice(const kr::BinaryGeometry& g, size_t d, int64_t b, int64_t e) {
  BinarySlice s{g, b * g.a_strides[d], b * g.b_strides[d], b};
  s.g.out[d] = e - b;
  for (size_t k = d + 1; k < g.out.size(); ++k) s.y_off *= g.out[k];
  return s;
}

kr::Q8In q8_at(kr::Q8In x, int64_t off) { return {static_cast<const uint8_t*>(x.data) + off, x.is_signed}; }
kr::Q8Out q8_at(kr::Q8Out y, int64_t off) { return {static_cast<uint8_t*>(y.data) + off, y.is_signed}; }

// Kernel tasks on a Context's thread pool.
class PoolRunner final : public kernels::TaskRunner {
 public:
  explicit PoolRunner(SpinPool& pool) : pool_(pool) {}
  int num_workers() const override { return pool_.size(); }
  void run(size_t n, const std::function<void(size_t, int)>& fn) const override { pool_.parallel_for(n, fn); }

 private:
  SpinPool& pool_;
};

}  // namespace

Result<Executor> Executor::prepare(IntProgram program, const StoredMemoryPlan* stored_plan, kernels::Isa isa) {
  Executor ex;
  // Every step against the kernels' assumptions (program/step_check.h, the validator the .bin
  // reader runs too), then the dataflow and memory plan.
  // A move or float step whose outputs its inputs fix skips shape inference at run time
  // (check_step's own inference says which).
  for (size_t si = 0; si < program.steps.size(); ++si) {
    bool fixed = false;
    QMAP_RETURN_IF_ERROR(check_step(program, si, &fixed).with_context("runtime: "));
    ex.outputs_checked_.push_back(fixed);
  }
  if (stored_plan) {
    QMAP_ASSIGN_OR_RETURN(ex.plan_, adopt_memory_plan(program, *stored_plan));
  } else {
    QMAP_ASSIGN_OR_RETURN(ex.plan_, plan_memory(program));
  }
  // The kernels' packed weights share one huge-page arena, released with the last kernel.
  auto arena = std::make_shared<kernels::WeightArena>();
  const kernels::WeightArenaScope arena_scope(*arena);
  for (size_t si = 0; si < program.steps.size(); ++si) {
    const Step& s = program.steps[si];
    Node n = step_node(s);
    if (s.op == OpId::Custom && !n.custom)
      return error("runtime: step {} '{}': custom op {}.{} version {} has no plugin bound (resolve_custom_ops)", si,
                   s.node, n.domain, s.op_type, s.as<GenericParams>().custom_version);
    ex.step_nodes_.push_back(std::move(n));
    std::shared_ptr<const kernels::QConvKernel> k;
    if (s.kind == StepKind::kConv || s.kind == StepKind::kConvFloatOut)
      if (auto made = kernels::make_qconv(isa, conv_kernel_params(program, s)))
        k.reset(made.release(), [arena](const kernels::QConvKernel* p) { delete p; });
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
  for (size_t si = 0; si < conv_kernels_.size(); ++si) {
    const StepKind kind = program_->steps[si].kind;
    if (kind == StepKind::kConv || kind == StepKind::kConvFloatOut)
      names.push_back(conv_kernels_[si] ? conv_kernels_[si]->name() : "ref");
    else if (kind == StepKind::kMove || kind == StepKind::kFloat)
      names.push_back("op eval");  // the op library's float / data-movement eval
    else
      names.push_back(elementwise_->isa);
  }
  return names;
}

ExecState Executor::make_state(bool keep_all, int threads, int64_t min_task_elements) const {
  const IntProgram& p = *program_;
  const MemoryPlan plan = keep_all ? plan_without_reuse(plan_) : plan_;
  ExecState st;
  st.keep_all_ = keep_all;
  st.min_task_elements_ = std::max<int64_t>(1, min_task_elements);
  if (threads <= 0) threads = default_thread_count();
  if (threads > 1) {
    st.pool_ = std::make_unique<SpinPool>(threads);
    st.runner_ = std::make_unique<PoolRunner>(*st.pool_);
  } else {
    st.runner_ = std::make_unique<kernels::SerialRunner>();
  }
  // The scratch and the arena in huge pages, touched here: a context's first run then pays no
  // page faults (on the development VM they made it 1.7x (ResNet-50) to 3x (MobileNetV2)
  // slower than the runs after it).
  auto prefaulted = [](int64_t bytes) {
    auto buf = alloc_huge_shared(static_cast<size_t>(bytes));
    std::byte* data = buf.get();
    std::memset(data, 0, static_cast<size_t>(bytes));
    return Tensor::alias(DType::kUInt8, {bytes}, std::move(buf), data);
  };
  if (scratch_per_worker_ > 0) st.scratch_ = prefaulted(static_cast<int64_t>(scratch_per_worker_) * threads);
  st.arena_ = prefaulted(plan.arena_bytes);
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
  const size_t n = program_->steps.size();
  if (st.profile_ns_.empty()) {
    for (size_t si = 0; si < n; ++si) QMAP_RETURN_IF_ERROR(run_step(si, st));
    return ok_status();
  }
  st.profile_ns_.resize(n);
  for (size_t si = 0; si < n; ++si) {
    const auto t0 = std::chrono::steady_clock::now();
    QMAP_RETURN_IF_ERROR(run_step(si, st));
    st.profile_ns_[si] += std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count();
  }
  ++st.profile_runs_;
  return ok_status();
}

Status Executor::run_steps(ExecState& st, size_t begin, size_t end) const {
  end = std::min(end, program_->steps.size());
  for (size_t si = begin; si < end; ++si) QMAP_RETURN_IF_ERROR(run_step(si, st));
  return ok_status();
}

Result<Executor> Executor::with_conv_bias(size_t step, std::vector<int32_t> bias) const {
  if (step >= program_->steps.size()) return error("runtime: step {} out of range ({} steps)", step, program_->steps.size());
  const Step& s = program_->steps[step];
  const ConvWeights* cw = s.conv_weights();
  if (cw == nullptr)
    return error("runtime: {} '{}' (step {}): not a convolution: no bias to set", step_kind_name(s.kind), s.node, step);
  if (static_cast<int64_t>(bias.size()) != cw->geom.m)
    return error("runtime: {} '{}' (step {}): bias of {} values for {} output channels", step_kind_name(s.kind), s.node,
                 step, bias.size(), cw->geom.m);
  auto program = std::make_shared<IntProgram>(*program_);
  program->steps[step].conv_weights()->bias = std::move(bias);
  Executor out = *this;
  // A fast kernel folded the bias (and zx * sum w) when it was made: make this step's again,
  // for the same ISA and shape (so the same scratch size).
  if (conv_kernels_[step]) out.conv_kernels_[step] = kernels::make_qconv(isa_, conv_kernel_params(*program, program->steps[step]));
  out.program_ = std::move(program);
  return out;
}

Status Executor::run_step(size_t si, ExecState& st) const {
  const Step& s = program_->steps[si];
  const auto& T = program_->tensors;
  auto in = [&](size_t i) -> const Tensor& { return st.views_[static_cast<size_t>(s.inputs[i])]; };
  auto qin = [&](size_t i) -> const TensorQuant& { return *T[static_cast<size_t>(s.inputs[i])].quant; };
  auto out = [&]() -> Tensor& { return st.views_[static_cast<size_t>(s.outputs[0])]; };
  const kernels::QElementwiseTable& ew = *elementwise_;
  const kernels::TaskRunner& run = *st.runner_;
  const TensorQuant qy = T[static_cast<size_t>(s.outputs[0] < 0 ? 0 : s.outputs[0])].quant.value_or(TensorQuant{});
  switch (s.kind) {
    case StepKind::kQuantize: {
      const std::span<const float> x = in(0).data<float>();
      const kr::Q8Out y = q8_out(out());
      const int64_t n = static_cast<int64_t>(x.size());
      for_slices(run, n, parts_for(run, n, st.min_task_elements_), [&](int64_t b, int64_t e) {
        ew.quantize(x.subspan(static_cast<size_t>(b), static_cast<size_t>(e - b)), qy.scale, qy.zero_point, q8_at(y, b));
      });
      break;
    }
    case StepKind::kDequantize: {
      const kr::Q8In x = q8_in(in(0));
      float* y = out().data<float>().data();
      const int64_t n = in(0).numel();
      for_slices(run, n, parts_for(run, n, st.min_task_elements_), [&](int64_t b, int64_t e) {
        ew.dequantize(q8_at(x, b), e - b, qin(0).scale, qin(0).zero_point, y + b);
      });
      break;
    }
    case StepKind::kConv:
    case StepKind::kConvFloatOut:
      if (const auto& k = conv_kernels_[si]) {
        k->run(in(0).raw(), out().raw(), st.scratch_.raw(), *st.runner_);
        break;
      }
      if (s.kind == StepKind::kConvFloatOut) {
        const auto& c = s.as<ConvFloatOutParams>();
        float* yp = out().data<float>().data();
        kr::qconv2d_float_out(c.geom, q8_in(in(0)), qin(0).zero_point, c.weights, c.bias, c.acc_scales, yp);
        // The fused Relu/Clip, in float (the output is not requantized).
        for (int64_t i = 0; i < out().numel(); ++i) yp[i] = std::min(std::max(yp[i], c.float_min), c.float_max);
        break;
      } else {
        const auto& c = s.as<ConvParams>();
        kr::qconv2d(c.geom, q8_in(in(0)), qin(0).zero_point, c.weights, c.bias, c.multipliers, qy.zero_point, c.lo,
                    c.hi, q8_out(out()));
      }
      break;
    case StepKind::kAdd:
    case StepKind::kMul: {
      const auto& bp = s.as<BinaryParams>();
      const kr::BinaryGeometry& g = bp.geom;
      size_t d = 0;  // the axis the parts split: the first longer than 1
      while (d + 1 < g.out.size() && g.out[d] <= 1) ++d;
      const int64_t parts = g.out.empty() ? 1 : std::min(parts_for(run, out().numel(), st.min_task_elements_), g.out[d]);
      const kr::Q8In a = q8_in(in(0)), b = q8_in(in(1));
      const kr::Q8Out y = q8_out(out());
      const int64_t n = g.out.empty() ? 1 : g.out[d];
      for_slices(run, n, parts, [&](int64_t lo, int64_t hi) {
        const BinarySlice p = parts > 1 ? binary_slice(g, d, lo, hi) : BinarySlice{g};
        if (s.kind == StepKind::kAdd)
          ew.qadd(p.g, q8_at(a, p.a_off), qin(0).zero_point, bp.multipliers[0], q8_at(b, p.b_off), qin(1).zero_point,
                  bp.multipliers[1], qy.zero_point, bp.lo, bp.hi, q8_at(y, p.y_off));
        else
          ew.qmul(p.g, q8_at(a, p.a_off), qin(0).zero_point, q8_at(b, p.b_off), qin(1).zero_point, bp.multipliers[0],
                  qy.zero_point, bp.lo, bp.hi, q8_at(y, p.y_off));
      });
      break;
    }
    case StepKind::kLut: {
      const kr::Q8In x = q8_in(in(0));
      const kr::Q8Out y = q8_out(out());
      const int64_t n = in(0).numel();
      for_slices(run, n, parts_for(run, n, st.min_task_elements_), [&](int64_t b, int64_t e) {
        ew.lut8(q8_at(x, b), e - b, s.as<LutParams>().table, q8_at(y, b));
      });
      break;
    }
    case StepKind::kMaxPool:
    case StepKind::kAvgPool: {
      // Parts of whole channel planes (N * C of them, each independent).
      const bool is_max = s.kind == StepKind::kMaxPool;
      const kr::PoolGeometry2d& g = is_max ? s.as<MaxPoolParams>().geom : s.as<AvgPoolParams>().geom;
      const int64_t planes = g.n * g.c;
      const int64_t parts = std::min(parts_for(run, out().numel() + in(0).numel() / 4, st.min_task_elements_), planes);
      const kr::Q8In x = q8_in(in(0));
      const kr::Q8Out y = q8_out(out());
      for_slices(run, planes, parts, [&](int64_t lo, int64_t hi) {
        kr::PoolGeometry2d pg = g;
        if (parts > 1) pg.n = 1, pg.c = hi - lo;
        const int64_t xo = parts > 1 ? lo * g.h * g.w : 0, yo = parts > 1 ? lo * g.oh * g.ow : 0;
        if (is_max) {
          ew.qmaxpool2d(pg, q8_at(x, xo), q8_at(y, yo));
        } else {
          const auto& ap = s.as<AvgPoolParams>();
          ew.qavgpool2d(pg, ap.count_include_pad, q8_at(x, xo), qin(0).zero_point, ap.multipliers, qy.zero_point, ap.lo,
                        ap.hi, q8_at(y, yo));
        }
      });
      break;
    }
    case StepKind::kConcat: {
      const auto& cp = s.as<ConcatParams>();
      std::vector<kr::ConcatInput> parts;
      for (size_t i = 0; i < s.inputs.size(); ++i)
        parts.push_back({q8_in(in(i)), cp.blocks[i], cp.requant[i] != 0, qin(i).zero_point, cp.multipliers[i]});
      ew.qconcat(parts, cp.outer, qy.zero_point, q8_out(out()));
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
      QMAP_RETURN_IF_ERROR((outputs_checked_[si] ? eval_node_checked(step_nodes_[si], ins, outs, float_sgemm_)
                                                 : eval_node_into(step_nodes_[si], ins, outs, float_sgemm_))
                               .with_context("runtime: "));
      break;
    }
  }
  return ok_status();
}

}  // namespace qmap::rt
