"""Interrupted, killed, concurrent and disk-full runs: real signals sent to ``python -m
nll_losses.analyses`` subprocesses.  Each run announces its stages on stderr (NLL_LOSSES_STAGES)
and, with NLL_LOSSES_PAUSE, waits inside one, so the signal lands where the test means it to."""

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from test_cli import ROOT, cli, tree_digest, write_csv

from nll_losses.analyses import interrupts
from nll_losses.analyses.errors import InputError

FAST = ["--priors", "flat", "--estimators", "closed_form"]  # no compile, no sampling


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    """A small CSV and an earlier report of it (made once; each test gets a copy)."""
    folder = tmp_path_factory.mktemp("data")
    csv = write_csv(
        folder / "d.csv",
        {
            "a": [1, 2, 3, 4, 5, 6, 7, 8],
            "b": [0.5, -1, 2.5, 0, 1, 3, 1, 2],
            "y": [1.1, 2.3, 2.9, 4.2, 5.1, 5.8, 7.2, 7.9],
        },
    )
    out = folder / "report"
    res = cli("fit", csv, "--target", "y", *FAST, "--out", out, "--quiet")
    assert res.returncode == 0, res.stderr
    return csv, out


@pytest.fixture
def data(earlier, tmp_path):
    """The CSV, and a copy of the earlier report in ``tmp_path/out`` (alone in its folder)."""
    csv, report = earlier
    out = tmp_path / "out"
    shutil.copytree(report, out)
    return csv, out


