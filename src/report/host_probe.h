// host_probe: what this CPU does, measured in the process that uses it: the single-core int8
// multiply-accumulate peak (the "100%" of bench/int8_vs_ort's per-layer table and the `host`
// march's compute roof of `qmap perf`, docs/perf.md), the per-core L2 size, and the streaming
// bandwidth of the L2 and of memory (DDR).
//
// Not runtime code: the runtime library never probes. Built as its own small library
// (qmap_host_probe, over core and the kernels) so the benchmarks link it without the
// toolchain.
#pragma once

#include <cstdint>
#include <string>

namespace qmap {

struct Int8Peak {
  double core_ghz = 0;             // dependent-add chain estimate
  double vnni_zmm_gmacs = 0;       // vpdpbusd zmm; 0: the CPU has no AVX-512 VNNI
  double vnni_ymm_gmacs = 0;       // vpdpbusd ymm; 0: no AVX-512 VNNI
  double avx2_vpmaddwd_gmacs = 0;  // vpmaddwd ymm + vpaddd; 0: the CPU has no AVX2
};

// Runs each probe the CPU supports for about `seconds_per_test` (best of ~5 ms runs) on the calling
// thread, one core.
Int8Peak measure_int8_peak(double seconds_per_test);

struct MemoryProbe {
  int64_t l2_bytes = 0;           // per-core L2 (sysfs; 1 MiB when it cannot be read)
  double l2_copy_gbps = 0;   // memcpy within half the L2, bytes read + written per second / 1e9
  double ddr_copy_gbps = 0;  // memcpy of 64 MiB into 64 MiB (far beyond any cache)
};

// Best of short runs filling about `seconds_per_test` each, on the calling thread.
MemoryProbe measure_memory(double seconds_per_test);

// What qmap's own kernels reach on this CPU (the best level it has, kernels/isa.h), on one
// thread, on representative shapes (host_probe.cpp lists them): the rates the `host` march's
// cost model uses, since they, not the instruction peak, are what a layer achieves.
struct KernelProbe {
  std::string isa;
  double dense_gmacs = 0;      // MAC rate of dense convolutions (3x3 64->64 at 28x28, 1x1 16->96 at 56x56)
  double conv_gouts = 0;       // their output rate (requantize + store), G outputs/s; 0: not resolved
  double depthwise_gmacs = 0;  // 3x3 depthwise MAC rate (144 channels at 56x56, 960 at 7x7)
  double depthwise_channel_us = 0;  // its fixed cost per channel
  double add_gelems = 0;       // int8 add with requantization, 64x56x56 elements out, G elements/s
  double pool_gtaps = 0;       // 3x3 max pool over 64x56x56, G taps/s (simple ops: no requantization)
  double float_gflops = 0;     // y = y * a + b over 64 Ki floats (baseline x86-64 code, as CPU ops run)
  double call_us = 0;          // a step's fixed cost: an add of 64 elements
  // The dense kernel's pixel layout (kernels::conv_pixel_layout): the rates above are per
  // computed MAC and output, lanes the kernel drops included, as the cost model counts them.
  int64_t conv_pixel_vector = 0;
  bool conv_row_halo = false;
};
KernelProbe measure_kernels(double seconds_per_test);

}  // namespace qmap
