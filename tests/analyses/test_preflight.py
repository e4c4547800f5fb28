"""Option values and --out folders refused before anything is loaded or fitted (in process)."""

import os
from pathlib import Path

import pytest

from nll_losses.analyses import preflight
from nll_losses.analyses.cli import build_parser
from nll_losses.analyses.errors import InputError

FIT = ["fit", "d.csv", "--target", "y", "--out", "o"]


@pytest.mark.parametrize(
    ("args", "mention"),
    [
        (["--seed", "-1"], "--seed -1"),
        (["--seed", str(2**32)], "4294967295"),
        (["--prior-scale", "1e-300"], "its square underflows"),
        (["--prior-scale", "1e300"], "its inverse square underflows"),
        (["--intercept-prior-scale", "1e-160"], "--intercept-prior-scale"),
        (["--sigma", "1e200"], "--sigma"),
        (["--sigma-prior", "halfnormal", "--sigma-scale", "1e-170"], "--sigma-scale"),
        (["--draws", str(10**12)], "--draws"),
        (["--tune", str(10**7)], "--tune"),
        (["--chains", "65"], "--chains"),
        (["--family", "categorical", "--hidden", "1000000"], "--hidden"),
    ],
)
def test_bad_number_is_refused(args, mention):
    parsed = build_parser().parse_args(FIT + args)
    with pytest.raises(InputError, match="use ") as exc:
        preflight.check_numbers(parsed)
    assert mention in str(exc.value)


@pytest.mark.parametrize(
    "args",
    [
        ["--seed", "0"],
        ["--seed", str(2**32 - 1)],
        ["--prior-scale", "1e-150", "--intercept-prior-scale", "1e150"],
        ["--sigma", "6e153"],
        ["--draws", "1000000", "--chains", "64"],
        ["--family", "categorical", "--hidden", "3"],
    ],
)
def test_usable_numbers_pass(args):
    preflight.check_numbers(build_parser().parse_args(FIT + args))


@pytest.mark.parametrize("workers", ["0", "-2", "65"])
def test_bad_workers_is_refused(workers):
    parsed = build_parser().parse_args(["run", "--workers", workers])
    with pytest.raises(InputError, match=f"--workers {workers}: use an integer from 1 to 64"):
        preflight.check_numbers(parsed)


def test_workers_not_a_number_is_one_line():
    with pytest.raises(InputError, match="--workers: not a valid int: 'two'"):
        build_parser().parse_args(["run", "--workers", "two"])


def test_workers_default_is_the_usable_cores():
    from nll_losses.analyses.workers import default_workers

    preflight.check_numbers(build_parser().parse_args(["run", "--workers", "64"]))
    assert build_parser().parse_args(["run"]).workers is None  # cli: default_workers()
    assert default_workers() == len(os.sched_getaffinity(0))


def test_scale_range_is_where_squares_stay_normal():
    import sys

    for s in (preflight.SCALE_MIN, preflight.SCALE_MAX):
        assert sys.float_info.min <= s * s <= sys.float_info.max
        assert sys.float_info.min <= 1 / (s * s) <= sys.float_info.max
    below, above = preflight.SCALE_MIN * 0.99, preflight.SCALE_MAX * 1.01
    assert below * below < sys.float_info.min and 1 / (above * above) < sys.float_info.min


def test_out_that_would_take_other_things_along(tmp_path, monkeypatch):
    data = tmp_path / "data" / "d.csv"
    data.parent.mkdir()
    data.write_text("y\n1\n")
    monkeypatch.chdir(tmp_path)
    cases = {
        Path("."): "current folder",
        tmp_path.parent: "current folder",
        data.parent: "folder of",
        preflight.REPO: "project",
        Path("/proc/self/x"): "system folder",
        data: "is a file",
        data / "sub": "which is a file",
    }
    for out, mention in cases.items():
        with pytest.raises(InputError, match=mention):
            preflight.check_out(out, [out], data=data)
    preflight.check_out(tmp_path / "new" / "deeper", [tmp_path / "new" / "deeper"], data=data)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]  # the probe left nothing


