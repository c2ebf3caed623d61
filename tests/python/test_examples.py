"""examples/classification/{infer,eval}.py as a user runs them, on tiny_cnn converted by the
built `qmap makertbin` and BMP images this test writes. The labels are chosen from the
model's own predictions (via qmap.Session) so the expected top-1/top-5 are known exactly.
"""
import os
import subprocess
import sys
import unittest

import numpy as np

import qmap
from qmap_test_util import makertbin, write_bmp

WORK = os.path.join(os.environ["QMAP_PY_WORK"], "examples")
EXAMPLES = os.path.join(os.environ["QMAP_SOURCE_DIR"], "examples", "classification")
MODEL = FLOAT_MODEL = None
PREDICTIONS = []  # per image: class indices of the quantized model, best first


def setUpModule():
    global MODEL, FLOAT_MODEL
    out = makertbin(WORK)
    MODEL = os.path.join(out, "tiny_quantized_model.onnx")
    FLOAT_MODEL = os.path.join(out, "tiny_original_float_model.onnx")
    rng = np.random.default_rng(5)
    data = os.path.join(WORK, "data")
    os.makedirs(data, exist_ok=True)
    sess = qmap.Session(MODEL)
    for i in range(6):
        path = os.path.join(data, "img_%d.bmp" % i)
        write_bmp(path, rng.integers(0, 256, size=(20, 20, 3), dtype=np.uint8))
        out, = sess.run(None, {"input": qmap.load_image(path, sess, crop=16)})
        PREDICTIONS.append([int(c) for c in np.argsort(-out.ravel(), kind="stable")])
    # img 0-2: the model's top-1 (right); img 3: its second choice (top-5 only); img 4-5: its
    # last choice (wrong). So top-1 = 3/6 and top-5 = 4/6.
    labels = [p[0] for p in PREDICTIONS[:3]] + [PREDICTIONS[3][1]] + [p[-1] for p in PREDICTIONS[4:]]
    with open(os.path.join(data, "labels.txt"), "w") as f:
        f.write("# file label\n")
        f.writelines("img_%d.bmp %d\n" % (i, label) for i, label in enumerate(labels))
    with open(os.path.join(WORK, "names.txt"), "w") as f:
        f.writelines("n%08d name_%d\n" % (k, k) for k in range(10))


def run(script, *args, env=None):
    return subprocess.run([sys.executable, os.path.join(EXAMPLES, script), *args], capture_output=True,
                          text=True, env=env, cwd=WORK)


def report(stdout):
    lines = stdout.splitlines()
    start = lines.index("===REPORT-START{MAPPER-EVAL}===")
    assert lines[start + 2] == "===REPORT-END{MAPPER-EVAL}===", stdout
    return lines[start + 1]


class Infer(unittest.TestCase):
    def test_top5_with_names_and_probabilities(self):
        image = os.path.join(WORK, "data", "img_0.bmp")
        r = run("infer.py", "--model", MODEL, "--image", image, "--crop", "16", "--labels", "names.txt")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("quantized onnx", r.stdout)
        rows = [line.split() for line in r.stdout.splitlines() if line.startswith("  ")]
        self.assertEqual([int(row[2]) for row in rows], PREDICTIONS[0][:5])
        self.assertEqual(rows[0][4], "name_%d" % PREDICTIONS[0][0])  # WordNet-style id dropped
        sess = qmap.Session(MODEL)
        out, = sess.run(None, {"input": qmap.load_image(image, sess, crop=16)})
        self.assertAlmostEqual(float(rows[0][3]), float(out.ravel()[PREDICTIONS[0][0]]), places=4)

    def test_bad_image_is_one_line_naming_it(self):
        r = run("infer.py", "--model", MODEL, "--image", os.path.join(WORK, "names.txt"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("names.txt", r.stderr)
        self.assertNotIn("Traceback", r.stderr)


class Eval(unittest.TestCase):
    def test_top1_top5_and_report_whatever_the_thread_count(self):
        data = os.path.join(WORK, "data")
        one = run("eval.py", "--model", MODEL, "--data", data, "--crop", "16", "--jobs", "1")
        self.assertEqual(one.returncode, 0, one.stderr)
        self.assertEqual(report(one.stdout), "0.5000")
        self.assertIn("50.00%   66.67%", one.stdout)
        three = run("eval.py", "--model", MODEL, "--data", data, "--crop", "16", "--jobs", "3")
        env = dict(os.environ, PARALLEL_PROCESS_NUM="2")
        by_env = run("eval.py", "--model", MODEL, "--data", data, "--crop", "16", env=env)
        self.assertIn("worker threads: 2", by_env.stdout)
        strip = lambda s: [line for line in s.splitlines() if "worker threads" not in line]  # noqa: E731
        self.assertEqual(strip(one.stdout), strip(three.stdout))
        self.assertEqual(strip(one.stdout), strip(by_env.stdout))

    def test_models_side_by_side_report_the_first(self):
        data = os.path.join(WORK, "data")
        r = run("eval.py", "--model", MODEL, "--model", FLOAT_MODEL, "--data", data, "--crop", "16")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("float onnx", r.stdout)
        self.assertIn("quantized onnx", r.stdout)
        self.assertEqual(report(r.stdout), "0.5000")

    def test_class_folders(self):
        # Two classes: folder a holds images the model puts in its top-1 class c, b the rest,
        # labelled by sorted folder order (a = 0, b = 1).
        root = os.path.join(WORK, "folders")
        rng = np.random.default_rng(8)
        for name in ("a", "b"):
            os.makedirs(os.path.join(root, name), exist_ok=True)
        for i in range(3):
            write_bmp(os.path.join(root, "a", "%d.bmp" % i), rng.integers(0, 256, size=(16, 16, 3), dtype=np.uint8))
        r = run("eval.py", "--model", MODEL, "--data", root)
        self.assertEqual(r.returncode, 0, r.stderr)
        sess = qmap.Session(MODEL)
        hits = sum(int(np.argmax(sess.run(None, {"input": qmap.load_image(os.path.join(root, "a", "%d.bmp" % i),
                                                                          sess)})[0])) == 0 for i in range(3))
        self.assertEqual(report(r.stdout), "%.4f" % (hits / 3))

    def test_bad_labels_line_names_file_and_line(self):
        data = os.path.join(WORK, "bad")
        os.makedirs(data, exist_ok=True)
        with open(os.path.join(data, "labels.txt"), "w") as f:
            f.write("a.bmp 1\n\nb.bmp cat\n")
        r = run("eval.py", "--model", MODEL, "--data", data)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("line 3", r.stderr)
        self.assertIn("labels.txt", r.stderr)
        r = run("eval.py", "--model", MODEL, "--data", os.path.join(WORK, "data"),
                env=dict(os.environ, PARALLEL_PROCESS_NUM="many"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("PARALLEL_PROCESS_NUM", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
