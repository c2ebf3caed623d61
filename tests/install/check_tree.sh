#!/usr/bin/env bash
# install.tree: the installed tree (install.stage) has every component's files, the shared
# library's SONAME, no RPATH/RUNPATH that is not $ORIGIN-relative and no build, source or
# install path in any file; a moved copy of it runs qmap --version, finds a march spec
# installed beside it by name, and (when built) imports the Python module.
#   check_tree.sh <stage> <work> <source dir> <build dir> <version> <git commit> <build type>
#                 "<isas>" <python built: ON/OFF> <libdir> <python dir>
set -euo pipefail
# grep that reads all its input (grep -q exits early: with pipefail the writer's SIGPIPE fails)
contains() { grep "$@" > /dev/null; }
stage="$1" work="$2" src="$3" build="$4" version="$5" commit="$6" build_type="$7" isas="$8"
python="$9" libdir="${10}" pydir="${11}"
here="$(cd "$(dirname "$0")" && pwd)"
major="${version%%.*}"
bad=0
fail() { echo "install.tree: $*" >&2; bad=1; }

# Every component's files.
for f in bin/qmap share/qmap/targets/generic.yaml \
         "$libdir/libqmap_runtime.so.$version" "$libdir/libqmap_runtime.so.$major" "$libdir/libqmap_runtime.so" \
         "$libdir/libqmap_runtime.a" include/qmap/runtime.h include/qmap/runtime_c.h \
         "$libdir/cmake/qmap/qmapConfig.cmake" "$libdir/cmake/qmap/qmapConfigVersion.cmake" \
         "$libdir/cmake/qmap/qmapTargets.cmake" "$libdir/pkgconfig/qmap_runtime.pc"; do
  [ -e "$stage/$f" ] || fail "missing $f"
done
case "$python" in ON|on|1|TRUE|true) [ -f "$stage/$pydir/qmap/__init__.py" ] || fail "missing $pydir/qmap/__init__.py" ;; esac
[ -L "$stage/$libdir/libqmap_runtime.so" ] || fail "$libdir/libqmap_runtime.so is not a symlink"
soname=$(readelf -d "$stage/$libdir/libqmap_runtime.so.$version" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = "libqmap_runtime.so.$major" ] || fail "SONAME is '$soname', expected libqmap_runtime.so.$major"

# The static library holds the whole runtime: no undefined qmap symbol once it is linked alone
# (check_pkgconfig_c.sh links a program with it); here: it defines the C API.
nm -g --defined-only "$stage/$libdir/libqmap_runtime.a" 2>/dev/null | contains ' T qmap_model_load$' ||
  fail "$libdir/libqmap_runtime.a does not define qmap_model_load"

# RPATH/RUNPATH: absent or $ORIGIN-relative, in every ELF file.
elves=0
while IFS= read -r -d '' f; do
  head -c 4 "$f" | contains $'\x7fELF' || continue
  elves=$((elves + 1))
  readelf -d "$f" 2>/dev/null | sed -n 's/.*(\(RPATH\|RUNPATH\)).*\[\(.*\)\]/\2/p' | tr ':' '\n' | while read -r p; do
    case "$p" in '$ORIGIN'*|'') ;; *) echo "install.tree: ${f#$stage/}: RPATH/RUNPATH entry '$p' is not \$ORIGIN-relative" >&2; exit 1 ;; esac
  done || bad=1
done < <(find "$stage" -type f -print0)
[ "$elves" -ge 3 ] || fail "found $elves ELF files, expected qmap and the runtime libraries at least"

# No file names the build, source or install location (it would break when moved or packaged).
for p in "$build" "$src" "$stage"; do
  hits=$(grep -rlF -- "$p" "$stage" || true)
  [ -z "$hits" ] || fail "files naming $p: $(echo $hits | sed "s|$stage/||g")"
done

# A moved copy works: qmap --version, an installed march spec found by name relative to the
# moved qmap, the Python module.
rm -rf "$work"
mkdir -p "$work"
cp -a "$stage" "$work/moved"
moved="$work/moved"
"$here/check_version.sh" "$moved/bin/qmap" "$version" "$commit" "$build_type" "$isas" || bad=1
sed 's/^name: generic$/name: mychip/' "$moved/share/qmap/targets/generic.yaml" > "$moved/share/qmap/targets/mychip.yaml"
grep -q '^name: mychip$' "$moved/share/qmap/targets/mychip.yaml" || fail "generic.yaml has no 'name: generic' line to rename"
model="$src/tests/data/models/tiny_cnn.onnx"
(cd "$work" && "$moved/bin/qmap" checker --model-type onnx --model "$model" --march mychip > checker.log 2>&1) ||
  { fail "the moved qmap does not find share/qmap/targets/mychip.yaml:"; cat "$work/checker.log" >&2; }
if (cd "$work" && "$moved/bin/qmap" checker --model-type onnx --model "$model" --march nosuch > nosuch.log 2>&1); then
  fail "--march nosuch succeeded"
else
  grep -qF "march 'nosuch': unknown: built-in marches are bayes, bayes-e, bernoulli2, generic, nash-e, nash-p; no $moved/share/qmap/targets/nosuch.yaml" "$work/nosuch.log" ||
    { fail "--march nosuch: the error does not name the installed spec path:"; cat "$work/nosuch.log" >&2; }
fi
case "$python" in
  ON|on|1|TRUE|true)
    got=$(cd "$work" && PYTHONPATH="$moved/$pydir" /usr/bin/python3 -c 'import qmap, os; print(qmap.__version__, os.path.dirname(qmap.__file__))') ||
      fail "the moved Python module does not import"
    [ "$got" = "$version $moved/$pydir/qmap" ] || fail "python: got '$got', expected '$version $moved/$pydir/qmap'" ;;
esac
[ "$bad" = 0 ] && echo "install tree OK: $(find "$stage" -type f | wc -l) files, $elves ELF files, relocatable"
exit $bad