def test_read_only_parent(tmp_path):
    """A read-only folder (chmod for a user; a read-only mount for root, who ignores modes)."""
    import subprocess

    ro = tmp_path / "ro"
    ro.mkdir()
    if os.geteuid() == 0:
        mount = ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(ro)]
        if subprocess.run(mount, capture_output=True).returncode:
            pytest.skip("root, and cannot mount a read-only tmpfs here")
        undo = ["umount", str(ro)]
    else:
        ro.chmod(0o555)
        undo = ["chmod", "755", str(ro)]
    try:
        with pytest.raises(InputError, match="cannot write in .*Read-only|Permission"):
            preflight.check_out(ro / "out", [ro / "out"])
    finally:
        subprocess.run(undo)


def test_writable_out_in_a_read_only_parent(tmp_path):
    """``out`` writable but its parent not: the lock file and the temporary folder go in the
    parent, so preflight refuses it, and so does the lock (one line, not an OSError)."""
    import subprocess

    from nll_losses.analyses import interrupts

    ro = tmp_path / "ro"
    out = ro / "out"
    ro.mkdir()
    if os.geteuid() == 0:  # a read-only mount with a writable mount at ro/out
        steps = [
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(ro)],
            ["mkdir", str(out)],
            ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(out)],
            ["mount", "-o", "remount,ro", str(ro)],
        ]
        for k, step in enumerate(steps):
            if subprocess.run(step, capture_output=True).returncode:
                for undo in ([["umount", str(out)]] if k >= 3 else []) + [["umount", str(ro)]]:
                    subprocess.run(undo, capture_output=True)
                pytest.skip("root, and cannot mount tmpfs folders here")
        undo = [["umount", str(out)], ["umount", str(ro)]]
    else:
        out.mkdir()
        ro.chmod(0o555)
        undo = [["chmod", "755", str(ro)]]
    try:
        (out / "probe").write_text("out itself is writable")
        (out / "probe").unlink()
        with pytest.raises(InputError, match="cannot write in .*ro .*parent you can write"):
            preflight.check_out(out, [out])
        with pytest.raises(InputError, match="cannot make its lock file"):
            with interrupts.OutLock([out]):
                pass
    finally:
        for step in undo:
            subprocess.run(step)


@pytest.mark.parametrize("fails", [True, False])
def test_warnings_are_held_until_the_end(monkeypatch, capsys, fails):
    """A RuntimeWarning raised before a one-line refusal is not shown (the one line is all);
    after a written report it is shown, unless --quiet."""
    import warnings

    from nll_losses.analyses import cli

    def fit_csv(*args, **kw):
        warnings.warn("overflow somewhere", RuntimeWarning, stacklevel=1)
        if fails:
            raise InputError("d.csv: refused")
        return 0

    monkeypatch.setattr(cli, "fit_csv", fit_csv)  # the name cli calls
    for quiet in ([], ["--quiet"]):
        code = cli.main([*FIT, *quiet])
        err = capsys.readouterr().err
        assert code == (2 if fails else 0)
        if fails:
            assert err.strip() == "error: d.csv: refused"
        else:
            assert ("overflow somewhere" in err) == (not quiet), err


@pytest.mark.parametrize(
    ("option", "mention"),
    [(["--priors", "flat,lasso"], "'lasso' for any family"), (["--estimators", "adam"], "'adam'")],
)
def test_auto_family_refuses_unknown_names_before_loading(
    tmp_path, monkeypatch, capsys, option, mention
):
    """With --family auto the family is known only after reading the file; a name no family
    offers is refused before that (README: every option is checked before loading)."""
    from nll_losses.analyses import app, cli

    def load_csv(*args, **kw):
        raise AssertionError("the file was loaded")

    monkeypatch.setattr(app, "load_csv", load_csv)  # the name app calls
    csv = tmp_path / "d.csv"
    csv.write_text("x,y\n1,2\n2,3\n3,5\n")
    code = cli.main(["fit", str(csv), "--target", "y", "--out", str(tmp_path / "o"), *option])
    err = capsys.readouterr().err
    assert code == 2 and mention in err and len(err.strip().splitlines()) == 1, err
