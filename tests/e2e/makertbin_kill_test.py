"""Crash safety of `qmap makertbin` (docs/reliability.md): kill it at random moments and
check that its working directory never holds a partial output.

1. A reference run converts tests/data/models/tiny_cnn.onnx (as tests/make_tiny_bin.sh) and
   notes when each output appears (polling every millisecond).
2. TRIALS runs are killed with SIGKILL: half at a uniform random time over the reference
   run's length, half 0-3 ms after a file of the run appeared (the log, an output's temporary
   file: a write under way, or a final output: between stages; round robin), so kills land
   in every stage and inside the writes whatever the machine's speed. Two thirds start in an
   empty folder, a third in the previous trial's leftovers. After each kill every final output present must be
   complete: byte-identical to the reference run's (makertbin is deterministic), the ONNX
   checker passes on .onnx files, `qmap info` loads the .bin. Temporary files
   (<name>.tmp.<pid>) may remain after a SIGKILL.
3. A rerun in the last trial's folder succeeds, writes every output identical to the
   reference and removes the killed runs' temporary files.
4. SIGINT 0-3 ms after a random file of the run appeared: exit 130, one line "ERROR makertbin: interrupted ...", no temporary
   file left, outputs present are complete.

Environment (tests/e2e/CMakeLists.txt): QMAP_BIN, QMAP_TEST_DATA, QMAP_KILL_WORK (a scratch
folder), QMAP_KILL_TRIALS (default 60), QMAP_KILL_SEED (default 1). A failure prints the seed
and the trial.
"""
import collections
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import onnx

QMAP = os.environ["QMAP_BIN"]
DATA = os.environ["QMAP_TEST_DATA"]
WORK = os.environ["QMAP_KILL_WORK"]
TRIALS = int(os.environ.get("QMAP_KILL_TRIALS", "60"))
SEED = int(os.environ.get("QMAP_KILL_SEED", "1"))
MODEL = os.path.join(DATA, "models", "tiny_cnn.onnx")
OUTPUTS = ["tiny_original_float_model.onnx", "tiny_optimized_float_model.onnx", "tiny_calibration_table.txt",
           "tiny_quantized_model.onnx", "tiny.bin"]

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL: " + msg, flush=True)


def setup(folder):
    """A fresh folder with calibration data (16x16x3 uint8 slices of the model file, as
    tests/make_tiny_bin.sh) and the config; returns the folder."""
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(os.path.join(folder, "calib"))
    model = open(MODEL, "rb").read()
    for i in range(8):
        with open(os.path.join(folder, "calib", "s%d.bin" % i), "wb") as f:
            f.write((model[768 * i:] + model)[:768])
    with open(os.path.join(folder, "cfg.yaml"), "w") as f:
        f.write(f"""model_parameters:
  onnx_model: '{MODEL}'
  march: generic
  working_dir: out
  output_model_file_prefix: tiny
input_parameters:
  input_name: input
  input_type_train: rgb
  input_layout_train: NCHW
  input_type_rt: rgb
  input_layout_rt: NHWC
  norm_type: data_mean_and_scale
  mean_value: 123.675 116.28 103.53
  scale_value: 0.017125 0.017507 0.017429
calibration_parameters:
  cal_data_dir: calib
  calibration_type: default
""")
    return folder


def start(folder):
    return subprocess.Popen([QMAP, "makertbin", "--config", "cfg.yaml", "--model-type", "onnx", "--no-progress",
                             "--jobs", "1"], cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)


def out_files(folder):
    d = os.path.join(folder, "out")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def finals(names):
    return [n for n in names if ".tmp." not in n and n != "makertbin.log"]


def temps(names):
    return [n for n in names if ".tmp." in n]


def check_outputs(folder, ref, what):
    """Every final output present is complete and valid; returns how many are present."""
    present = finals(out_files(folder))
    for n in present:
        path = os.path.join(folder, "out", n)
        if n not in ref:
            fail(f"{what}: unexpected output {n}")
            continue
        data = open(path, "rb").read()
        if data != ref[n]:
            fail(f"{what}: {n} is {len(data)} bytes and differs from the complete output ({len(ref[n])} bytes)")
            continue
        if n.endswith(".onnx"):
            try:
                onnx.checker.check_model(path, full_check=True)
            except Exception as e:  # the checker's exception types vary between versions
                fail(f"{what}: ONNX checker rejects {n}: {e}")
        if n.endswith(".bin"):
            r = subprocess.run([QMAP, "info", path], capture_output=True, text=True)
            if r.returncode != 0:
                fail(f"{what}: qmap info cannot load {n}: {r.stderr.strip()}")
    return len(present)


def event_key(name):
    """'x.onnx.tmp.123' -> 'x.onnx.tmp'; final names unchanged."""
    return name.split(".tmp.")[0] + ".tmp" if ".tmp." in name else name


