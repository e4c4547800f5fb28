import sys

from nll_losses.analyses.threads import one_thread_per_process

one_thread_per_process()  # before anything imports NumPy (analyses/threads.py)

from nll_losses.analyses.cli import main  # noqa: E402

sys.exit(main(exiting=True))
