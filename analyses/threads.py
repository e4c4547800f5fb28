"""One BLAS and one OpenMP thread per process.

The work is spread over processes, not threads: ``run --workers N`` fits cases in worker
processes, NUTS runs its chains in one thread (analyses/estimators.py), and the test session
runs its background runs beside itself.  NumPy's OpenBLAS and the OpenMP runtime would each
start one thread per core in every process, and on two cores two processes then run four or
more threads that wait for each other.  Measured (README, Design notes): two ``run
network_rings`` side by side took 123 s each (find_MAP 72 s, scikit-learn's references 12 s)
with the libraries' default threads, 44 s (6.6 s, 1.1 s) with one thread each; one run alone
47 s.  The libraries read these variables once, when they are loaded, so ``python -m
analyses`` sets them before anything imports NumPy, and the worker processes inherit them;
where NumPy is already loaded (a pytest session: a plugin imports it before tests/conftest.py)
``threadpoolctl`` sets the loaded libraries to one thread as well.  A variable the user has set
is kept, and then so is the loaded libraries' thread count.
"""

from __future__ import annotations

import os
import sys

from threadpoolctl import threadpool_limits

VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread_per_process() -> None:
    """Set each of :data:`VARIABLES` to 1 unless the user has set it, and the BLAS and OpenMP
    libraries already loaded to one thread."""
    user_set = any(name in os.environ for name in VARIABLES)
    for name in VARIABLES:
        os.environ.setdefault(name, "1")
    if "numpy" in sys.modules and not user_set:
        threadpool_limits(limits=1)