def start(*args, pause=None):
    env = dict(os.environ, NLL_LOSSES_STAGES="1")
    if pause:
        env["NLL_LOSSES_PAUSE"] = pause
    return subprocess.Popen(
        [sys.executable, "-m", "nll_losses.analyses", *map(str, args)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_for(proc, stage: str) -> list[str]:
    """Read the run's stderr until it announces ``stage``; the lines read."""
    seen = []
    for line in proc.stderr:
        seen.append(line.rstrip("\n"))
        if seen[-1] == f"stage: {stage}":
            return seen
    proc.wait(timeout=60)
    raise AssertionError(f"the run ended before stage {stage!r}: {seen}")


def finish(proc) -> tuple[int, list[str]]:
    rest = proc.stderr.read()
    code = proc.wait(timeout=120)
    return code, [ln for ln in rest.splitlines() if not ln.startswith("stage: ")]


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.parametrize(
    ("stage", "sig"),
    [
        ("loading", signal.SIGINT),
        ("fitting", signal.SIGTERM),
        ("writing", signal.SIGINT),
        ("swap", signal.SIGTERM),  # the new report is complete in .out.tmp-*, not yet in place
    ],
)
def test_interrupt_at_a_stage_keeps_earlier_report(data, stage, sig):
    csv, out = data
    before = tree_digest(out)
    proc = start("fit", csv, "--target", "y", *FAST, "--out", out, pause=stage)
    wait_for(proc, stage)
    proc.send_signal(sig)
    code, lines = finish(proc)
    assert code == 128 + sig, lines
    assert len(lines) == 1 and "Traceback" not in lines[0], lines
    name = signal.Signals(sig).name
    assert lines[0].startswith(f"interrupted by {name}: nothing written"), lines
    assert str(out) in lines[0]
    assert tree_digest(out) == before
    assert leftovers(out.parent) == []  # no .out.tmp-*, .out.old-*, .out.lock


@pytest.mark.slow
def test_interrupt_during_sampling_reports_nothing(data):
    """nutpie swallows KeyboardInterrupt and returns the draws so far; here the run stops, and
    no report of the cut-short chains replaces the earlier one."""
    csv, out = data
    before = tree_digest(out)
    proc = start(
        "fit",
        csv,
        "--target",
        "y",
        "--priors",
        "flat",
        "--estimators",
        "nuts",
        "--draws",
        "1000000",  # minutes of sampling: the signal always lands inside it
        "--tune",
        "50",
        "--chains",
        "1",
        "--out",
        out,
    )
    wait_for(proc, "sampling")
    proc.send_signal(signal.SIGINT)
    code, lines = finish(proc)
    assert code == 130 and len(lines) == 1, lines
    assert "nothing written" in lines[0] and "intact" in lines[0], lines
    assert tree_digest(out) == before
    assert leftovers(out.parent) == []


def test_partial_trace_is_an_interrupt():
    """The check after nutpie.sample: fewer draws or chains than asked is never a result."""

    def trace(chains, draws):
        return SimpleNamespace(posterior=SimpleNamespace(sizes={"chain": chains, "draw": draws}))

    interrupts.raise_if_partial(trace(2, 400), 400, 2)
    for short in (trace(2, 123), trace(1, 400)):
        with pytest.raises(interrupts.Interrupted, match="cut short"):
            interrupts.raise_if_partial(short, 400, 2)


def test_run_interrupted_leaves_root_alone(tmp_path):
    root = tmp_path / "reports"
    root.mkdir()
    (root / "README.md").write_text("kept")
    proc = start("run", "synthetic", "--quick", "--out", root, pause="fitting synthetic")
    wait_for(proc, "fitting synthetic")
    proc.send_signal(signal.SIGTERM)
    code, lines = finish(proc)
    assert code == 143 and len(lines) == 1 and "nothing written" in lines[0], lines
    assert sorted(p.name for p in root.iterdir()) == ["README.md"]
    assert leftovers(tmp_path) == []


def _children(pid: int) -> list[int]:
    """The live processes whose parent is ``pid`` (from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        try:
            state, ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[:2]
        except (OSError, ValueError):
            continue
        if int(ppid) == pid and state != "Z":
            out.append(int(entry.name))
    return out


def _cmdline(pid: int) -> bytes:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes()
    except OSError:
        return b""


def _alive(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_ctrl_c_with_workers_stops_them_and_writes_nothing(tmp_path):
    """Ctrl-C at the terminal (SIGINT to the whole process group) while worker processes fit:
    the workers stop with the run, which exits 130 with its one line and writes nothing."""
    root = tmp_path / "reports"
    env = dict(os.environ, NLL_LOSSES_STAGES="1")
    env["NLL_LOSSES_PAUSE"] = "loading synthetic"  # in a worker
    args = ["run", "synthetic", "categorical_frequencies", "--quick", "--workers", "2"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "nll_losses.analyses", *args, "--out", str(root)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        start_new_session=True,  # its own process group, as a terminal's job
    )
    wait_for(proc, "loading synthetic")
    workers = _children(proc.pid)
    tracker = [pid for pid in workers if b"resource_tracker" in _cmdline(pid)]
    assert len(workers) >= 2, workers  # the two workers (and multiprocessing's tracker)
    os.killpg(proc.pid, signal.SIGINT)
    code, lines = finish(proc)
    assert code == 130, lines
    assert lines == ["interrupted by SIGINT: nothing written"], lines
    assert not [pid for pid in workers if pid not in tracker and _alive(pid)]
    # the workers are gone when the run ends; multiprocessing's resource tracker (which
    # ignores signals) when it sees the run's end of its pipe
    deadline = time.monotonic() + 20
    while any(map(_alive, workers)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if _alive(pid)]
    assert not root.exists() and leftovers(tmp_path) == []


def test_killed_run_is_swept_by_the_next(data):
    """SIGKILL cannot be caught: the temporary folder stays, and the next run removes it."""
    csv, out = data
    proc = start("fit", csv, "--target", "y", *FAST, "--out", out, pause="swap")
    wait_for(proc, "swap")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    stale = [p for p in out.parent.iterdir() if p.name.startswith(".out.tmp-")]
    assert len(stale) == 1
    mine = out.parent / ".out.tmp-notours1"  # the same pattern, but not a folder we made
    mine.mkdir()
    (mine / "thesis.tex").write_text("precious")
    res = cli("fit", csv, "--target", "y", *FAST, "--out", out, "--quiet")
    assert res.returncode == 0, res.stderr
    assert not stale[0].exists()
    assert (mine / "thesis.tex").read_text() == "precious"


def test_second_run_on_the_same_out_is_refused(data):
    csv, out = data
    first = start("fit", csv, "--target", "y", *FAST, "--out", out, pause="fitting")
    try:
        wait_for(first, "fitting")
        res = cli("fit", csv, "--target", "y", *FAST, "--out", out)
        assert res.returncode == 2, res.stderr
        assert f"being written by another run (pid {first.pid})" in res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
    finally:
        first.send_signal(signal.SIGTERM)
        finish(first)
    res = cli("fit", csv, "--target", "y", *FAST, "--out", out, "--quiet")
    assert res.returncode == 0, res.stderr  # the lock went with the first run


def test_full_disk_is_one_line_and_keeps_earlier_report(data, monkeypatch):
    """In process: the report's last file fails with ENOSPC while the earlier report stands."""
    from nll_losses.analyses import app, outputs

    _, out = data
    before = tree_digest(out)

    def full(path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def write(result, folder):
        outputs.write_report_atomically(folder, {"index.html": "<p>new</p>", "big": full}, {})

    with pytest.raises(InputError, match="No space left on device") as exc:
        app.write_guarded(write, None, out)
    assert "\n" not in str(exc.value)
    assert tree_digest(out) == before
    assert leftovers(out.parent) == []


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("mount") is None, reason="mounting a tmpfs needs root"
)
def test_full_disk_on_a_real_filesystem(data, tmp_path):
    csv, _ = data
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", disk]).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        out = disk / "rep"
        assert cli("fit", csv, "--target", "y", *FAST, "--out", out, "--quiet").returncode == 0
        before = tree_digest(out)
        fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
        try:  # fill the disk to the last block
            while os.write(fd, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        res = cli("fit", csv, "--target", "y", *FAST, "--out", out)
        assert res.returncode == 2 and "No space left on device" in res.stderr, res.stderr
        assert len(res.stderr.strip().splitlines()) == 1
        assert tree_digest(out) == before
        assert leftovers(disk) == []
    finally:
        subprocess.run(["umount", disk])


def test_install_forgets_signals_of_an_earlier_run():
    """A signal held (pending) when an earlier run in this process ended is not raised in the
    next one (install clears it, as it clears the received ones)."""
    interrupts._pending.append(signal.SIGINT)  # left by an earlier held() section
    previous = interrupts.install()
    try:
        with interrupts.held():
            pass  # would raise Interrupted for the stale signal
        interrupts.check()
    finally:
        interrupts.restore(previous)
        interrupts._pending.clear()


def test_restore_forgets_the_signals_of_the_run():
    """A run in this process stopped by a signal (cli.main restores the handlers) does not
    stop the next run that does not install them (the Python API calls check() at stages)."""
    previous = interrupts.install()
    try:
        with pytest.raises(interrupts.Interrupted):
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(5)  # the handler raises here
    finally:
        interrupts.restore(previous)
    interrupts.check()  # nothing left over
