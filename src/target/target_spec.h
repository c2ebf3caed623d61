// TargetSpec: one march (targets/<name>.yaml) — which ops the NPU runs and within which
// limits, which ops run in float on the CPU, and the cost-model numbers `qmap perf` uses.
//
// A spec is data, not code. The vocabulary it may use is defined here, in two tables:
//   known_params()  — the parameter names a limit can name (kernel, stride, ..., plus the
//                     generic ones placement computes for every node: rank, dtype, ...);
//   limit_kinds()   — max, min, in, one_of: how a limit compares a parameter.
// Adding a parameter or a kind is one row in target_spec.cpp; docs/targets.md is generated
// from the same tables (target/spec_doc.h), so the docs cannot drift.
//
// Ops report their parameters through OpDef::npu_params (ops/op_def.h); a limit on a
// parameter the node does not report fails (the op falls back to CPU with that reason):
// an unchecked limit must never put a node on the NPU.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ops/op_def.h"
#include "ops/op_id.h"

namespace qmap {

// How a parameter's value is carried in OpParam and printed in reasons.
enum class ParamKind {
  kDims,  // ints printed as "9x9" (kernel, stride, dilation)
  kInts,  // ints printed as "4096" or "[0, 2, 3, 1]" (channels, pads, perm)
  kText,  // text (mode = "nearest", broadcast = "channel", dtype = "float32")
};

struct ParamInfo {
  const char* name;
  ParamKind kind;
  bool generic;     // computed by placement for every node, not reported by the op
  const char* doc;  // one line for docs/targets.md
};
std::span<const ParamInfo> known_params();
const ParamInfo* find_param(std::string_view name);

enum class LimitKind {
  kMax,    // every value <= bound (one bound for all values, or one per value)
  kMin,    // every value >= bound
  kIn,     // every value is a member of the set (numbers, or names of other int parameters)
  kOneOf,  // the whole value equals one of the listed values (perm one_of [[0,2,3,1], ...])
};

struct LimitKindInfo {
  const char* name;
  LimitKind kind;
  const char* doc;
};
std::span<const LimitKindInfo> limit_kinds();

// A member of an `in` set: a number, a text, or (for int parameters) the name of another
// parameter of the same node, e.g. `group: {in: [1, in_channels]}` (dense or depthwise).
struct SetItem {
  std::optional<int64_t> number;
  std::string text;  // the text value, or the referenced parameter's name
};

struct Limit {
  std::string param;  // a known_params() name
  LimitKind kind = LimitKind::kMax;
  std::vector<int64_t> bound;                     // kMax, kMin
  std::vector<SetItem> set;                       // kIn
  std::vector<std::vector<int64_t>> int_choices;  // kOneOf on int parameters
  std::vector<std::string> text_choices;          // kOneOf on text parameters
};

// The spec's text of a limit, as written in docs: "max 7x7", "in {1, 2}".
std::string limit_str(const Limit& limit);

// Checks one limit against every parameter of that name in `params` (generic parameters
// such as `rank` appear once per tensor). Returns the reason of the first failure, phrased
// for the checker table: "kernel 9x9 > 7x7", "stride 3 not in {1, 2}",
// "in_channels 4096 > 2048", "broadcast general not in {none, scalar, channel}".
std::optional<std::string> check_limit(const Limit& limit, const OpParams& params);

struct NpuOpRule {
  OpId op{};  // 0 (no op has it) when loaded with require_registered_ops = false and unknown
  std::string name;           // op name as written in the spec
  std::vector<Limit> limits;  // the op's own limits, in file order
  std::string note;           // why these limits (docs)
};

struct CpuOpRule {
  OpId op{};  // 0 (no op has it) when loaded with require_registered_ops = false and unknown
  std::string name;
  std::string note;  // why this op stays on the CPU (docs)
};

// Numbers `qmap perf` turns into latency and bandwidth estimates (docs/targets.md explains
// each). Units are in the names.
struct CostModel {
  double clock_mhz = 0;              // NPU core clock
  int64_t int8_macs_per_cycle = 0;   // peak int8 multiply-accumulates per NPU cycle
  double ddr_bandwidth_gbps = 0;     // sustained DDR bandwidth, GB/s (1e9 bytes/s)
  int64_t sram_kib = 0;              // on-chip SRAM for activations and weights, KiB
  double cpu_gflops = 0;             // float throughput of the host CPU for CPU ops, GFLOP/s
  double subgraph_switch_us = 0;     // fixed cost of each NPU<->CPU hand-over, microseconds
  // Optional keys (docs/perf.md); 0 in the file's absence means the default named here.
  int64_t depthwise_macs_per_cycle = 0;  // depthwise convolutions; default int8_macs_per_cycle
  int64_t vector_ops_per_cycle = 0;      // element operations of the vector unit (add, mul,
                                         // quantize, LUT); default int8_macs_per_cycle
  double sram_bandwidth_gbps = 0;        // on-chip traffic; 0: not a bound (free)
  double layer_overhead_us = 0;          // fixed cost per step (launch, synchronization)
  int64_t simple_ops_per_cycle = 0;      // element operations without requantization
                                         // (dequantization, pooling taps); default
                                         // vector_ops_per_cycle
  int64_t output_ops_per_cycle = 0;      // convolution outputs requantized and stored per
                                         // cycle, in series with the MACs; 0: not a cost
  double depthwise_channel_cycles = 0;   // fixed cycles per depthwise channel (setup, edges)
  double eval_overhead_us = 0;           // extra fixed cost of data-movement and CPU steps
                                         // (generic code: dispatch, shape checks)
  bool cpu_shares_sram = false;          // the CPU works in the same on-chip memory (a CPU-only
                                         // "march" such as host): NPU/CPU borders do not force DDR
  int64_t conv_pixel_vector = 0;         // a dense convolution computes its output pixels in
                                         // runs of this many (row-major); the lanes past the last
                                         // pixel are computed and dropped; 0: no such loss
  bool conv_row_halo = false;            // and each output row is widened by the window's halo
                                         // ((kw-1)*dilation/stride columns), computed and dropped
  double move_run_cycles = 0;            // fixed cycles per contiguous run a data-movement step
                                         // copies (a DMA descriptor; a copy call on a CPU)

