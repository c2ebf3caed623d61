#!/usr/bin/env python3
"""The custom-op example end to end (docs/custom-op.md), with the built qmap and plugin:

  make_model.py -> qmap checker (Normalize listed as a custom CPU node) -> qmap makertbin with
  normalize.yaml (plugin from its custom_op section) -> qmap infer on the .bin and the float
  model, whose 'norm' output must equal a numpy Normalize -> qmap eval of the float, quantized
  and .bin models -> qmap.Session with custom_op_libs; then every bad-input case of the plugin
  boundary a user can meet on the command line, each a one-line ERROR and exit code 1.

Environment (examples/custom_op/CMakeLists.txt): QMAP_BIN, QMAP_NORMALIZE_PLUGIN,
QMAP_TEST_PLUGIN_DUP, QMAP_CUSTOM_OP_WORK, QMAP_TEST_DATA (for tests/python/qmap_test_util.py),
PYTHONPATH (the qmap module).
"""
import json
import os
import shutil
import subprocess
import sys
import unittest

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))
QMAP = os.environ["QMAP_BIN"]
PLUGIN = os.environ["QMAP_NORMALIZE_PLUGIN"]
WORK = os.environ["QMAP_CUSTOM_OP_WORK"]
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "python"))
import make_model  # noqa: E402
from qmap_test_util import write_bmp  # noqa: E402  (the Python tests' BMP writer)


def normalize_ref(x, scale, eps=1e-10):
    """Caffe/SSD Normalize, across_spatial=0: per position, over the channels (float64)."""
    x = x.astype(np.float64)
    norm = np.sqrt((x * x).sum(axis=1, keepdims=True) + eps)
    return (x / norm * scale.astype(np.float64).reshape(1, -1, 1, 1)).astype(np.float32)


def qmap(*args, cwd=WORK):
    return subprocess.run([QMAP, *args], cwd=cwd, capture_output=True, text=True)


