#!/usr/bin/env python3
"""Top-1 / top-5 of one or more models over a labeled image set, like `qmap eval`.

    python3 examples/classification/eval.py --data imagenet-dev --short-side 256 --crop 224 \
        --model model_output/mobilenetv2_224x224_rgb_original_float_model.onnx \
        --model model_output/mobilenetv2_224x224_rgb_quantized_model.onnx --jobs 2

The data set is a folder with a labels file (`<file> <label>` lines, ImageNet val.txt style;
default <data>/labels.txt), or one sub-folder per class (classes numbered in sorted order).
Images are decoded and preprocessed by qmap.load_image per model (each model's own stored
input_parameters), on --jobs worker threads (default: PARALLEL_PROCESS_NUM, else every
core); each thread has its own Session per model, and results do not depend on the count.
Prints a side-by-side table, then the top-1 of the first --model framed as
===REPORT-START{MAPPER-EVAL}=== / ===REPORT-END{MAPPER-EVAL}===, as `qmap eval` does.
"""
import argparse
import concurrent.futures
import os
import sys
import threading

from common import add_image_options, image_options, qmap, top_k

IMAGE_EXTS = (".jpg", ".jpeg", ".png", ".bmp")


def read_labels_file(path, folder):
    """[(image path, label)] from `<file> <label>` lines; blank lines and # comments skipped.
    A bad line exits with its line number."""
    samples = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            parts = text.rsplit(None, 1)
            if len(parts) != 2 or not parts[1].isdigit():
                sys.exit("eval: labels file '%s' line %d: '%s': expected '<file> <label>' with a label >= 0"
                         % (path, n, text))
            samples.append((os.path.join(folder, parts[0]), int(parts[1])))
    return samples


def read_class_folders(folder):
    """[(image path, class index)] from one sub-folder per class, classes in sorted order."""
    classes = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
    samples = []
    for label, d in enumerate(classes):
        for name in sorted(os.listdir(os.path.join(folder, d))):
            if name.lower().endswith(IMAGE_EXTS):
                samples.append((os.path.join(folder, d, name), label))
    return samples


def default_jobs():
    env = os.environ.get("PARALLEL_PROCESS_NUM", "")
    if env:
        if not env.isdigit() or int(env) < 1:
            sys.exit("eval: PARALLEL_PROCESS_NUM '%s': expected a positive integer" % env)
        return int(env)
    return os.cpu_count() or 1


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", action="append", required=True, help="a model (repeat to compare several)")
    p.add_argument("--data", required=True, help="image folder")
    p.add_argument("--labels", help="`<file> <label>` lines (default: <data>/labels.txt, else class sub-folders)")
    p.add_argument("--jobs", type=int, help="worker threads (default: PARALLEL_PROCESS_NUM, else every core)")
    p.add_argument("--limit", type=int, default=0, help="first N images only")
    add_image_options(p)
    args = p.parse_args()
    jobs = args.jobs if args.jobs else default_jobs()
    if jobs < 1:
        sys.exit("eval: --jobs %d: expected a positive integer" % jobs)

    labels = args.labels or os.path.join(args.data, "labels.txt")
    samples = read_labels_file(labels, args.data) if args.labels or os.path.isfile(labels) else read_class_folders(args.data)
    if args.limit > 0:
        samples = samples[:args.limit]
    if not samples:
        sys.exit("eval: folder '%s': no labeled images" % args.data)

    try:
        first = [qmap.Session(m) for m in args.model]  # fail early on a bad model, before the threads
    except RuntimeError as e:
        sys.exit("eval: %s" % e)
    local = threading.local()

    def sessions():
        if not hasattr(local, "sessions"):
            local.sessions = [qmap.Session(m) for m in args.model]
        return local.sessions

    opts = image_options(args)

    def classify(sample):
        """Per model: the rank of the true label among the top-5 (0 = top-1), or None."""
        path, label = sample
        ranks = []
        for sess in sessions():
            x = qmap.load_image(path, sess, **opts)
            out = sess.run(None, {sess.input_names[0]: x})[0]
            best = top_k(out, 5)
            ranks.append(best.index(label) if label in best else None)
        return ranks

    results = [None] * len(samples)
    progress = sys.stderr.isatty()
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = {pool.submit(classify, s): i for i, s in enumerate(samples)}
            for done, f in enumerate(concurrent.futures.as_completed(futures), 1):
                results[futures[f]] = f.result()
                if progress:
                    print("\reval: %d/%d images" % (done, len(samples)), end="", file=sys.stderr, flush=True)
    except (RuntimeError, ValueError) as e:
        sys.exit("\neval: %s" % e)
    if progress:
        print(file=sys.stderr)

    n = len(samples)
    print("images: %d, worker threads: %d" % (n, jobs))
    width = max(len(m) for m in args.model)
    print("%-*s  %-14s  %7s  %7s" % (width, "model", "kind", "top-1", "top-5"))
    top1s = []
    for k, (model, sess) in enumerate(zip(args.model, first)):
        ranks = [r[k] for r in results]
        top1s.append(sum(r == 0 for r in ranks) / n)
        top5 = sum(r is not None for r in ranks) / n
        print("%-*s  %-14s  %6.2f%%  %6.2f%%" % (width, model, sess.kind, 100 * top1s[-1], 100 * top5))
    print("===REPORT-START{MAPPER-EVAL}===")
    print("%.4f" % top1s[0])
    print("===REPORT-END{MAPPER-EVAL}===")


if __name__ == "__main__":
    main()