  int64_t depthwise_rate() const { return depthwise_macs_per_cycle > 0 ? depthwise_macs_per_cycle : int8_macs_per_cycle; }
  int64_t vector_rate() const { return vector_ops_per_cycle > 0 ? vector_ops_per_cycle : int8_macs_per_cycle; }
  int64_t simple_rate() const { return simple_ops_per_cycle > 0 ? simple_ops_per_cycle : vector_rate(); }
};

struct TargetSpec {
  std::string name;
  std::string description;
  std::string source;  // "generic (built in)" or the file path, for messages
  CostModel cost;
  std::vector<Limit> npu_defaults;  // apply to every NPU op unless the op limits the same param
  std::vector<NpuOpRule> npu_ops;   // in file order
  std::vector<CpuOpRule> cpu_ops;   // in file order

  const NpuOpRule* npu_rule(OpId op) const;
  bool is_cpu_op(OpId op) const;
  // The limits that apply to an NPU op: defaults whose param the op does not limit itself,
  // then the op's own, in that order (the checker reports the first failure).
  std::vector<Limit> effective_limits(const NpuOpRule& rule) const;
};

struct SpecLoadOptions {
  // Op names must be IR ops (op_by_name). Tools that only read a spec's text (the docs
  // generator when running against an IR that lacks some ops) may relax this.
  bool require_registered_ops = true;
};

// Parses and validates spec text. `source` names the file in errors, which read
// "target spec '<source>': key '<path>' (line N): <what>: <rule>".
Result<TargetSpec> parse_target_spec(std::string_view yaml_text, const std::string& source,
                                     const SpecLoadOptions& options = {});

// `march` is a built-in name (see embedded_target_names), the name of a spec installed beside
// the running qmap (installed_targets_dir()/<march>.yaml; built-in names win), or a path to a
// .yaml file.
Result<TargetSpec> load_target_spec(const std::string& march, const SpecLoadOptions& options = {});

// <directory of the running executable>/../share/qmap/targets (the relative path comes from
// the install layout, cmake/install.cmake) when that directory exists: `cmake --install` puts
// targets/*.yaml there, and more march specs dropped there are found by name, wherever the
// installed tree was moved.
std::optional<std::string> installed_targets_dir();

// Targets compiled into the binary from targets/*.yaml, sorted by name.
std::vector<std::string> embedded_target_names();
std::optional<std::string_view> embedded_target_text(std::string_view name);

}  // namespace qmap
