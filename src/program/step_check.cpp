// check_step (step_check.h) and the StepChecker helpers the kinds' check hooks use
// (step_checker.h; the hooks are in src/steps/<folder>/<folder>_check.cpp).
#include "program/step_check.h"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <variant>

#include <fmt/format.h>

#include "kernels/ref/q8.h"
#include "ops/registry.h"
#include "program/step_checker.h"

namespace qmap {

namespace kr = kernels::ref;

Status StepChecker::fail_text(const std::string& what) const {
  const std::string who = is_step_kind(static_cast<int>(s_.kind)) ? std::string(step_kind_name(s_.kind))
                                                                  : fmt::format("step kind {}", static_cast<int>(s_.kind));
  return Status::error(fmt::format("{} '{}' (step {}): {}", who, s_.node, si_, what));
}

Status StepChecker::indices(bool op_eval) const {
  const int64_t nt = static_cast<int64_t>(p_.tensors.size());
  for (const auto* list : {&s_.inputs, &s_.outputs}) {
    const char* what = list == &s_.inputs ? "inputs" : "outputs";
    for (size_t i = 0; i < list->size(); ++i) {
      const int32_t t = (*list)[i];
      if (t == -1 && op_eval) continue;
      if (t == -1) return fail("{}[{}] is omitted (-1): this kind reads and writes every tensor it lists", what, i);
      if (t < 0 || t >= nt) return fail("{}[{}] is tensor {}: out of range (the program has {} tensors)", what, i, t, nt);
    }
  }
  return ok_status();
}

Status StepChecker::arity(size_t n_in) const {
  if ((n_in > 0 && s_.inputs.size() != n_in) || (n_in == 0 && s_.inputs.empty()) || s_.outputs.size() != 1)
    return fail("{} inputs and {} outputs: this kind reads {} and writes 1", s_.inputs.size(), s_.outputs.size(),
                n_in == 0 ? std::string("1 or more") : std::to_string(n_in));
  return indices(false);
}

Status StepChecker::q8(const ProgramTensor& t, const std::string& role, bool allow_int16) const {
  const bool wide = t.dtype == DType::kInt16;
  if ((t.dtype != DType::kInt8 && t.dtype != DType::kUInt8 && !(wide && allow_int16)) || !t.quant)
    return fail("{} '{}' is {} {}: this step reads and writes quantized {} tensors here", role, t.name,
                dtype_name(t.dtype), t.quant ? "with quantization" : "without quantization",
                allow_int16 ? "int8/uint8/int16" : "int8/uint8");
  if (!(t.quant->scale > 0.f) || !std::isfinite(t.quant->scale))
    return fail("{} '{}' scale {}: scales are positive and finite", role, t.name, t.quant->scale);
  if (wide) {
    if (t.quant->zero_point != 0)
      return fail("{} '{}' zero point {}: int16 tensors are symmetric (zero point 0)", role, t.name, t.quant->zero_point);
    return ok_status();
  }
  const bool sg = t.dtype == DType::kInt8;
  if (t.quant->zero_point < kr::q8_min(sg) || t.quant->zero_point > kr::q8_max(sg))
    return fail("{} '{}' zero point {}: outside the {} range [{}, {}]", role, t.name, t.quant->zero_point,
                dtype_name(t.dtype), kr::q8_min(sg), kr::q8_max(sg));
  return ok_status();
}

Status StepChecker::f32(const ProgramTensor& t, const char* role) const {
  if (t.dtype != DType::kFloat32) return fail("{} '{}' is {}: this step uses float32 here", role, t.name, dtype_name(t.dtype));
  return ok_status();
}

Status StepChecker::count(const ProgramTensor& t, const char* role, int64_t want, const char* rule) const {
  if (numel(t) != want)
    return fail("{} '{}' has {} elements ({}): {} = {}", role, t.name, numel(t), dims_str(t.dims), rule, want);
  return ok_status();
}

Status StepChecker::size(size_t got, int64_t want, const char* what, const char* rule) const {
  if (static_cast<int64_t>(got) != want) return fail("{} holds {} values: {} = {}", what, got, rule, want);
  return ok_status();
}

Status StepChecker::product(std::initializer_list<int64_t> f, const char* what, int64_t* r) const {
  *r = 1;
  for (int64_t v : f)
    if (!mul_ok(*r, v, r)) return fail("{} overflows int64", what);
  return ok_status();
}

Status StepChecker::clamp(const ProgramTensor& y, int32_t lo, int32_t hi) const {
  const bool sg = y.dtype != DType::kUInt8, wide = y.dtype == DType::kInt16;
  if (lo < kr::q_min(sg, wide) || hi > kr::q_max(sg, wide) || lo > hi)
    return fail("clamp [{}, {}]: inside the output's {} range [{}, {}] with lo <= hi", lo, hi, dtype_name(y.dtype),
                kr::q_min(sg, wide), kr::q_max(sg, wide));
  return ok_status();
}

Status StepChecker::multiplier(std::span<const QMultiplier> ms, size_t i) const {
  const QMultiplier& q = ms[i];
  if (q.m < (int32_t{1} << 30) || q.shift < kMinShift || q.shift > kMaxShift)
    return fail("multiplier {} is (m {}, shift {}): m is in [2^30, 2^31) and shift in [{}, {}]", i, q.m, q.shift,
                kMinShift, kMaxShift);
  return ok_status();
}

Status StepChecker::multipliers(std::span<const QMultiplier> ms, int64_t want, const char* rule) const {
  QMAP_RETURN_IF_ERROR(size(ms.size(), want, "multipliers", rule));
  // One pass without building a Status per entry (a ResNet-50 load checks 26,000); the first
  // bad entry, if any, is named by multiplier().
  for (size_t i = 0; i < ms.size(); ++i)
    if (ms[i].m < (int32_t{1} << 30) || ms[i].shift < kMinShift || ms[i].shift > kMaxShift) return multiplier(ms, i);
  return ok_status();
}

Status StepChecker::op_eval() const {
  const Step& s = s_;
  QMAP_RETURN_IF_ERROR(indices(true));
  if (s.outputs.empty()) return fail("no outputs: the step writes at least one tensor");
  // The declared output types and dims are what the op infers from the declared inputs (the
  // runtime sizes its arena by them before any step runs, so a forged 2 GiB output of a
  // Transpose must stop here, not when the step runs). Inputs computed at run time are known
  // by type and dims only; where the op cannot infer from that (a value-dependent shape, an
  // error it would not give on the real values), the run-time check stands. Custom ops are
  // bound to their plugin after reading (resolve_custom_ops).
  if (s.op == OpId::Custom) return ok_status();
  Node n = step_node(s);
  // The op's infer and eval read attributes by type and inputs by position: a forged type or
  // key, or an input count the op does not take (a one-input Mul), stops here.
  if (const Status st = validate_builtin_attributes(n); !st.ok()) return fail("{}", st.message());
  n.inputs.assign(s.inputs.begin(), s.inputs.end());  // tensor ids; an absent input (-1) is kNoValue
  n.outputs.assign(s.outputs.begin(), s.outputs.end());
  if (const Status st = validate_builtin_arity(n); !st.ok()) return fail("{}", st.message());
  std::vector<TensorInfo> infos;
  for (int32_t t : s.inputs) {
    if (t < 0) {
      infos.push_back(TensorInfo{});
      continue;
    }
    const ProgramTensor& pt = p_.tensors[static_cast<size_t>(t)];
    infos.push_back(TensorInfo{true, pt.dtype, pt.dims, pt.constant ? &*pt.constant : nullptr});
  }
  InferCtx ctx(n, infos);
  if (!op_def(s.op).infer(ctx).ok()) return ok_status();
  bool fixed = ctx.outputs().size() == s.outputs.size();
  for (size_t i = 0; i < s.outputs.size() && i < ctx.outputs().size(); ++i) {
    const auto& o = ctx.outputs()[i];
    fixed = fixed && s.outputs[i] >= 0 && o.dims.has_value();
    if (s.outputs[i] < 0) continue;
    const ProgramTensor& y = p_.tensors[static_cast<size_t>(s.outputs[i])];
    if (o.dims && (o.dtype != y.dtype || *o.dims != y.dims))
      return fail("output {} '{}' is {} {}: {} infers {} {} from the inputs", i, y.name, dtype_name(y.dtype),
                  dims_str(y.dims), s.op_type, dtype_name(o.dtype), dims_str(*o.dims));
  }
  if (fixed_) *fixed_ = fixed;
  return ok_status();
}

namespace {

// The kinds' hooks by kind.
using CheckFn = Status (*)(const StepChecker&);
CheckFn check_hook(StepKind k) {
  switch (k) {
#define QMAP_STEP_FAMILY(Lowering, folder, label)
#define QMAP_STEP(Kind, name, id, Params) \
  case StepKind::k##Kind: return &check_##name;
#include "steps/step_list.def"
#undef QMAP_STEP
#undef QMAP_STEP_FAMILY
  }
  return nullptr;
}

// What every kind shares, then the kind's hook.
Status check_any(const StepChecker& c) {
  const Step& s = c.step();
  if (!is_step_kind(static_cast<int>(s.kind))) return c.fail("not a step kind (1..{})", kMaxStepKind);
  // Every kind: op_def(id) aborts on an unknown id (kMove/kFloat steps run the op; tools such as
  // qmap info and perf look up every step's op), so the id must be one of the registry's.
  const auto ops = all_ops();
  if (std::find(ops.begin(), ops.end(), s.op) == ops.end())
    return c.fail("op id {} ({}): not an op this qmap knows (ids in ops/op_list.def)", static_cast<int>(s.op),
                  s.op_type);
  // The parameters are the kind's type (the reader builds them so; a program made in memory
  // could hold another).
  if (s.params.index() != step_params_index(s.kind))
    return c.fail("parameters of type {} of {}: not this kind's (type {})", s.params.index(),
                  std::variant_size_v<StepParams>, step_params_index(s.kind));
  if (s.op == OpId::Custom && s.kind != StepKind::kFloat)
    return c.fail("custom op '{}': custom ops are float steps (kind {})", s.op_type, static_cast<int>(StepKind::kFloat));
  if (const auto* op = std::get_if<GenericParams>(&s.params)) {
    if (s.op == OpId::Custom && (op->domain.empty() || op->custom_version < 1))
      return c.fail("custom op '{}' (domain '{}', version {}): custom ops have a domain and a version >= 1",
                    s.op_type, op->domain, op->custom_version);
    if (s.op != OpId::Custom && (!op->domain.empty() || op->custom_version != 0 || !op->custom_library.empty()))
      return c.fail("op '{}' has a custom-op domain '{}', version {} or library '{}': only custom ops (op id {}) have "
                    "them",
                    s.op_type, op->domain, op->custom_version, op->custom_library, static_cast<int>(OpId::Custom));
  }
  return check_hook(s.kind)(c);
}

}  // namespace

Status check_step(const IntProgram& p, size_t step, bool* outputs_fixed) {
  QMAP_CHECK(step < p.steps.size(), "check_step: step {} of {}", step, p.steps.size());
  if (outputs_fixed) *outputs_fixed = false;
  return check_any(StepChecker(p, step, outputs_fixed));
}

}  // namespace qmap
