// vnni_peak: the single-core int8 multiply-accumulate peak of this CPU (bench/vnni_peak.cpp),
// the "100%" of bench/int8_vs_ort's per-layer table. Benchmark support only.
#pragma once

namespace qmap::bench {

struct Int8Peak {
  double core_ghz = 0;             // dependent-add chain estimate
  double vnni_zmm_gmacs = 0;       // vpdpbusd zmm; 0: the CPU has no AVX-512 VNNI
  double vnni_ymm_gmacs = 0;       // vpdpbusd ymm; 0: no AVX-512 VNNI
  double avx2_vpmaddwd_gmacs = 0;  // vpmaddwd ymm + vpaddd; 0: the CPU has no AVX2
};

// Runs each probe the CPU supports for about `seconds_per_test` (best of ~5 ms runs) on the calling
// thread, one core.
Int8Peak measure_int8_peak(double seconds_per_test);

}  // namespace qmap::bench
