#!/usr/bin/python3
"""Checks that no source folder includes a folder above it (docs/architecture.md).

    scripts/check_layers.py [SOURCE_DIR]     check the tree (default: this checkout)
    scripts/check_layers.py --self-test      check the checker on a small made-up tree

Every `#include "folder/..."` (or <folder/...>) in src/ and include/qmap/ names the folder it
reaches; that folder must sit in a lower layer of LAYER_TABLE than the including file's folder.
Folders of one layer are independent: they may not include each other either. Each
violation is printed as `file:line: <folder> (layer N) includes <folder> (layer M)`, and
the exit status is 1. A folder under src/ that LAYER_TABLE does not place is an error too, so a
new folder gets a layer when it is added. FILE_LAYERS places a few files below their
folder's layer (the op list, which ir's Node needs).

Test sources are exempt (is_test_source): a folder's tests live beside its code but are
linked into the test executables with the whole toolchain, and a round-trip test of the
runtime, say, builds its .bin with quant/ and format/, which sit above it. The exemption
covers only files the libraries do not compile (CMakeLists.txt drops *_test.cpp; the
*_test_util.h / *_test_graphs.h / test_*.h helpers are included by tests alone).

Standard library only (runs as a ctest test: tests/CMakeLists.txt, test `layers`).
"""
import os
import re
import sys
import tempfile

# Bottom up, one layer a line: `name: folders`. A folder includes only folders of lower
# layers. Keep in step with the table in docs/architecture.md (check_doc compares them).
# `qmap` is include/qmap/, the public runtime API. Layers 0-5 are the runtime library
# (libqmap_runtime), which ships alone; then the toolchain; last the front end (python/ is
# outside src/ and may include anything).
LAYER_TABLE = """
core, public API: core qmap
kernels: kernels
ir: ir
ops: ops
program: program steps
runtime: runtime
float engine: engine
import, target: import target
config: config
image: image
passes: passes
quant: quant
format writer: format
report: report
calib: calib
pipelines: makertbin session
front end: cli
"""
LAYERS = [(name.strip(), folders.split())
          for name, folders in (line.split(":") for line in LAYER_TABLE.strip().splitlines())]

# Files that live in one folder but belong to a lower layer: (path pattern, layer name). The
# checker places them (and checks their own includes) by this table instead of by their folder.
FILE_LAYERS = [
    # The op list (ops/op_list.def and the list_*.def families it includes) and the OpId enum
    # made from it (ops/op_id.h). ir's Node stores an OpId, so these sit in the ir layer; they
    # stay in ops/ beside the op folders that the list names (adding an op is one line there)
    # and include nothing but each other.
    (re.compile(r"src/ops/(op_id\.h|[a-z_]+\.def)"), "ir"),
    # The step list (steps/step_list.def), which ops' OpDef (its Int8Lowering values) and the
    # program (StepKind) are made from, sits in the ir layer like the op list. A step family's
    # folder (steps/<folder>/) holds one kind's parts for each layer that needs them: its
    # parameter types and checks (program), its prepare/run (runtime) and its lowering (quant).
    (re.compile(r"src/steps/step_list\.def"), "ir"),
    (re.compile(r"src/steps/[a-z0-9_]+/[a-z0-9_]+_run\.cpp"), "runtime"),
    (re.compile(r"src/steps/[a-z0-9_]+/[a-z0-9_]+_lower\.cpp"), "quant"),
    (re.compile(r"src/steps/[a-z0-9_]+/[a-z0-9_]+(\.h|_check\.cpp)"), "program"),
]

# An include line may end in `// layer: <name>`: the line is compiled only where a file of that
# layer includes the file holding it, so it is checked as that layer's. The step list's
# section that includes the families' parameter headers is the one use: program/step_params.h
# alone defines QMAP_STEP_PARAM_HEADERS before including the list.
LAYER_NOTE_RE = re.compile(r"//\s*layer:\s*([A-Za-z ,]+?)\s*$")

