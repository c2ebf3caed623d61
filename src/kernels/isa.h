// Instruction-set levels the runtime has kernels for, detected once from cpuid. The kernel
// table of a loaded model is chosen from these (runtime/kernel_table.h); QMAP_ISA forces one.
//   ref         scalar reference kernels (kernels/ref/), the numeric specification; any x86-64
//   avx2        AVX2 (+FMA); kernels in kernels/x86_avx2/ (compiled with -mavx2 there only)
//   avxvnni     AVX2 (+FMA) + AVX-VNNI (VEX vpdpbusd/vpdpwssd on ymm: Alder Lake and later
//               Intel cores, Zen 5); kernels in kernels/x86_avxvnni/, the AVX2 kernel
//               templates with VNNI's dot products (x86_avxvnni/dot.h)
//   avx512vnni  AVX-512 F/BW/VL/DQ + VNNI; kernels in kernels/x86_avx512vnni/
// The levels are ordered by preference: a CPU may have AVX-512 VNNI without AVX-VNNI (Ice
// Lake, Zen 4) or AVX-VNNI without AVX-512 (Alder Lake); each is listed when it has it.
#pragma once

#include <string>
#include <vector>

namespace qmap::kernels {

enum class Isa { kRef = 0, kAvx2 = 1, kAvxVnni = 2, kAvx512Vnni = 3 };

const char* isa_name(Isa isa);  // "ref", "avx2", "avxvnni", "avx512vnni"

// The levels this CPU (and OS: XSAVE state for ymm/zmm) supports, lowest first; always
// starts with kRef. Levels the build did not compile (QMAP_ISA_MAX) are left out.
std::vector<Isa> host_isas();

// The levels this build compiled kernels for (QMAP_ISA_MAX and the target architecture),
// lowest first; always starts with kRef. host_isas() is the part of it this CPU can run.
std::vector<Isa> compiled_isas();

// The best of host_isas().
Isa best_host_isa();

// "ref|avx2|avxvnni|avx512vnni" -> the level, if this CPU has it. Errors name the value and the
// levels this CPU has: "QMAP_ISA 'avx9': not an ISA level (ref, avx2, avxvnni, avx512vnni); this CPU
// has: ref, avx2, avxvnni, avx512vnni".
// Returns false and sets *error on failure.
bool parse_isa(const std::string& value, Isa* isa, std::string* error);

}  // namespace qmap::kernels
