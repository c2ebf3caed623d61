"""qmap.Session on 8 threads at once, each thread with its own Session on one .bin (the
module releases the GIL while the runtime runs): every output equals a single-threaded run
of the same input, bit for bit. Under `scripts/test.sh --tsan` the module is built with
ThreadSanitizer and this runs with libtsan preloaded (tests/python/CMakeLists.txt).

Environment as test_session.py; QMAP_CONCURRENCY_RUNS overrides the runs per thread.
"""
import os
import threading
import unittest

import numpy as np

import qmap
from qmap_test_util import makertbin

WORK = os.path.join(os.environ["QMAP_PY_WORK"], "concurrency")
THREADS = 8
RUNS = int(os.environ.get("QMAP_CONCURRENCY_RUNS", "200"))


class ConcurrentSessions(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.bin = os.path.join(makertbin(WORK), "tiny.bin")

    def test_eight_threads_each_with_its_own_session(self):
        rng = np.random.default_rng(14)
        # Random uint8 NHWC images, a different one for every run of every thread.
        xs = rng.integers(0, 256, size=(THREADS, RUNS, 1, 16, 16, 3), dtype=np.uint8)
        ref = qmap.Session(self.bin)
        want = [[ref.run(None, {"input": xs[t, r]})[0] for r in range(RUNS)] for t in range(THREADS)]
        # Different inputs must give different outputs, or the comparison proves nothing.
        self.assertFalse(np.array_equal(want[0][0], want[0][1]))

        got = [[None] * RUNS for _ in range(THREADS)]
        errors = []
        start = threading.Barrier(THREADS)

        def work(t):
            try:
                sess = qmap.Session(self.bin)
                start.wait()  # all threads run at the same time, not one after the other
                for r in range(RUNS):
                    got[t][r] = sess.run(None, {"input": xs[t, r]})[0]
            except Exception as e:  # reported below: an exception in a thread would be lost
                errors.append("thread %d: %r" % (t, e))

        threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        self.assertEqual(errors, [])
        bad = [(t, r) for t in range(THREADS) for r in range(RUNS) if not np.array_equal(got[t][r], want[t][r])]
        self.assertEqual(bad, [], "runs (thread, run) whose outputs differ from the single-threaded run")


if __name__ == "__main__":
    unittest.main()
