#!/usr/bin/env python3
"""How well the `host` march's estimate predicts this CPU (docs/perf.md, "host march").

For each .bin given (default: the six torchvision models of bench/run_int8_vs_ort.sh under
build/bench_int8_vs_ort/<model>/<model>.bin), runs

    qmap perf MODEL.bin --march host --measure --iters K --threads N --output-dir TMP

and reads its JSON (schema qmap.perf/1): the Spearman rank correlation of estimated vs
measured per-layer time, and the ratio of the estimated total to the measured total (median
end to end). Prints a Markdown table; exit status 1 when a model misses the targets
(rank correlation >= 0.9, ratio within 0.75..1.25), so it can gate a change.

    python3 bench/perf_host_check.py [--qmap build/qmap] [--iters 30] [--threads 1] [MODEL.bin ...]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

MODELS = ["mobilenet_v2", "resnet18", "resnet50", "squeezenet1_1", "shufflenet_v2_x1_0", "mobilenet_v3_small"]


def ranks(values):
    """Ranks from 1, ties get the mean of the ranks they span (Spearman's convention)."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    r = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            r[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return r


def spearman(a, b):
    ra, rb = ranks(a), ranks(b)
    n = len(a)
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra) ** 0.5
    vb = sum((y - mb) ** 2 for y in rb) ** 0.5
    return cov / (va * vb) if va > 0 and vb > 0 else float("nan")


def main():
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser()
    ap.add_argument("--qmap", default=os.path.join(here, "build", "qmap"))
    ap.add_argument("--iters", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("models", nargs="*")
    a = ap.parse_args()
    models = a.models or [os.path.join(here, "build", "bench_int8_vs_ort", m, m + ".bin") for m in MODELS]
    ok = True
    print(f"load average before: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores)")
    print()
    print("| model | layers | Spearman (est vs measured per layer) | estimated ms | measured ms median (min) "
          "| est / measured median | est / measured min | per-layer sum / end to end |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for path in models:
            name = os.path.splitext(os.path.basename(path))[0]
            if not os.path.exists(path):
                print(f"| {name} | missing: {path} | | | | |")
                ok = False
                continue
            subprocess.run([a.qmap, "perf", path, "--march", "host", "--measure", "--iters", str(a.iters),
                            "--threads", str(a.threads), "--output-dir", tmp], check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(tmp, name, name + ".json")) as f:
                j = json.load(f)
            est = [l["estimated_us"] for l in j["layers"]]
            mea = [l["measured_us"] for l in j["layers"]]
            rho = spearman(est, mea)
            e = j["summary"]["estimated_latency_us"]
            m = j["measured"]["total_us"]["median"]
            mn = j["measured"]["total_us"]["min"]
            ratio = e / m
            good = rho >= 0.9 and 0.75 <= ratio <= 1.25
            ok = ok and good
            layer_sum = j["measured"]["layer_sum_us"]
            print(f"| {name} | {len(est)} | {rho:.3f} | {e / 1e3:.2f} | {m / 1e3:.2f} ({mn / 1e3:.2f}) "
                  f"| {ratio:.2f}{'' if good else ' (miss)'} | {e / mn:.2f} | {layer_sum / m:.3f} |")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