class NormalizeExample(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        shutil.rmtree(WORK, ignore_errors=True)
        os.makedirs(os.path.join(WORK, "ops"))
        shutil.copy(PLUGIN, os.path.join(WORK, "ops", "libqmap_normalize.so"))
        shutil.copy(os.path.join(HERE, "normalize.yaml"), WORK)
        make_model.build()  # the module's own check: it builds
        subprocess.run([sys.executable, os.path.join(HERE, "make_model.py"), os.path.join(WORK, "normalize_net.onnx")],
                       check=True)
        rng = np.random.default_rng(5)
        cal = os.path.join(WORK, "calibration_data")
        os.makedirs(cal)
        for i in range(8):
            rng.integers(0, 256, (3, 16, 16), dtype=np.uint8).tofile(os.path.join(cal, "s%d.bin" % i))
        # Eval set: 4 classes (sub-folders) x 2 images; the test image for infer.
        cls.images = []
        for c in range(4):
            os.makedirs(os.path.join(WORK, "evalset", "class%d" % c))
            for k in range(2):
                img = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
                write_bmp(os.path.join(WORK, "evalset", "class%d" % c, "img%d.bmp" % k), img)
                cls.images.append(img)
        cls.image = os.path.join(WORK, "evalset", "class0", "img0.bmp")
        cls.pixels = cls.images[0].transpose(2, 0, 1)[None].astype(np.float32)  # 1x3x16x16, rgb NCHW
        cls.checker = qmap("checker", "--model-type", "onnx", "--model", "normalize_net.onnx", "--march", "generic",
                           "--custom-op-lib", "ops/libqmap_normalize.so")
        cls.build = qmap("makertbin", "--config", "normalize.yaml", "--model-type", "onnx", "--no-progress")

    def expect_error(self, r, *parts):
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        lines = r.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertTrue(lines[0].startswith("ERROR "), r.stderr)
        for p in parts:
            self.assertIn(p, lines[0])

    def test_checker_lists_the_custom_node_on_the_cpu(self):
        r = self.checker
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        row = [l for l in r.stdout.splitlines() if l.startswith("norm ")]
        self.assertEqual(len(row), 1, r.stdout)
        self.assertIn("CPU", row[0])
        self.assertIn("Normalize (custom)", row[0])
        self.assertIn("custom op qmap.example.Normalize (libqmap_normalize.so): float CPU kernel", row[0])
        conv = [l for l in r.stdout.splitlines() if l.startswith("conv ")]
        self.assertIn("NPU", conv[0])

    def test_makertbin_keeps_the_op_in_its_domain(self):
        r = self.build
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        out = os.path.join(WORK, "model_output")
        for f in ["normalize_net.bin", "normalize_net_quantized_model.onnx", "normalize_net_original_float_model.onnx"]:
            self.assertTrue(os.path.exists(os.path.join(out, f)), f)
        q = onnx.load(os.path.join(out, "normalize_net_quantized_model.onnx"))
        norm = [n for n in q.graph.node if n.op_type == "Normalize"]
        self.assertEqual(len(norm), 1)
        self.assertEqual(norm[0].domain, "qmap.example")
        self.assertIn(("qmap.example", 1), [(o.domain, o.version) for o in q.opset_import])
        info = qmap("info", "model_output/normalize_net.bin")
        self.assertEqual(info.returncode, 0, info.stderr)
        self.assertIn("Custom ops (load their plugins with --custom-op-lib): qmap.example.Normalize v1 "
                      "(libqmap_normalize.so)", info.stdout)
        self.assertRegex(info.stdout, r"qmap \.bin format v\d+\)")

    def test_infer_outputs_equal_numpy(self):
        self.assertEqual(self.build.returncode, 0, self.build.stderr)
        want = normalize_ref(self.pixels, make_model.NORM_SCALE)
        for model in ["model_output/normalize_net.bin", "model_output/normalize_net_original_float_model.onnx"]:
            outdir = os.path.join(WORK, "infer_" + os.path.basename(model).replace(".", "_"))
            r = qmap("infer", "--model", model, "--image", self.image, "--output-dir", outdir,
                     "--custom-op-lib", "ops/libqmap_normalize.so")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            got = np.fromfile(os.path.join(outdir, "norm.bin"), np.float32).reshape(want.shape)
            # Both stages feed Normalize the exact pixel values (the .bin's uint8 image input is
            # dequantized with scale 1), and the plugin and numpy both compute in float64 and
            # round once to float32: they differ at most by that last rounding, 1 ulp (2^-23
            # relative); 1e-6 relative leaves room for it and nothing else. A wrong axis, scale,
            # eps or layout moves values by 1e-2 or more.
            np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, err_msg=model)
            # Not a vacuous comparison: the values are far from zero and differ per channel.
            self.assertGreater(np.abs(want).max(), 0.5)

    def test_eval_runs_every_stage(self):
        self.assertEqual(self.build.returncode, 0, self.build.stderr)
        r = qmap("eval", "--model", "model_output/normalize_net_original_float_model.onnx",
                 "--model", "model_output/normalize_net_quantized_model.onnx", "--model", "model_output/normalize_net.bin",
                 "--data", "evalset", "--jobs", "1", "--no-progress", "--custom-op-lib", "ops/libqmap_normalize.so",
                 "--json", "eval.json")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("===REPORT-START{MAPPER-EVAL}===", r.stdout)
        with open(os.path.join(WORK, "eval.json")) as f:
            report = json.load(f)
        models = report["models"]
        self.assertEqual(len(models), 3)
        for m in models:
            self.assertEqual(m["images"], 8, m)
        # The quantized ONNX (integer simulator) and the .bin (runtime) agree bit for bit, the
        # plugin's kernel included: the same top-1 hits.
        self.assertEqual(models[1]["top1"], models[2]["top1"])

    def test_verify_is_bit_exact_with_the_plugin(self):
        self.assertEqual(self.build.returncode, 0, self.build.stderr)
        r = qmap("verify", "--quantized", "model_output/normalize_net_quantized_model.onnx", "--bin",
                 "model_output/normalize_net.bin", "--all-nodes", "--custom-op-lib", "ops/libqmap_normalize.so")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"norm\s+float32\s+3840\s+0\n")
        self.assertIn("verify: PASS", r.stdout)

    def test_perf_reports_the_custom_step_on_the_cpu(self):
        self.assertEqual(self.build.returncode, 0, self.build.stderr)
        r = qmap("perf", "model_output/normalize_net.bin", "--output-dir", "perf", "--custom-op-lib",
                 "ops/libqmap_normalize.so")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(WORK, "perf", "normalize_net", "normalize_net.json")) as f:
            report = json.load(f)
        norm = [l for l in report["layers"] if l["node"] == "norm"]
        self.assertEqual(len(norm), 1, report["layers"])
        self.assertEqual((norm[0]["on"], norm[0]["kind"], norm[0]["op"]), ("CPU", "float", "Normalize"))

    def test_python_session(self):
        self.assertEqual(self.build.returncode, 0, self.build.stderr)
        import qmap as q
        bin_path = os.path.join(WORK, "model_output", "normalize_net.bin")
        s = q.Session(bin_path, custom_op_libs=[os.path.join(WORK, "ops", "libqmap_normalize.so")])
        x = self.images[0].transpose(2, 0, 1)[None].copy()  # uint8 rgb NCHW, the runtime input
        outs = s.run(None, {s.get_inputs()[0].name: x})
        names = [o.name for o in s.get_outputs()]
        got = outs[names.index("norm")]
        # The .bin's output as `qmap infer` reads it: same tolerance and reason as test_infer_outputs_equal_numpy.
        np.testing.assert_allclose(got, normalize_ref(self.pixels, make_model.NORM_SCALE), rtol=1e-6, atol=1e-7)
        with self.assertRaises(RuntimeError) as e:
            q.Session(bin_path)
        self.assertIn("qmap.example.Normalize version 1", str(e.exception))

    # --- bad input at the plugin boundary: one ERROR line each, exit code 1 ---

    def test_bin_without_its_plugin(self):
        self.assertEqual(self.build.returncode, 0, self.build.stderr)
        r = qmap("infer", "--model", "model_output/normalize_net.bin", "--image", self.image)
        self.expect_error(r, "needs custom op qmap.example.Normalize version 1", "which no loaded plugin provides",
                          "'libqmap_normalize.so'")

    def test_model_without_its_plugin(self):
        r = qmap("checker", "--model-type", "onnx", "--model", "normalize_net.onnx", "--march", "generic")
        self.expect_error(r, "qmap does not support these operators: {qmap.example.Normalize}")

    def test_missing_plugin_file(self):
        r = qmap("checker", "--model-type", "onnx", "--model", "normalize_net.onnx", "--march", "generic",
                 "--custom-op-lib", "ops/nope.so")
        self.expect_error(r, "custom op: library 'ops/nope.so': no such file")

    def test_not_a_shared_library(self):
        r = qmap("checker", "--model-type", "onnx", "--model", "normalize_net.onnx", "--march", "generic",
                 "--custom-op-lib", "normalize.yaml")
        self.expect_error(r, "custom op: library 'normalize.yaml': cannot load it as a shared library")

    def test_two_plugins_claim_one_op(self):
        r = qmap("checker", "--model-type", "onnx", "--model", "normalize_net.onnx", "--march", "generic",
                 "--custom-op-lib", "ops/libqmap_normalize.so", "--custom-op-lib", os.environ["QMAP_TEST_PLUGIN_DUP"])
        self.expect_error(r, "custom op: qmap.example.Normalize is claimed by both")

    def test_yaml_names_a_missing_plugin(self):
        with open(os.path.join(WORK, "normalize.yaml")) as f:
            text = f.read().replace("libqmap_normalize.so", "libmissing.so")
        with open(os.path.join(WORK, "missing_plugin.yaml"), "w") as f:
            f.write(text)
        r = qmap("makertbin", "--config", "missing_plugin.yaml", "--model-type", "onnx", "--no-progress")
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("key 'custom_op.op_register_files'", r.stderr)
        self.assertIn("libmissing.so' does not exist", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
