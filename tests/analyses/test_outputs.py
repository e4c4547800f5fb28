"""Report folders: written atomically with a manifest; only provable reports are replaced."""

import json
import os

import pytest

from nll_losses.analyses import outputs
from nll_losses.analyses.outputs import GENERATOR, report_problem, write_report_atomically


def _report(folder, extra=None):
    files = {"index.html": "<p>page</p>", "posterior_flat.zarr/zarr.json": "{}"}
    write_report_atomically(folder, files | (extra or {}), {"case": "c"})


def test_manifest_lists_every_file(tmp_path):
    out = tmp_path / "rep"
    _report(out)
    meta = json.loads((out / "results.json").read_text())
    assert meta["generator"] == GENERATOR and meta["case"] == "c"
    on_disk = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert meta["manifest"] == on_disk
    assert report_problem(out) is None
    _report(out)  # an earlier report is replaced
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # no temporary folders left


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda d: (d / "results.json").write_text("junk"), id="junk"),
        pytest.param(lambda d: (d / "results.json").write_text('{"case": "x"}'), id="unmarked"),
        pytest.param(
            lambda d: (d / "results.json").write_text(json.dumps({"generator": GENERATOR})),
            id="no-manifest",
        ),
    ],
)
def test_not_a_report(tmp_path, make):
    d = tmp_path / "d"
    d.mkdir()
    make(d)
    assert report_problem(d) is not None


@pytest.mark.parametrize("where", ["thesis.tex", "posterior_flat.zarr/notes.txt", "empty/"])
def test_report_with_a_user_file_is_not_replaceable(tmp_path, where):
    out = tmp_path / "rep"
    _report(out)
    if where.endswith("/"):
        (out / where).mkdir()
    else:
        (out / where).write_text("precious")
    assert where.rstrip("/") in report_problem(out)


def test_symlink_is_foreign(tmp_path):
    out = tmp_path / "rep"
    _report(out)
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", out / "link")
    assert "link" in report_problem(out)


def test_sweep_removes_only_our_stale_folders(tmp_path):
    out = tmp_path / "rep"
    _report(out)
    stale_tmp = tmp_path / ".rep.tmp-abcd1234"
    stale_tmp.mkdir()
    (stale_tmp / outputs.PARTIAL_MARK).write_bytes(b"")
    (stale_tmp / "index.html").write_text("half")
    _report(tmp_path / ".rep.old-efgh5678")  # a complete earlier report renamed aside
    lookalike = tmp_path / ".rep.tmp-zzzz9999"  # same name pattern, not ours: kept
    lookalike.mkdir()
    (lookalike / "mine.txt").write_text("precious")
    other = tmp_path / ".other.tmp-abcd1234"  # another folder's: not this sweep's business
    other.mkdir()
    (other / outputs.PARTIAL_MARK).write_bytes(b"")
    swept = outputs.sweep_stale(out)
    assert sorted(p.name for p in swept) == [".rep.old-efgh5678", ".rep.tmp-abcd1234"]
    assert (lookalike / "mine.txt").read_text() == "precious" and other.exists()


def test_sweep_restores_a_report_renamed_aside(tmp_path):
    """Killed between the two renames: DIR is missing and its report is in .DIR.old-*."""
    _report(tmp_path / ".rep.old-efgh5678")
    outputs.sweep_stale(tmp_path / "rep")
    assert report_problem(tmp_path / "rep") is None
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


def test_interrupt_waits_for_a_callable_writing_from_threads(tmp_path):
    """A Ctrl-C while a callable's own thread still writes (zarr 3 writes chunks from a
    background thread) is raised only once the call returned: the temporary folder is removed
    after the last write, so the thread cannot recreate it unmarked (no sweep would find it)."""
    import signal
    import threading
    import time

    from nll_losses.analyses import interrupts

    def write(path):
        def chunks():
            time.sleep(0.3)  # still writing when the signal arrives
            path.mkdir(parents=True, exist_ok=True)
            (path / "c.0").write_bytes(b"chunk")

        worker = threading.Thread(target=chunks)
        worker.start()
        os.kill(os.getpid(), signal.SIGINT)
        worker.join()

    previous = interrupts.install()
    try:
        with pytest.raises(interrupts.Interrupted):
            outputs.write_dir_atomically(tmp_path / "rep", {"a.zarr": write, "b": "after"})
    finally:
        interrupts.restore(previous)
    time.sleep(0.4)  # any thread still writing has finished
    assert sorted(p.name for p in tmp_path.iterdir()) == []
