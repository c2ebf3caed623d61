"""qmap.Session and qmap.load_image from Python (run by ctest with Debian's /usr/bin/python3).

Float path: tests/data/models/tiny_cnn.onnx against a numpy reference of the same network
written here (weights read with the onnx package), and the makertbin float model (uint8 NHWC
input through the preprocess node) against mean/scale + that reference. Quantized path: a
model this test converts with the built `qmap makertbin` on seeded calibration data, checked
against the float model (cosine), for determinism (repeat runs, threads), and its inputs as
ORT's NodeArg; every stage's output equals `qmap infer --output-dir`'s bytes for the same image.
load_image: BMP files the test writes, with exact expected pixels, for makertbin's models and
a plain float model (color/layout/mean/scale). Error cases: one per bad input, asserting on the
exception type and the names in its message.

Environment (set by tests/python/CMakeLists.txt): PYTHONPATH=<build>/python, QMAP_BIN,
QMAP_TEST_DATA, QMAP_PY_WORK (a scratch folder under the build tree).
"""
import os
import pathlib
import subprocess
import threading
import unittest

import numpy as np
import onnx
from onnx import numpy_helper

import qmap
from qmap_test_util import MEAN, QMAP_BIN, SCALE, TINY, images, makertbin, write_bmp

WORK = os.path.join(os.environ["QMAP_PY_WORK"], "session")


# ---------------------------------------------------------------------------------------
# numpy reference of tiny_cnn.onnx (opset 13): Conv 3x3 pad 1 -> BatchNorm -> Relu ->
# MaxPool 2x2/2 -> depthwise Conv 3x3 pad 1 (+bias) -> Clip(0, 6) -> Conv 1x1 (+bias) ->
# Relu -> GlobalAveragePool -> Flatten -> Gemm (transB) -> Softmax. The structure is
# checked against the file so a changed model fails here instead of comparing nonsense.

def tiny_weights():
    m = onnx.load(TINY)
    ops = [n.op_type for n in m.graph.node]
    assert ops == ["Conv", "BatchNormalization", "Relu", "MaxPool", "Conv", "Clip", "Conv", "Relu",
                   "GlobalAveragePool", "Flatten", "Gemm", "Softmax"], ops
    return {t.name: numpy_helper.to_array(t).astype(np.float64) for t in m.graph.initializer}


def conv2d(x, w, b=None, pad=0, group=1):
    """NCHW x, OIHW w, stride 1, in float64."""
    n, c, h, wd = x.shape
    o, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    oh, ow = h + 2 * pad - kh + 1, wd + 2 * pad - kw + 1
    out = np.zeros((n, o, oh, ow))
    og = o // group
    for oc in range(o):
        g = oc // og
        for i in range(kh):
            for j in range(kw):
                patch = xp[:, g * cg:(g + 1) * cg, i:i + oh, j:j + ow]
                out[:, oc] += np.einsum("nchw,c->nhw", patch, w[oc, :, i, j])
    if b is not None:
        out += b[None, :, None, None]
    return out


