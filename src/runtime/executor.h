// Executor: runs an IntProgram (program/int_program.h) step by step with the integer reference
// kernels (kernels/ref/) or, for the runtime, with the fast kernels of one ISA (kernels/isa.h),
// which are bit-exact with the reference. The integer simulator (quant/int_simulator.h)
// prepares with Isa::kRef, so `qmap verify` compares two implementations; the runtime library
// (include/qmap/runtime.h) prepares with the ISA chosen at load (QMAP_ISA or the best the CPU
// has).
//
// prepare() checks once everything the kernels assume with check_step (program/step_check.h:
// tensor wiring, dtypes, element counts against each step's geometry, blob sizes, multiplier
// ranges, clamps), then plans memory (dataflow): the integer kernels never fail and never read
// or write out of bounds. kMove and kFloat steps run through the op's own float/data-movement
// eval (the ops/ registry, library qmap_ops, with the portable sgemm: no BLAS), the same code
// path in the integer simulator and the runtime. Those evals can still report data-dependent
// errors (e.g. a Gather index out of range), so run() returns a Status.
//
// An Executor is immutable after prepare(): any number of threads may run it at once, each
// with its own ExecState (arena, input and output buffers).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/status.h"
#include "core/spin_pool.h"
#include "core/thread_pool.h"
#include "ir/graph.h"
#include "kernels/isa.h"
#include "kernels/qelementwise_table.h"
#include "program/int_program.h"
#include "runtime/memory_plan.h"
#include "runtime/step_run.h"

namespace qmap::rt {

// Per-context memory: one arena (laid out by a MemoryPlan), a buffer per graph input and
// output, and per program tensor a Tensor viewing its storage (constants share the program's
// buffers, read-only). Move-only: the views point into this state's own buffers.
class ExecState {
 public:
  ExecState(ExecState&&) = default;
  ExecState& operator=(ExecState&&) = default;
  ExecState(const ExecState&) = delete;
  ExecState& operator=(const ExecState&) = delete;

  // The value of program tensor t (valid after run() for tensors the plan keeps: graph
  // inputs, outputs, constants, and every tensor with keep_all).
  const Tensor& tensor(size_t t) const { return views_[t]; }
  // Graph input i's buffer (program order), to be filled before run().
  Tensor& input(size_t i) { return views_[input_index_[i]]; }
  bool keeps_all() const { return keep_all_; }
  // Per-step wall time of the runs so far, in nanoseconds (empty unless profiling was enabled
  // with enable_profile()); for `qmap perf --measure` and the benchmarks.
  void enable_profile(bool on) { profile_ns_.assign(on ? views_.size() : 0, 0), profile_runs_ = 0; }
  const std::vector<int64_t>& profile_ns() const { return profile_ns_; }
  int64_t profile_runs() const { return profile_runs_; }

 private:
  friend class Executor;
  ExecState() = default;
  Tensor arena_;                     // uint8 [arena_bytes], 64-byte aligned (Tensor buffers are)
  Tensor scratch_;                   // kernels' scratch: workers x the largest per-worker need
  std::unique_ptr<SpinPool> pool_;   // intra-op threads (none for 1 thread)
  std::unique_ptr<kernels::TaskRunner> runner_;
  std::vector<Tensor> own_;          // input/output buffers
  std::vector<Tensor> views_;        // per program tensor
  std::vector<size_t> input_index_;  // graph input i -> tensor index
  bool keep_all_ = false;
  int64_t min_task_elements_ = 16384;
  std::vector<int64_t> profile_ns_;  // per step (sized to the step count by Executor::run)
  int64_t profile_runs_ = 0;
};

class Executor {
 public:
  // Validates the program (errors: "runtime: <step kind> '<node>' (step <i>): <what> <value>: <rule>")
  // and computes its memory plan, or checks and adopts `stored_plan` (from a .bin) if given.
  // isa: the kernels to run integer steps with (a level host_isas() lists); each step the
  // ISA has no kernel for runs on the reference.
  // `checked`: check_step's outputs-fixed flags of every step when the caller already ran the
  // validator on this program (the .bin reader does); else prepare runs it.
  static Result<Executor> prepare(IntProgram program, const StoredMemoryPlan* stored_plan = nullptr,
                                  kernels::Isa isa = kernels::Isa::kRef, const std::vector<bool>* checked = nullptr);