SOURCE_SUFFIXES = (".h", ".hpp", ".cpp", ".cc", ".c", ".def", ".inc")
INCLUDE_RE = re.compile(r'^\s*#\s*include\s*[<"]([A-Za-z0-9_]+)/([^">]+)[">]')


def is_test_source(name):
    """Test code: compiled only into the test executables (see the module comment)."""
    return (name.endswith(("_test.cpp", "_test.c", "_test_plugin.cpp", "_test_util.h",
                           "_test_graphs.h"))
            or name.startswith("test_"))


def file_layer(rel):
    """The layer name FILE_LAYERS gives the file, or None (then its folder's layer counts)."""
    for pattern, layer in FILE_LAYERS:
        if pattern.fullmatch(rel):
            return layer
    return None


def layer_index():
    index = {}
    for i, (_, folders) in enumerate(LAYERS):
        for f in folders:
            index[f] = i
    return index


def folder_of(rel):
    """The layer folder of a path relative to the checkout (src/<folder>/..., include/qmap/...)."""
    parts = rel.split("/")
    return parts[1] if len(parts) > 2 else None


def source_files(root):
    for top in ("src", "include"):
        base = os.path.join(root, top)
        for dirpath, dirnames, filenames in os.walk(base):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(SOURCE_SUFFIXES) and not is_test_source(name):
                    yield os.path.relpath(os.path.join(dirpath, name), root)


def check(root):
    """Returns the list of problems (strings); empty when the tree keeps the layer order."""
    index = layer_index()
    problems = []
    src = os.path.join(root, "src")
    for name in sorted(os.listdir(src)):
        if os.path.isdir(os.path.join(src, name)) and name not in index:
            problems.append(f"src/{name}/: folder has no layer; add it to LAYER_TABLE in "
                            f"scripts/check_layers.py and to docs/architecture.md")
    # Folders that exist, so `#include <fmt/...>` and other outside headers are not checked.
    project = set(index) | {n for n in os.listdir(src) if os.path.isdir(os.path.join(src, n))}
    for rel in source_files(root):
        folder = folder_of(rel)
        if folder is None or folder not in index:
            continue
        moved = file_layer(rel) is not None
        file_own = index[file_layer(rel)] if moved else index[folder]
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            for lineno, line in enumerate(f, 1):
                m = INCLUDE_RE.match(line)
                if not m or m.group(1) not in project:
                    continue
                own = file_own
                note = LAYER_NOTE_RE.search(line)
                if note:
                    names = {name: i for i, (name, _) in enumerate(LAYERS)}
                    if note.group(1) not in names:
                        problems.append(f"{rel}:{lineno}: '// layer: {note.group(1)}' names no layer "
                                        f"of LAYER_TABLE")
                        continue
                    if names[note.group(1)] < file_own:
                        problems.append(f"{rel}:{lineno}: '// layer: {note.group(1)}' is below the "
                                        f"file's own layer ({LAYERS[file_own][0]})")
                        continue
                    own = names[note.group(1)]
                target, rest = m.group(1), m.group(2)
                target_rel = f"src/{target}/{rest}" if target != "qmap" else f"include/qmap/{rest}"
                target_moved = file_layer(target_rel) is not None
                if target_moved:
                    theirs = index[file_layer(target_rel)]
                elif target in index:
                    theirs = index[target]
                else:
                    continue  # a folder with no layer: reported above
                if theirs < own:
                    continue
                # One layer: the same folder, or a file FILE_LAYERS moved into the layer.
                if theirs == own and (target == folder or moved or target_moved):
                    continue
                what = "a higher layer" if theirs > own else "a folder of its own layer"
                problems.append(
                    f"{rel}:{lineno}: {folder} (layer {own}, {LAYERS[own][0]}) includes "
                    f"{target_rel} in {what} (layer {theirs}, {LAYERS[theirs][0]}): "
                    f"{line.strip()}")
    return problems


