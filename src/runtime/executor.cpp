// Executor: validation at prepare, then kernel calls that cannot fail (see executor.h).
#include "runtime/executor.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>

#include "core/huge_pages.h"
#include "kernels/isa_vector.h"
#include "kernels/pool_runner.h"
#include "kernels/qconv_kernel.h"
#include "kernels/qelementwise_table.h"
#include "ops/registry.h"
#include "program/step_check.h"
#include "runtime/step_run.h"

namespace qmap::rt {

Result<Executor> Executor::prepare(IntProgram program, const StoredMemoryPlan* stored_plan, kernels::Isa isa,
                                   const std::vector<bool>* checked) {
  Executor ex;
  // Every step against the kernels' assumptions (program/step_check.h, the validator the .bin
  // reader runs too), then the dataflow and memory plan.
  // A move or float step whose outputs its inputs fix skips shape inference at run time
  // (check_step's own inference says which).
  if (checked && checked->size() == program.steps.size()) {
    ex.outputs_checked_ = *checked;
  } else {
    for (size_t si = 0; si < program.steps.size(); ++si) {
      bool fixed = false;
      QMAP_RETURN_IF_ERROR(check_step(program, si, &fixed).with_context("runtime: "));
      ex.outputs_checked_.push_back(fixed);
    }
  }
  if (stored_plan) {
    QMAP_ASSIGN_OR_RETURN(ex.plan_, adopt_memory_plan(program, *stored_plan));
  } else {
    QMAP_ASSIGN_OR_RETURN(ex.plan_, plan_memory(program));
  }
  // Each kind's prepare (src/steps/<folder>/<folder>_run.cpp): the kernels' packed weights
  // share one huge-page arena, released with the last state that uses it.
  auto arena = std::make_shared<kernels::WeightArena>();
  const kernels::WeightArenaScope arena_scope(*arena);
  for (size_t si = 0; si < program.steps.size(); ++si) {
    const Step& s = program.steps[si];
    Node n = step_node(s);
    if (s.op == OpId::Custom && !n.custom)
      return error("runtime: step {} '{}': custom op {}.{} version {} has no plugin bound (resolve_custom_ops)", si,
                   s.node, n.domain, s.op_type, s.as<GenericParams>().custom_version);
    ex.step_nodes_.push_back(std::move(n));
    const StepRunDef& def = step_run_def(s.kind);
    PreparedStep prepared = def.prepare ? def.prepare(program, s, isa) : PreparedStep{};
    if (prepared.state) {
      // The state keeps the arena alive (the pair destroys the state first, then the arena).
      auto both = std::make_shared<std::pair<std::shared_ptr<kernels::WeightArena>, std::shared_ptr<const void>>>(
          arena, prepared.state);
      prepared.state = std::shared_ptr<const void>(both, both->second.get());
    }
    ex.scratch_per_worker_ = std::max(ex.scratch_per_worker_, kernels::scratch_stride(prepared.scratch_per_worker));
    ex.prepared_.push_back(std::move(prepared));
  }
  ex.isa_ = isa;
  ex.elementwise_ = &kernels::qelementwise_table(isa);
  for (const Step& s : program.steps) {
    bool wide = false;
    for (const auto* list : {&s.inputs, &s.outputs})
      for (int32_t t : *list) wide = wide || (t >= 0 && program.tensors[static_cast<size_t>(t)].dtype == DType::kInt16);
    ex.step_ew_.push_back(wide ? &kernels::qelementwise_table_int16(*ex.elementwise_) : ex.elementwise_);
  }
  ex.program_ = std::make_shared<const IntProgram>(std::move(program));
  return ex;
}

std::vector<std::string> Executor::step_kernel_names() const {
  std::vector<std::string> names;
  for (size_t si = 0; si < prepared_.size(); ++si) {
    const std::string_view fallback = step_run_def(program_->steps[si].kind).kernel;
    names.push_back(!prepared_[si].kernel.empty() ? prepared_[si].kernel
                    : fallback == "elementwise"   ? std::string(step_ew_[si]->isa)
                                                  : std::string(fallback));
  }
  return names;
}

size_t Executor::adopted_packed_steps() const {
  return static_cast<size_t>(
      std::count_if(prepared_.begin(), prepared_.end(), [](const PreparedStep& p) { return p.adopted_packed; }));
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
    st.runner_ = std::make_unique<kernels::PoolRunner>(*st.pool_);
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
  // A fast kernel folded the bias (and zx * sum w) when it was prepared: prepare this step
  // again, for the same ISA and shape (so the same scratch size).
  const StepRunDef& def = step_run_def(s.kind);
  if (def.prepare) out.prepared_[step] = def.prepare(*program, program->steps[step], isa_);
  out.program_ = std::move(program);
  return out;
}

Status Executor::run_step(size_t si, ExecState& st) const {
  const Step& s = program_->steps[si];
  const StepRun r{*program_,          s,
                  st.views_,          prepared_[si],
                  *step_ew_[si],      *st.runner_,
                  st.min_task_elements_, st.scratch_.defined() ? st.scratch_.raw() : nullptr,
                  step_nodes_[si],    outputs_checked_[si],
                  float_sgemm_};
  return step_run_def(s.kind).run(r);
}

int64_t StepRun::parts(int64_t elements) const {
  return std::max<int64_t>(1, std::min<int64_t>(runner.num_workers(), elements / min_task_elements));
}

const StepRunDef& step_run_def(StepKind k) {
  switch (k) {
#define QMAP_STEP_FAMILY(Lowering, folder, label)
#define QMAP_STEP(Kind, name, id, Params) \
  case StepKind::k##Kind: return kRun_##name;
#include "steps/step_list.def"
#undef QMAP_STEP
#undef QMAP_STEP_FAMILY
  }
  QMAP_CHECK(false, "step_run_def: kind {} is not a step kind (check_step rejects it)", static_cast<int>(k));
  return kRun_float;
}

}  // namespace qmap::rt