  const IntProgram& program() const { return *program_; }
  const MemoryPlan& plan() const { return plan_; }
  kernels::Isa isa() const { return isa_; }
  // Per step, what runs it: a convolution's fast kernel name ("ref" when it runs on the
  // reference), the element-wise table's level for the other integer steps ("ref", "avx2",
  // "avxvnni", "avx512vnni"), "op eval" for data-movement and float steps.
  std::vector<std::string> step_kernel_names() const;
  // Steps whose kernel adopted the .bin's packed weights instead of packing at load.
  size_t adopted_packed_steps() const;

  // A fresh per-thread state. keep_all: every intermediate gets its own slot (no reuse), so
  // all values stay readable after run() (dumps, per-node comparisons).
  // threads: intra-op workers (<= 0: one per core); results are identical for every count.
  // min_task_elements: the output elements below which a memory-bound step (add, mul, LUT,
  // quantize, dequantize, pools) is not split over threads (tests lower it to split small ones).
  ExecState make_state(bool keep_all = false, int threads = 1, int64_t min_task_elements = 16384) const;

  // The GEMM of the float steps (Conv/Gemm/MatMul on the CPU): the portable one, so the runtime
  // and the integer simulator agree bit for bit. A toolchain caller that compares float steps
  // with the float engine rather than with the runtime (qmap debug's sensitivity runs, where
  // most of the graph is float) may pass the float engine's sgemm_blas instead.
  void set_float_sgemm(kernels::f32::SgemmFn sgemm) { float_sgemm_ = sgemm; }

  // Runs every step; the inputs must already be in state.input(i).
  Status run(ExecState& state) const;
  // Runs steps [begin, end) only: every tensor they read must already be computed in `state`
  // (by earlier run_steps calls). For tools that look at values between steps.
  Status run_steps(ExecState& state, size_t begin, size_t end) const;

  // A copy of this executor whose convolution step `step` adds `bias` (int32, one per output
  // channel) instead of its own: bias correction (quant/bias_correction.h) measures a layer on
  // the quantized upstream, then corrects it before the layers after it run. The program is
  // copied (weights shared), the memory plan kept, so states made by this executor serve the
  // copy; a step a fast kernel runs gets its kernel made again (it folds the bias).
  Result<Executor> with_conv_bias(size_t step, std::vector<int32_t> bias) const;

 private:
  Executor() = default;
  Status run_step(size_t si, ExecState& st) const;

  std::shared_ptr<const IntProgram> program_;  // shared so copies of an Executor stay cheap
  MemoryPlan plan_;
  std::vector<Node> step_nodes_;  // per step: a Node carrying op + attrs (kMove/kFloat)
  std::vector<bool> outputs_checked_;  // per step: run by eval_node_checked (no shape inference)
  kernels::Isa isa_ = kernels::Isa::kRef;
  kernels::f32::SgemmFn float_sgemm_ = kernels::f32::sgemm_portable;
  // Per step: what its kind's prepare made (runtime/step_run.h), e.g. a convolution's fast
  // kernel with packed weights.
  std::vector<PreparedStep> prepared_;
  size_t scratch_per_worker_ = 0;  // bytes, the largest any step needs
  const kernels::QElementwiseTable* elementwise_ = nullptr;  // the other integer steps' kernels
  // Per step, the element-wise table its run gets: elementwise_, or its int16 form for a step
  // with an int16 tensor (decided once here, not per run).
  std::vector<const kernels::QElementwiseTable*> step_ew_;
};

}  // namespace qmap::rt
