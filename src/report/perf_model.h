// The performance model behind `qmap perf` (docs/perf.md): per step of an IntProgram, the
// work (MACs, element operations, float operations), the bytes it reads and writes and which
// of them go through DDR, and from the march's cost model (target/target_spec.h CostModel) an
// estimated time, bound by compute or by memory (a roofline per layer). Pure functions of the
// program, its placement and the cost model: the same inputs give the same numbers, so the
// tests check them exactly against hand computations.
//
// Units are in the names: bytes, µs (microseconds), MACs (one multiply + one add), cycles
// (of the NPU clock, cost_model.clock_mhz).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "ir/tensor.h"
#include "program/bin_format.h"
#include "program/int_program.h"
#include "target/target_spec.h"

namespace qmap {

// Where a tensor lives during a frame (docs/perf.md "Memory").
enum class Residency { kConstant, kSram, kDdr };
const char* residency_name(Residency r);  // "constant", "sram", "ddr"

struct LayerPerf {
  int32_t step = 0;
  std::string node;
  std::string kind;  // step_kind_name
  std::string op;    // the ONNX op it computes ("Conv", "Add", ...)
  bool cpu = false;
  int32_t subgraph = 0;
  std::vector<Dims> in_shapes;   // activation inputs (constants left out)
  std::vector<Dims> out_shapes;
  int64_t macs = 0;          // multiply-accumulates (convolutions, Gemm, MatMul)
  int64_t ops = 0;           // what the compute unit counts: MACs for convolutions, element
                             // operations for the vector unit, float operations on the CPU
  std::string unit;          // "conv", "depthwise", "vector", "dma" (NPU) or "cpu"
  int64_t weight_bytes = 0;  // int8 weights + int32 bias + tables + constant inputs
  int64_t bytes_in = 0;      // activation bytes read
  int64_t bytes_out = 0;     // activation bytes written
  int64_t ddr_load_bytes = 0;   // of bytes_in those in DDR, plus weight_bytes
  int64_t ddr_store_bytes = 0;  // of bytes_out those in DDR
  int64_t sram_bytes = 0;       // bytes_in + bytes_out on chip
  double compute_us = 0;
  double memory_us = 0;
  double est_us = 0;      // max(compute_us, memory_us) + layer_overhead_us
  double est_cycles = 0;  // est_us * clock_mhz
  std::string bound;      // "compute" or "memory"
  std::optional<double> measured_us;  // median over the measured runs (perf --measure)
};

struct SubgraphPerf {
  int32_t id = 0;
  bool cpu = false;
  int32_t first_step = 0, last_step = 0;
  int64_t macs = 0, weight_bytes = 0, ddr_load_bytes = 0, ddr_store_bytes = 0;
  double est_us = 0;
  std::optional<double> measured_us;
};

// Median, min and max over the measured runs, microseconds.
struct TimeStats {
  double median_us = 0, min_us = 0, max_us = 0;
};
TimeStats time_stats(std::vector<double> samples_us);

struct PerfMeasurement {
  int runs = 0;
  int threads = 1;
  std::string isa;
  TimeStats total;  // end to end (Context::run wall time)
  TimeStats npu;    // per run, the sum of the NPU steps
  TimeStats cpu;    // per run, the sum of the CPU steps
  double layer_sum_us = 0;  // mean over runs of the per-step sum (for the 5 % check)
};

struct PerfReport {
  std::string model;   // name (file stem)
  std::string source;  // path
  std::string source_kind;  // "bin" or "quantized onnx"
  std::string march;
  CostModel cost;
  std::vector<LayerPerf> layers;
  std::vector<SubgraphPerf> subgraphs;
  std::vector<Residency> residency;  // per program tensor
  std::vector<std::pair<int32_t, int32_t>> edges;  // (producer step, consumer step), each pair once
  int64_t arena_bytes = 0;           // peak activation memory (the memory plan's arena)
  int64_t macs = 0, ops = 0, weight_bytes = 0, ddr_load_bytes = 0, ddr_store_bytes = 0;
  int switches = 0;            // NPU <-> CPU hand-overs
  double switch_us = 0;        // switches * subgraph_switch_us
  double est_npu_us = 0, est_cpu_us = 0, est_total_us = 0;
  std::optional<PerfMeasurement> measured;

  int64_t ddr_bytes() const { return ddr_load_bytes + ddr_store_bytes; }
  double gops() const { return 2.0 * static_cast<double>(macs) / 1e9; }  // 2 ops per MAC
};

// Which tensors stay in SRAM and which go through DDR (docs/perf.md "Memory"):
// constants are weights (loaded from DDR by the step that reads them); graph inputs and
// outputs and every tensor a CPU step reads or writes, or that crosses a subgraph border, live
// in DDR; the other activations stay in SRAM when, at every step of their lifetime, they fit
// beside the SRAM-resident tensors alive then (first come, first served, in step order), and
// spill to DDR otherwise.
// With cpu_shares_sram (a CPU-only march such as host) CPU steps and subgraph borders force
// nothing: every activation that is not a graph input or output competes for the SRAM.
std::vector<Residency> plan_residency(const IntProgram& p, const std::vector<StepPlacement>& placement,
                                      int64_t sram_bytes, bool cpu_shares_sram = false);

// Output pixels per batch item that a dense convolution of geometry g computes under the cost
// model's conv_pixel_vector and conv_row_halo (kernels::conv_computed_pixels, docs/perf.md).
int64_t conv_computed_pixels(const kernels::ref::ConvGeometry2d& g, const CostModel& c);

// Contiguous runs a data-movement step copies: a Transpose copies its output in blocks of the
// trailing axes its permutation keeps in place (a channel shuffle 1x2x232x49 -> 1x232x2x49 is
// 464 runs of 49); the other moves (reshapes, slices, splits) are counted as one run.
int64_t move_runs(const IntProgram& p, const Step& s);

// The whole estimate. arena_bytes: the memory plan's arena (reported, not used by the model).
PerfReport estimate_perf(const IntProgram& p, const std::vector<StepPlacement>& placement, const CostModel& cost,
                         int64_t arena_bytes);

// Fills layers[i].measured_us (median per step), the subgraph sums and `measured`.
void attach_measurement(PerfReport& r, const std::vector<double>& step_mean_us, PerfMeasurement m);

}  // namespace qmap
