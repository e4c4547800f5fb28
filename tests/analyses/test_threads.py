"""One BLAS / OpenMP thread per process (analyses/threads.py), in a new interpreter whose
environment does not set the thread variables."""

import json
import os
import subprocess
import sys

import pytest

from nll_losses.analyses.threads import VARIABLES

REPORT = (
    "from threadpoolctl import threadpool_info; import json; "
    "print(json.dumps([i['num_threads'] for i in threadpool_info() "
    "if i['internal_api'] == 'openblas']))"
)


def _threads(code: str, **env) -> list[int]:
    """The thread count of every OpenBLAS loaded (NumPy's and SciPy's are two) after ``code``
    runs in a new interpreter with ``env``."""
    clean = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    out = subprocess.run(
        [sys.executable, "-c", code + "; " + REPORT],
        env=clean | env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


ONE_THREAD = "from nll_losses.analyses.threads import one_thread_per_process as f"


@pytest.mark.parametrize(
    "order",
    [
        f"{ONE_THREAD}; f(); import numpy, scipy.linalg",
        f"import numpy, scipy.linalg; {ONE_THREAD}; f()",
    ],
    ids=["before NumPy", "after NumPy"],
)
def test_one_thread_whether_or_not_numpy_is_loaded(order):
    threads = _threads(order)
    assert len(threads) == 2 and set(threads) == {1}, threads


def test_user_setting_is_kept():
    code = f"{ONE_THREAD}; f(); import numpy"
    assert _threads(code, OPENBLAS_NUM_THREADS="2") == [2]