def check_doc(root):
    """The table of docs/architecture.md must name the layers of LAYERS, in order, with the
    same folders (its rows read `| N | name | folders | ...`)."""
    path = os.path.join(root, "docs", "architecture.md")
    if not os.path.exists(path):
        return []
    index = layer_index()
    rows = {}
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            m = re.match(r"\|\s*(\d+)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|", line)
            if m:
                quoted = re.findall(r"`([^`]+)`", m.group(3))
                names = {w.replace("include/qmap", "qmap") for w in quoted}
                rows[int(m.group(1))] = (lineno, m.group(2), sorted(n for n in names if n in index))
    problems = []
    for i, (name, folders) in enumerate(LAYERS):
        if i not in rows:
            problems.append(f"docs/architecture.md: the table has no row for layer {i} ({name})")
            continue
        lineno, doc_name, doc_folders = rows[i]
        if doc_name != name or doc_folders != sorted(folders):
            problems.append(f"docs/architecture.md:{lineno}: layer {i} reads '{doc_name}' "
                            f"{doc_folders}; scripts/check_layers.py has '{name}' "
                            f"{sorted(folders)}")
    for i in sorted(set(rows) - set(range(len(LAYERS)))):
        problems.append(f"docs/architecture.md:{rows[i][0]}: layer {i} is not in LAYER_TABLE")
    return problems


def self_test():
    """A made-up tree with allowed and forbidden includes (a back edge, one folder including
    another of its layer, a file placed by FILE_LAYERS and one that is not); the checker must
    name exactly the forbidden ones, by file:line, and a folder that has no layer."""
    with tempfile.TemporaryDirectory() as root:
        def write(rel, text):
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)
        for layer in LAYERS:
            for folder in layer[1]:
                if folder != "qmap":
                    write(f"src/{folder}/a.h", "#pragma once\n")
        write("include/qmap/runtime.h", "#pragma once\n")
        write("src/kernels/k.cpp",
              '#include "core/a.h"\n#include <vector>\n#include "kernels/a.h"\n')
        write("src/core/bad.cpp", '// back edge\n#include "kernels/a.h"\n')
        write("src/import/bad.h", '#include "target/a.h"\n')  # same layer, other folder
        write("src/ir/graph.h", '#include "ops/op_id.h"\n#include "ops/registry.h"\n')
        write("src/ops/op_id.h", '#include "ops/op_list.def"\n')
        write("src/ops/op_list.def", "\n")
        write("src/runtime/executor_test.cpp", '#include "quant/a.h"\n')  # tests are exempt
        # A layer note lifts one include line to the noted layer (allowed), not below the file's.
        write("src/ops/noted.def", '#include "program/a.h"  // layer: program\n'
                                   '#include "kernels/a.h"  // layer: core, public API\n')
        got = [p.split(": ")[0] for p in check(root)]
        want = ["src/core/bad.cpp:2", "src/import/bad.h:1", "src/ir/graph.h:2", "src/ops/noted.def:2"]
        if sorted(got) != want:
            print(f"self-test: expected violations {want}, got {got}")
            for p in check(root):
                print("  " + p)
            return 1
        write("src/newfolder/x.h", "\n")
        if not any(p.startswith("src/newfolder/") for p in check(root)):
            print("self-test: a folder with no layer was not reported")
            return 1
    print("self-test passed")
    return 0


def main(argv):
    if len(argv) > 1 and argv[1] == "--self-test":
        return self_test()
    here = os.path.dirname(os.path.abspath(__file__))
    root = argv[1] if len(argv) > 1 else os.path.join(here, "..")
    problems = check(root) + check_doc(root)
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} problem(s): the layer order is docs/architecture.md")
        return 1
    print(f"layer order kept: {len(LAYERS)} layers, "
          f"{sum(1 for _ in source_files(root))} files checked")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