def reference():
    folder = setup(os.path.join(WORK, "reference"))
    t0 = time.monotonic()
    p = start(folder)
    seen = {}
    while p.poll() is None:
        now = time.monotonic() - t0
        for n in out_files(folder):
            seen.setdefault(event_key(n), now)
        time.sleep(0.0005)
    total = time.monotonic() - t0
    err = p.stderr.read().decode()
    if p.returncode != 0:
        sys.exit(f"reference makertbin failed ({p.returncode}): {err}")
    ref = {n: open(os.path.join(folder, "out", n), "rb").read() for n in OUTPUTS}
    print(f"reference run: {total:.3f} s; files appear at " +
          ", ".join(f"{k} {t:.3f}" for k, t in sorted(seen.items(), key=lambda kv: kv[1])), flush=True)
    # Events to kill at: the log (the run is set up), each temporary file (a write is under
    # way) and each final output (between stages), in the order they appeared.
    events = [k for k, _ in sorted(seen.items(), key=lambda kv: kv[1])]
    return ref, total, events


def wait_for(p, folder, key):
    """Polls until a file whose event key is `key` appears; False if the run ended first."""
    while p.poll() is None:
        if any(event_key(n) == key for n in out_files(folder)):
            return True
        time.sleep(0.0002)
    return False


def main():
    os.makedirs(WORK, exist_ok=True)
    rng = random.Random(SEED)
    ref, total, events = reference()
    stages = collections.Counter()  # fresh-folder trials: complete outputs present after the kill
    left_temps = 0
    folder = None
    for trial in range(TRIALS):
        fresh = folder is None or trial % 3 != 2  # a third start in the previous trial's leftovers
        if fresh:
            folder = setup(os.path.join(WORK, "trial"))
        p = start(folder)
        if trial % 2 == 0:  # a uniform random moment of the whole run
            delay = rng.uniform(0, total)
            moment = f"{delay:.4f} s"
            time.sleep(delay)
        else:  # a few milliseconds after the next event of the run (round robin over events)
            key = events[(trial // 2) % len(events)]
            jitter = rng.uniform(0, 0.003)
            moment = f"{jitter * 1000:.1f} ms after {key} appeared"
            if wait_for(p, folder, key):
                time.sleep(jitter)
        p.kill()
        p.wait()
        p.stderr.close()
        what = f"seed {SEED} trial {trial} ({'fresh folder' if fresh else 'leftovers'}, SIGKILL {moment})"
        n = check_outputs(folder, ref, what)
        if fresh:
            stages[n] += 1
        left_temps += len(temps(out_files(folder)))
    print(f"{TRIALS} SIGKILL trials; complete outputs present after the kill (fresh folders) -> trials: " +
          ", ".join(f"{k}: {v}" for k, v in sorted(stages.items())) + f"; temporary files left: {left_temps}",
          flush=True)
    # Kills must have landed in at least five of the six stages (0..5 outputs complete), or
    # the trials did not test what they claim.
    if len(stages) < 5:
        fail(f"kills reached only {len(stages)} distinct stages: {dict(stages)}")

    # Rerun in the last trial's folder (old outputs and temporaries of killed runs there).
    before = temps(out_files(folder))
    r = subprocess.run([QMAP, "makertbin", "--config", "cfg.yaml", "--model-type", "onnx", "--no-progress"],
                       cwd=folder, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        fail(f"rerun after the kills failed ({r.returncode}): {r.stderr.strip()}")
    if check_outputs(folder, ref, "rerun") != len(OUTPUTS):
        fail(f"rerun: outputs {finals(out_files(folder))}, expected {OUTPUTS}")
    if temps(out_files(folder)):
        fail(f"rerun left temporary files {temps(out_files(folder))} (before it: {before})")
    print(f"rerun: exit {r.returncode}, removed {len(before)} temporary files of killed runs", flush=True)

    # SIGINT once the run is under way (its log exists), at a random later event: a clean
    # message, exit 130, no temporary file.
    interrupted = 0
    for k in range(10):
        folder = setup(os.path.join(WORK, "sigint"))
        p = start(folder)
        key = events[rng.randrange(len(events))]
        jitter = rng.uniform(0, 0.003)
        if not wait_for(p, folder, key):
            p.wait()
            continue
        time.sleep(jitter)
        p.send_signal(signal.SIGINT)
        p.wait()
        err = p.stderr.read().decode()
        p.stderr.close()
        if p.returncode == 0:
            continue  # finished before the signal: nothing to check
        interrupted += 1
        what = f"seed {SEED} SIGINT {k} ({jitter * 1000:.1f} ms after {key} appeared)"
        lines = [l for l in err.splitlines() if l.startswith("ERROR")]
        if p.returncode != 130:
            fail(f"{what}: exit {p.returncode}, expected 130; stderr: {err.strip()}")
        if len(lines) != 1 or not lines[0].startswith("ERROR makertbin: interrupted"):
            fail(f"{what}: stderr should have one 'ERROR makertbin: interrupted' line: {err.strip()}")
        if temps(out_files(folder)):
            fail(f"{what}: temporary files left: {temps(out_files(folder))}")
        check_outputs(folder, ref, what)
    print(f"SIGINT: {interrupted} of 10 runs interrupted", flush=True)
    if interrupted < 5:
        fail(f"only {interrupted} of 10 SIGINTs arrived while makertbin ran")
    if failures:
        sys.exit(f"{len(failures)} failures (seed {SEED})")
    print("ok")


if __name__ == "__main__":
    main()
