"""Benchmarks for s2s_ad: speed of generated gradients against the function,
a hand-written NumPy gradient and the installed peers (autograd, JAX, PyTorch),
cold transformation time, and trace memory.

Run ``python -m benchmarks`` (or ``python benchmarks/run.py``); ``--quick`` for
a short run.  Importing this package pins every math library to one thread,
so it must happen before NumPy is imported (``python -m benchmarks`` does).
"""

import os
import sys

#: True when NumPy was imported before the threads could be pinned.
NUMPY_PREIMPORTED = "numpy" in sys.modules

THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"


def pin_threads() -> None:
    """Ask every library for one thread (before any of them is imported)."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = (flags + " " + XLA_FLAGS).strip()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")


pin_threads()
