// StepChecker: what a step kind's check hook (check_<name>, src/steps/<folder>/<folder>_check.cpp)
// is written with. check_step (step_check.h) makes one per step, checks what every kind shares
// (the kind, the op id, the parameter type, custom-op fields) and calls the kind's hook, which
// checks what its kernels assume: tensor indices and arity, dtypes and quantization, geometry
// against the tensors' element counts, blob sizes, multipliers and clamps. Every product of
// sizes is overflow-checked (a forged .bin can hold any int64), so nothing in a hook may
// overflow or index out of range before the check that guards it.
//
// Errors read "<kind> '<node>' (step <i>): <what> <value>: <rule>" (fail()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "core/status.h"
#include "program/int_program.h"

namespace qmap {

class StepChecker {
 public:
  StepChecker(const IntProgram& p, size_t si, bool* outputs_fixed)
      : p_(p), s_(p.steps[si]), si_(si), fixed_(outputs_fixed) {}

  const IntProgram& program() const { return p_; }
  const Step& step() const { return s_; }
  // The step's parameters (check_step has made sure they are the kind's type).
  template <class P>
  const P& params() const {
    return s_.as<P>();
  }

  // The step's error: "<kind> '<node>' (step <i>): " and the message.
  template <typename... Args>
  Status fail(fmt::format_string<Args...> f, Args&&... args) const {
    return fail_text(fmt::format(f, std::forward<Args>(args)...));
  }
  Status fail_text(const std::string& what) const;

  // Tensors by position (after arity() or indices() accepted the indices).
  const ProgramTensor& in(size_t i) const { return p_.tensors[static_cast<size_t>(s_.inputs[i])]; }
  const ProgramTensor& out() const { return p_.tensors[static_cast<size_t>(s_.outputs[0])]; }
  static int64_t numel(const ProgramTensor& t) { return num_elements(t.dims); }

  static bool mul_ok(int64_t a, int64_t b, int64_t* out) { return !__builtin_mul_overflow(a, b, out); }
  static bool add_ok(int64_t a, int64_t b, int64_t* out) { return !__builtin_add_overflow(a, b, out); }

  // Tensor indices inside the table. Op-eval (kMove/kFloat) steps run through the op's eval,
  // where -1 is an omitted optional input or an unused output; integer steps read and write
  // every tensor they list.
  Status indices(bool op_eval) const;
  // Exactly n_in inputs (n_in = 0: one or more) and one output, every index in the table.
  Status arity(size_t n_in) const;
  // An 8-bit tensor with a per-tensor quantization: scale positive and finite, zero point
  // inside the type's range. With allow_int16, also an int16 one (zero point 0): the
  // higher-precision form, for the kinds that take it (conv, add, quantize, dequantize).
  Status q8(const ProgramTensor& t, const std::string& role, bool allow_int16 = false) const;
  Status f32(const ProgramTensor& t, const char* role) const;
  // The tensor's element count equals what the step's parameters say.
  Status count(const ProgramTensor& t, const char* role, int64_t want, const char* rule) const;
  // A blob or parameter list of the size the geometry implies.
  Status size(size_t got, int64_t want, const char* what, const char* rule) const;
  // Product of sizes, overflow-checked.
  Status product(std::initializer_list<int64_t> f, const char* what, int64_t* r) const;
  // The output clamp inside the output type's range.
  Status clamp(const ProgramTensor& y, int32_t lo, int32_t hi) const;
  // Multiplier i, one the kernel uses: m in [2^30, 2^31), shift in [kMinShift, kMaxShift].
  Status multiplier(std::span<const QMultiplier> ms, size_t i) const;
  Status multipliers(std::span<const QMultiplier> ms, int64_t want, const char* rule) const;
  // One input, one output of the same element count.
  Status elementwise() const { return count(out(), "output", numel(in(0)), "the input's element count"); }
  // A step run by its op's own eval (kMove, kFloat): indices, attributes, and the declared
  // outputs against what the op infers from the declared inputs; sets check_step's
  // outputs_fixed.
  Status op_eval() const;

 private:
  const IntProgram& p_;
  const Step& s_;
  size_t si_;
  bool* fixed_;  // check_step's outputs_fixed (may be null)
};

// The kinds' check hooks, one per line of src/steps/step_list.def.
#define QMAP_STEP_FAMILY(Lowering, folder, label)
#define QMAP_STEP(Kind, name, id, Params) Status check_##name(const StepChecker& c);
#include "steps/step_list.def"
#undef QMAP_STEP
#undef QMAP_STEP_FAMILY

}  // namespace qmap