def tiny_reference(x):
    W = tiny_weights()
    y = conv2d(x.astype(np.float64), W["w0"], pad=1)
    y = (y - W["bn1_mean"][None, :, None, None]) / np.sqrt(W["bn1_var"][None, :, None, None] + 9.999999747378752e-06)
    y = y * W["bn1_scale"][None, :, None, None] + W["bn1_bias"][None, :, None, None]
    y = np.maximum(y, 0)
    n, c, h, w = y.shape
    y = y.reshape(n, c, h // 2, 2, w // 2, 2).max(axis=(3, 5))
    y = conv2d(y, W["w5"], W["w5_b"], pad=1, group=8)
    y = np.clip(y, W["relu6_min"], W["relu6_max"])
    y = np.maximum(conv2d(y, W["w9"], W["w9_b"]), 0)
    y = y.mean(axis=(2, 3))
    y = y @ W["fc_w"].T + W["fc_b"]
    e = np.exp(y - y.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


OUT = None  # makertbin's output folder, made once by setUpModule


def setUpModule():
    global OUT
    os.makedirs(WORK, exist_ok=True)
    OUT = makertbin(os.path.join(WORK, "rgb_nhwc"))


class FloatModel(unittest.TestCase):
    def test_tiny_cnn_matches_numpy(self):
        sess = qmap.Session(TINY)
        self.assertEqual(sess.kind, "float onnx")
        rng = np.random.default_rng(11)
        for _ in range(3):
            # Spread-out inputs so the softmax is far from uniform and a wrong op shows.
            x = (rng.standard_normal((1, 3, 16, 16)) * 3).astype(np.float32)
            y, = sess.run(None, {"input": x})
            self.assertEqual(y.dtype, np.float32)
            np.testing.assert_allclose(y, tiny_reference(x), rtol=1e-4, atol=1e-6)

    def test_node_args_like_onnxruntime(self):
        sess = qmap.Session(TINY)
        ins, outs = sess.get_inputs(), sess.get_outputs()
        self.assertEqual([(a.name, a.shape, a.type) for a in ins], [("input", [1, 3, 16, 16], "tensor(float)")])
        self.assertEqual([(a.name, a.shape, a.type) for a in outs], [("output", [1, 10], "tensor(float)")])
        self.assertEqual(sess.input_names, ["input"])
        self.assertEqual(sess.output_names, ["output"])
        self.assertIn("tensor(float)", repr(ins[0]))
        self.assertEqual(qmap.Session(pathlib.Path(TINY)).input_names, ["input"])  # os.PathLike works too

    def test_makertbin_float_model_is_preprocess_then_network(self):
        sess = qmap.Session(os.path.join(OUT, "tiny_original_float_model.onnx"))
        self.assertEqual(sess.kind, "float onnx")
        self.assertEqual([(a.name, a.shape, a.type) for a in sess.get_inputs()],
                         [("input", [1, 16, 16, 3], "tensor(uint8)")])
        for x in images(3):
            y, = sess.run(None, {"input": x})
            train = (x.astype(np.float32).transpose(0, 3, 1, 2) - MEAN[None, :, None, None]) * SCALE[None, :, None, None]
            np.testing.assert_allclose(y, tiny_reference(train), rtol=1e-4, atol=1e-6)


class QuantizedModel(unittest.TestCase):
    def setUp(self):
        self.q = qmap.Session(os.path.join(OUT, "tiny_quantized_model.onnx"))
        self.f = qmap.Session(os.path.join(OUT, "tiny_optimized_float_model.onnx"))

    def test_kind_and_io(self):
        self.assertEqual(self.q.kind, "quantized onnx")
        self.assertEqual(self.f.kind, "float onnx")
        self.assertEqual([(a.name, a.shape, a.type) for a in self.q.get_inputs()],
                         [("input", [1, 16, 16, 3], "tensor(uint8)")])
        self.assertEqual([a.name for a in self.q.get_outputs()], ["output"])

    def test_close_to_float(self):
        for x in images(5):
            yq, = self.q.run(None, {"input": x})
            yf, = self.f.run(None, {"input": x})
            self.assertEqual(yq.shape, (1, 10))
            self.assertAlmostEqual(float(yq.sum()), 1.0, places=4)  # Softmax stays float on the CPU
            self.assertGreater(cosine(yq, yf), 0.97)

    def test_bin_equals_quantized_onnx(self):
        # makertbin's .bin, run by the runtime library, gives the quantized ONNX's outputs
        # (run by the integer simulator) bit for bit.
        b = qmap.Session(os.path.join(OUT, "tiny.bin"))
        self.assertEqual(b.kind, "bin")
        self.assertEqual([(a.name, a.shape, a.type) for a in b.get_inputs()],
                         [("input", [1, 16, 16, 3], "tensor(uint8)")])
        for x in images(7, n=4):
            np.testing.assert_array_equal(b.run(None, {"input": x})[0], self.q.run(None, {"input": x})[0])

    def test_bin_threads_and_kernels(self):
        # The .bin runs on the fast kernels of the best ISA the CPU has (QMAP_ISA may force
        # another); intra-op threads split each step's output, so every thread count gives
        # the integer simulator's outputs bit for bit.
        path = os.path.join(OUT, "tiny.bin")
        self.assertIn(qmap.Session(path).kernels, ("ref", "avx2", "avxvnni", "avx512vnni"))
        self.assertEqual(self.q.kernels, "integer simulator (ref)")
        xs = images(11, n=3)
        for threads in (1, 2, 3, 0):
            b = qmap.Session(path, threads=threads)
            for x in xs:
                np.testing.assert_array_equal(b.run(None, {"input": x})[0], self.q.run(None, {"input": x})[0])
        with self.assertRaisesRegex(ValueError, "threads -1"):
            qmap.Session(path, threads=-1)

    def test_bin_profile(self):
        # profile=True times every step of every run: one dict per step with its node, kind,
        # kernel and mean time; the outputs are the same. Without it there is nothing to read,
        # and an ONNX model has no per-step timer.
        path = os.path.join(OUT, "tiny.bin")
        p = qmap.Session(path, profile=True)
        for x in images(5, n=2):
            np.testing.assert_array_equal(p.run(None, {"input": x})[0], self.q.run(None, {"input": x})[0])
        steps = p.profile()
        self.assertGreater(len(steps), 1)
        for s in steps:
            self.assertEqual(sorted(s), ["kernel", "kind", "mean_us", "node"])
            self.assertGreaterEqual(s["mean_us"], 0)
        self.assertIn("conv", [s["kind"] for s in steps])
        self.assertGreater(sum(s["mean_us"] for s in steps), 0)
        with self.assertRaisesRegex(ValueError, "profile=True"):
            qmap.Session(path).profile()
        with self.assertRaisesRegex(ValueError, "per-layer times come from the runtime"):
            qmap.Session(os.path.join(OUT, "tiny_quantized_model.onnx"), profile=True)

    def test_deterministic_across_runs_sessions_and_threads(self):
        xs = images(9, n=8)
        serial = [self.q.run(None, {"input": x})[0] for x in xs]
        again = qmap.Session(os.path.join(OUT, "tiny_quantized_model.onnx"))
        for x, y in zip(xs, serial):
            np.testing.assert_array_equal(again.run(None, {"input": x})[0], y)
        # Four threads sharing one session (serialized inside) and four with their own.
        results = {}

        def work(k, sess):
            results[k] = [sess.run(None, {"input": x})[0] for x in xs]
        threads = [threading.Thread(target=work, args=(k, self.q if k < 4 else qmap.Session(self.q.path)))
                   for k in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for k in range(8):
            for y, want in zip(results[k], serial):
                np.testing.assert_array_equal(y, want)

    def test_output_selection(self):
        x = images(1, n=1)[0]
        all_, = self.q.run(None, {"input": x})
        named, = self.q.run(["output"], {"input": x})
        empty, = self.q.run([], {"input": x})
        np.testing.assert_array_equal(all_, named)
        np.testing.assert_array_equal(all_, empty)

    def test_non_contiguous_input_is_accepted(self):
        x = images(2, n=1)[0]
        nchw = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
        view = nchw.transpose(0, 2, 3, 1)  # same values as x, not C-contiguous
        self.assertFalse(view.flags["C_CONTIGUOUS"])
        np.testing.assert_array_equal(self.q.run(None, {"input": view})[0], self.q.run(None, {"input": x})[0])


class LoadImage(unittest.TestCase):
    def setUp(self):
        self.dir = os.path.join(WORK, "images")
        os.makedirs(self.dir, exist_ok=True)
        self.q = qmap.Session(os.path.join(OUT, "tiny_quantized_model.onnx"))
        self.rng = np.random.default_rng(21)

    def bmp(self, name, h, w):
        rgb = self.rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        path = os.path.join(self.dir, name)
        write_bmp(path, rgb)
        return path, rgb

    def test_model_size_image_is_its_pixels(self):
        path, rgb = self.bmp("exact.bmp", 16, 16)
        x = qmap.load_image(path, self.q)
        self.assertEqual((x.dtype, x.shape), (np.uint8, (1, 16, 16, 3)))
        np.testing.assert_array_equal(x[0], rgb)
        # A model path works as well as a Session, and the array feeds the model directly.
        np.testing.assert_array_equal(qmap.load_image(path, self.q.path), x)
        self.q.run(None, {"input": x})

    def test_center_crop(self):
        path, rgb = self.bmp("crop.bmp", 20, 25)
        x = qmap.load_image(path, self.q, crop=16)
        # torchvision CenterCrop: top = round(4 / 2) = 2, left = round(9 / 2) = 4 (half to even).
        np.testing.assert_array_equal(x[0], rgb[2:18, 4:20])
        np.testing.assert_array_equal(qmap.load_image(path, self.q, crop=(16, 16)), x)

    def test_resize_and_short_side_keep_a_flat_color(self):
        path = os.path.join(self.dir, "flat.bmp")
        write_bmp(path, np.full((32, 48, 3), (200, 100, 30), np.uint8))
        for kw in ({"resize": 16}, {"short_side": 16, "crop": 16}, {}, {"resize": (20, 30), "crop": (16, 16)}):
            x = qmap.load_image(path, self.q, **kw)
            self.assertEqual(x.shape, (1, 16, 16, 3), kw)
            self.assertTrue((x[0] == np.array([200, 100, 30], np.uint8)).all(), kw)

    def test_bgr_nchw_runtime_input(self):
        out = makertbin(os.path.join(WORK, "bgr_nchw"), input_type_rt="bgr", input_layout_rt="NCHW")
        sess = qmap.Session(os.path.join(out, "tiny_quantized_model.onnx"))
        self.assertEqual(sess.get_inputs()[0].shape, [1, 3, 16, 16])
        path, rgb = self.bmp("bgr.bmp", 16, 16)
        x = qmap.load_image(path, sess)
        np.testing.assert_array_equal(x[0], rgb[:, :, ::-1].transpose(2, 0, 1))
        # Same picture, same network, but two separate calibrations: the bgr/NCHW model's
        # preprocess conv takes the color channels in the other order, so the float engine
        # (OpenBLAS sgemm, whose kernel depends on the CPU and OPENBLAS_CORETYPE) sums the same
        # products in another order and every calibrated threshold may differ in its last
        # float32 bits (seen: 6 of 10 outputs 1.5e-8 apart on a Zen 5 with
        # OPENBLAS_CORETYPE=Haswell). The integer codes are then the same and each output
        # (q - zp) * scale moves by the scales' relative difference, a few float32 ulps
        # compounded over the layers: rtol 1e-5 (about 80 ulps) holds that with a wide margin
        # while any real difference (one output code, 1/255 of the range here) fails it.
        got = sess.run(None, {"input": x})[0]
        want = self.q.run(None, {"input": qmap.load_image(path, self.q)})[0]
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5 * float(np.abs(want).max()))
        self.assertEqual(int(np.argmax(got)), int(np.argmax(want)))

    def test_errors(self):
        path, _ = self.bmp("ok.bmp", 16, 16)
        with self.assertRaisesRegex(RuntimeError, "nope.jpg"):
            qmap.load_image(os.path.join(self.dir, "nope.jpg"), self.q)
        junk = os.path.join(self.dir, "junk.jpg")
        with open(junk, "wb") as f:
            f.write(b"this is not an image")
        with self.assertRaisesRegex(RuntimeError, "junk.jpg"):
            qmap.load_image(junk, self.q)
        with self.assertRaisesRegex(RuntimeError, "ok.bmp"):
            qmap.load_image(path, TINY, layout="NHWC")  # the model takes 1x3x16x16
        with self.assertRaisesRegex(RuntimeError, "16"):
            qmap.load_image(path, self.q, crop=32)  # larger than the 16x16 image
        for bad in ({"crop": 0}, {"crop": (1, 2, 3)}, {"resize": "big"}, {"short_side": -1}, {"input_name": "x"},
                    {"mean": 128.0}):  # the quantized model stores its own mean
            with self.assertRaises(ValueError, msg=str(bad)):
                qmap.load_image(path, self.q, **bad)
        for bad in ({"color": "nv12"}, {"layout": "CHW"}, {"mean": "zero"}):
            with self.assertRaises(ValueError, msg=str(bad)):
                qmap.load_image(path, TINY, **bad)

    def test_plain_float_model_takes_color_layout_mean_scale(self):
        path, rgb = self.bmp("plain.bmp", 16, 16)
        chw = rgb.transpose(2, 0, 1).astype(np.float32)
        x = qmap.load_image(path, TINY)
        self.assertEqual((x.dtype, x.shape), (np.float32, (1, 3, 16, 16)))
        np.testing.assert_array_equal(x[0], chw)
        np.testing.assert_array_equal(qmap.load_image(path, TINY, color="bgr")[0], chw[::-1])
        x = qmap.load_image(path, TINY, mean=MEAN.tolist(), scale=SCALE.tolist())
        np.testing.assert_allclose(x[0], (chw - MEAN[:, None, None]) * SCALE[:, None, None], rtol=1e-6)
        # The user's model fed normalized pixels and makertbin's float model (preprocess node
        # inside) fed the uint8 image compute the same.
        f = qmap.Session(os.path.join(OUT, "tiny_original_float_model.onnx"))
        np.testing.assert_allclose(qmap.Session(TINY).run(None, {"input": x})[0],
                                   f.run(None, {"input": qmap.load_image(path, f)})[0], rtol=1e-4, atol=1e-6)


class SameAsQmapInfer(unittest.TestCase):
    """Python and `qmap infer --output-dir` give the same input pixels, hence the same bytes out."""

    def test_outputs_equal_qmap_infer(self):
        folder = os.path.join(WORK, "infer")
        os.makedirs(folder, exist_ok=True)
        rgb = np.random.default_rng(31).integers(0, 256, size=(21, 19, 3), dtype=np.uint8)
        image = os.path.join(folder, "odd.bmp")
        write_bmp(image, rgb)
        for stage in ("quantized", "optimized_float", "original_float"):
            model = os.path.join(OUT, "tiny_%s_model.onnx" % stage)
            out_dir = os.path.join(folder, stage)
            r = subprocess.run([QMAP_BIN, "infer", "--model", model, "--image", image, "--short-side-resize", "17",
                                "--center-crop", "16", "--output-dir", out_dir], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            sess = qmap.Session(model)
            y, = sess.run(None, {"input": qmap.load_image(image, sess, short_side=17, crop=16)})
            cpp = np.fromfile(os.path.join(out_dir, "output.bin"), dtype=y.dtype).reshape(y.shape)
            np.testing.assert_array_equal(y, cpp, err_msg=stage)


class Errors(unittest.TestCase):
    def setUp(self):
        self.q = qmap.Session(os.path.join(OUT, "tiny_quantized_model.onnx"))
        self.x = images(4, n=1)[0]

    def test_bad_model_files(self):
        with self.assertRaisesRegex(RuntimeError, "missing.onnx"):
            qmap.Session(os.path.join(WORK, "missing.onnx"))
        corrupt = os.path.join(WORK, "corrupt.onnx")
        with open(corrupt, "wb") as f:
            f.write(np.random.default_rng(1).integers(0, 256, 300, dtype=np.uint8).tobytes())
        with self.assertRaisesRegex(RuntimeError, "corrupt.onnx"):
            qmap.Session(corrupt)
        text = os.path.join(WORK, "model.txt")
        with open(text, "w") as f:
            f.write("not a model\n")
        with self.assertRaisesRegex(RuntimeError, "model.txt.*expected .onnx"):
            qmap.Session(text)
        with self.assertRaisesRegex(RuntimeError, "missing.bin"):
            qmap.Session(os.path.join(WORK, "missing.bin"))

    def test_wrong_dtype_names_input_expected_and_actual(self):
        with self.assertRaises(ValueError) as cm:
            self.q.run(None, {"input": self.x.astype(np.float32)})
        msg = str(cm.exception)
        for part in ("'input'", "tensor(uint8)", "[1, 16, 16, 3]", "float32"):
            self.assertIn(part, msg)

    def test_wrong_shape(self):
        with self.assertRaisesRegex(ValueError, r"'input'.*\[1, 16, 16, 3\].*\(1, 3, 16, 16\)"):
            self.q.run(None, {"input": np.ascontiguousarray(self.x.transpose(0, 3, 1, 2))})
        with self.assertRaisesRegex(ValueError, r"\(16, 16, 3\)"):
            self.q.run(None, {"input": self.x[0]})

    def test_feed_names_and_types(self):
        with self.assertRaisesRegex(ValueError, "'input'.*missing"):
            self.q.run(None, {})
        with self.assertRaisesRegex(ValueError, "'data'.*no such input.*input"):
            self.q.run(None, {"input": self.x, "data": self.x})
        with self.assertRaisesRegex(ValueError, "'input'.*numpy array.*list"):
            self.q.run(None, {"input": self.x.tolist()})
        with self.assertRaisesRegex(ValueError, "'logits'.*no such output.*output"):
            self.q.run(["logits"], {"input": self.x})


if __name__ == "__main__":
    unittest.main(verbosity=2)
