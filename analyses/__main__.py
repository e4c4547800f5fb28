import sys

from analyses.threads import one_thread_per_process

one_thread_per_process()  # before anything imports NumPy (analyses/threads.py)

from analyses.cli import main  # noqa: E402

sys.exit(main(exiting=True))
