// The runtime side of a step kind: kRun_<name> (src/steps/<folder>/<folder>_run.cpp), one per
// line of src/steps/step_list.def. The executor (executor.h) prepares every step once with its
// kind's `prepare` (after check_step accepted it) and runs it with `run`, which cannot fail
// for integer kinds: check_step proved what their kernels assume. Steps run through an op's
// own eval (kMove, kFloat) may still report a data-dependent error.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "core/status.h"
#include "ir/graph.h"
#include "kernels/f32/sgemm.h"
#include "kernels/isa.h"
#include "kernels/parallel.h"
#include "kernels/qelementwise_table.h"
#include "kernels/ref/q8.h"
#include "program/int_program.h"

namespace qmap::rt {

// What a kind's prepare made for one step: the state its run reads (a convolution's packed
// weights and folded bias), the kernel's name `qmap info` lists, and the scratch bytes per
// worker the run needs (the executor gives every worker the largest any step needs).
struct PreparedStep {
  std::shared_ptr<const void> state;  // null: the run needs none (or the ISA has no kernel)
  std::string kernel;                 // empty: StepRunDef::kernel
  size_t scratch_per_worker = 0;
  bool adopted_packed = false;        // the state uses the .bin's packed weights (PACKED) in place
};

// One step's run: its parameters and tensors, the ISA's element-wise kernels, the threads.
struct StepRun {
  const IntProgram& program;
  const Step& step;
  std::span<Tensor> views;  // per program tensor (the state's arena, inputs, outputs, constants)
  const PreparedStep& prepared;
  // The step's element-wise kernels, chosen at prepare: the ISA's, or when a tensor it reads or
  // writes is int16 (the higher-precision form; the fast entries take 8-bit only) the
  // reference's with the level's int16 add (kernels::qelementwise_table_int16).
  const kernels::QElementwiseTable& ew;
  const kernels::TaskRunner& runner;
  int64_t min_task_elements;  // below this, a memory-bound step stays on one worker
  std::byte* scratch;         // runner.num_workers() slices of the largest scratch_per_worker
  const Node& node;           // the step's node (op, attributes) for op-eval kinds
  bool outputs_checked;       // op-eval kinds: check_step proved the outputs (no shape inference)
  kernels::f32::SgemmFn float_sgemm;

  template <class P>
  const P& params() const {
    return step.as<P>();
  }
  const Tensor& in(size_t i) const { return views[static_cast<size_t>(step.inputs[i])]; }
  Tensor& out(size_t i = 0) const { return views[static_cast<size_t>(step.outputs[i])]; }
  const TensorQuant& qin(size_t i) const { return *program.tensors[static_cast<size_t>(step.inputs[i])].quant; }
  const TensorQuant& qout(size_t i = 0) const { return *program.tensors[static_cast<size_t>(step.outputs[i])].quant; }
  // The parts a memory-bound step of `elements` outputs splits into (one per worker when it is
  // large enough to pay for the hand-off).
  int64_t parts(int64_t elements) const;
};

// Views of quantized tensors (8-bit, or int16 where a step takes the higher-precision form),
// and at an element offset.
inline kernels::ref::Q8In q8_in(const Tensor& t) {
  return {t.raw(), t.dtype() != DType::kUInt8, t.dtype() == DType::kInt16};
}
inline kernels::ref::Q8Out q8_out(Tensor& t) { return {t.raw(), t.dtype() != DType::kUInt8, t.dtype() == DType::kInt16}; }
inline kernels::ref::Q8In q8_at(kernels::ref::Q8In x, int64_t off) {
  return {static_cast<const uint8_t*>(x.data) + (x.wide ? 2 * off : off), x.is_signed, x.wide};
}
inline kernels::ref::Q8Out q8_at(kernels::ref::Q8Out y, int64_t off) {
  return {static_cast<uint8_t*>(y.data) + (y.wide ? 2 * off : off), y.is_signed, y.wide};
}

// Calls fn(begin, end) for `parts` even slices of [0, n), on the runner's workers. Each part
// is computed exactly as the whole would be, so results do not depend on the split.
template <typename Fn>
void for_slices(const kernels::TaskRunner& r, int64_t n, int64_t parts, Fn fn) {
  if (parts <= 1) return fn(int64_t{0}, n);
  r.run(static_cast<size_t>(parts), [&](size_t k, int) {
    const int64_t b = n * static_cast<int64_t>(k) / parts, e = n * static_cast<int64_t>(k + 1) / parts;
    if (b < e) fn(b, e);
  });
}

struct StepRunDef {
  // Optional: what the step's runs read, made once for the executor's ISA. Called after
  // check_step accepted the step, inside the executor's weight-arena scope.
  PreparedStep (*prepare)(const IntProgram& p, const Step& s, kernels::Isa isa) = nullptr;
  Status (*run)(const StepRun& r) = nullptr;
  // The kernel `qmap info` names when prepare gave none: "elementwise" for the element-wise
  // table's level ("ref", "avx2", ...), otherwise this text.
  const char* kernel = "elementwise";
  // The memory plan may give the step's one output the arena slot of an input with the same
  // dims and element size that no later step reads (runtime/memory_plan.h, in place): every
  // ISA's kernels for the kind (and every worker's part of them) read each element of that
  // input before writing the output element at the same index, and no other.
  bool in_place = false;
};

// The kinds' run hooks, one per line of src/steps/step_list.def.
#define QMAP_STEP_FAMILY(Lowering, folder, label)
#define QMAP_STEP(Kind, name, id, Params) extern const StepRunDef kRun_##name;
#include "steps/step_list.def"
#undef QMAP_STEP
#undef QMAP_STEP_FAMILY

// Kind k's hooks.
const StepRunDef& step_run_def(StepKind k);

}  // namespace qmap::rt
