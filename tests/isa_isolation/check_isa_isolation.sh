#!/usr/bin/env bash
# Every function in a built binary that uses a VEX/EVEX instruction (AVX, AVX2, AVX-512: the
# kernel folders src/kernels/x86_*/ are the only code compiled with those flags) must be
# either kernel code (a name that involves qmap::kernels::, such as a kernel function or an
# IsaVector instance, kernels/isa_vector.h) or local to its object file (a compiler clone such
# as .constprop, an internal helper). A global or weak function outside the kernels with such
# instructions would be an inline/template instance the ISA flags leaked into a COMDAT symbol
# that the rest of the program may call, and the binary would die with SIGILL on an older CPU
# than the one it was tested on.
# AVX-VNNI (the VEX-encoded vpdpbusd/vpdpwssd, printed "{vex} vpdp...") is a level of its own
# on top of AVX2 (kernels/isa.h): a function holding one must be an instance from
# x86_avxvnni/ (its name involves qmap::kernels::avxvnni, the Dot of those files, or
# make_qconv_*avxvnni), global or local: the AVX2 templates those files instantiate are
# compiled there with -mavxvnni, and an instance without the level's name would be one the
# AVX2 level (an AVX2-only CPU) might run. Usage: check_isa_isolation.sh FILE...
set -euo pipefail
status=0
for f in "$@"; do
  # Global/weak text symbols (T, W, i) by address.
  nm --defined-only "$f" 2>/dev/null | awk '$2 ~ /^[TWi]$/ {print $1}' | sort -u >"$TMPDIR_ISA/global.txt" || true
  objdump -d --no-show-raw-insn "$f" |
    awk '/^[0-9a-f]+ <.*>:$/ {addr = $1; name = $2; next}
         /\tv[a-z0-9]+ / && name != "" {print addr, name; name = ""}' >"$TMPDIR_ISA/vex.txt"
  bad=$(awk 'NR == FNR {g[$1] = 1; next} ($1 in g) {print $2}' "$TMPDIR_ISA/global.txt" "$TMPDIR_ISA/vex.txt" |
        sed 's/^<//; s/>:$//; s/@plt$//' | c++filt | grep -v "qmap::kernels::" || true)
  objdump -d --no-show-raw-insn "$f" |
    awk '/^[0-9a-f]+ <.*>:$/ {name = $2; next}
         /\t\{vex\} vpdp[a-z]+ / && name != "" {print name; name = ""}' >"$TMPDIR_ISA/vnni.txt"
  bad_vnni=$(sed 's/^<//; s/>:$//' "$TMPDIR_ISA/vnni.txt" | c++filt | grep -v "avxvnni" || true)
  n=$(wc -l <"$TMPDIR_ISA/vex.txt")
  n_vnni=$(wc -l <"$TMPDIR_ISA/vnni.txt")
  if [ -n "$bad" ]; then
    echo "FAIL $f: global functions outside qmap::kernels use AVX/AVX-512 instructions:"
    echo "$bad" | head -20
    status=1
  elif [ -n "$bad_vnni" ]; then
    echo "FAIL $f: functions that are not avxvnni instances use AVX-VNNI instructions:"
    echo "$bad_vnni" | head -20
    status=1
  else
    echo "ok $f: $n functions use VEX/EVEX instructions, all kernel code or local; $n_vnni use AVX-VNNI, all avxvnni instances"
  fi
done
exit $status
