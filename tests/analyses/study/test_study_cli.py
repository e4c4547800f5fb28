"""``study {coverage,risk,sbc}`` end to end (analyses/study): every study for every family,
the acceptance checks (the Gaussian family's exact intervals cover within their binomial
band; SBC finds NUTS calibrated), the same numbers serially, in two local workers and on a
two-worker Dask cluster, and an interrupted study resuming.

The studies run in one background process (tests/background.py): five studies, one after
another, each into its own folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser import check_self_contained, chromium, needs_chromium, open_page
from tolerances import MCSE_Z

from nll_losses.analyses.cli import main
from nll_losses.analyses.study.design import designs

ROOT = Path(__file__).resolve().parents[3]
EVERY = list(designs())  # the study cases: one per family with a generator
NORMAL = "synthetic"  # the normal family's study case (known σ: exact Gaussian posterior)
STUDIES = {  # folder -> the study's command line
    "coverage": ["study", "coverage", "--replicates", "8"],
    "sbc": ["study", "sbc", "--replicates", "8"],
    "risk": ["study", "risk", "--replicates", "2"],
    "coverage-normal": ["study", "coverage", NORMAL, "--replicates", "100"],
    "sbc-normal": ["study", "sbc", NORMAL, "--replicates", "100"],
}


def _studies(folder: Path):
    from background import Command

    calls = [
        [*argv, "--workers", "1", "--quiet", "--out", str(folder / name)]
        for name, argv in STUDIES.items()
    ]
    code = (
        "import sys\n"
        "from nll_losses.analyses.cli import main\n"
        f"codes = [main(argv) for argv in {calls!r}]\n"
        "print(codes)\n"
        "sys.exit(max(codes))\n"
    )
    return Command(["-c", code])


_studies.cpu_seconds = 150  # measured 2026-12-01 (warm compile caches)
BACKGROUND = {"studies": _studies}  # tests/background.py


def _results(folder: Path, name: str) -> dict:
    kind = STUDIES[name][1]
    return json.loads((folder / name / kind / "results.json").read_text())


def _replicate(folder: Path, name: str, case: str, r: int) -> dict:
    kind = STUDIES[name][1]
    return json.loads((folder / name / f".{kind}.replicates" / case / f"r{r:05d}.json").read_text())


@pytest.mark.background("studies")
def test_every_study_runs_for_every_family(background_run):
    res, folder = background_run("studies")
    assert res.returncode == 0, res.stderr[-3000:]
    families = {d.family for d in designs().values()}
    for name in ("coverage", "sbc", "risk"):
        r = _results(folder, name)
        assert set(r["cases"]) == set(EVERY)
        assert {c["family"] for c in r["cases"].values()} == families
        # a figure hard to read is a page warning (as on the case pages); NUTS flags and an
        # MLE that does not exist in some replicates (separation) are the study's findings
        assert not [w for w in r["page warnings"] if "figure" in w], r["page warnings"]
        page = (folder / name / r["study"] / "index.html").read_text()
        assert f'href="{r["study"]}/index.html"' in (folder / name / "index.html").read_text()
        assert page.count("<img ") >= 1
        csv = (folder / name / r["study"] / "replicates.csv").read_text().splitlines()
        assert len(csv) > 1
        for case, c in r["cases"].items():
            if name == "coverage":
                # every Gaussian-prior interval answered every replicate (proper posterior)
                for label, e in c["estimators"].items():
                    if e["prior"] == "gaussian":
                        assert e["ok"] == 8, (case, label, e["reasons"])
                assert {"NUTS", "Laplace at the MAP", "Laplace at the MLE (Wald)"} <= set(
                    c["estimators"]
                ), case
            elif name == "sbc":
                assert c["ok"] == 8 and set(c["ranks"]) == set(c["parameters"]), case
                assert all(0 <= k <= c["draws ranked"] for v in c["ranks"].values() for k in v)
            else:
                for label in ("MAP τ = 1 τ₀", "posterior mean"):
                    for n in c["n_grid"]:
                        assert c["estimators"][label][str(n)]["ok"] == 2, (case, label, n)


def _band(trials: int, level: float) -> tuple[float, float]:
    """Binomial(trials, level)'s central interval of probability 1 − 2Φ(−MCSE_Z) (the
    Monte Carlo tier: 6e-5 false alarms per comparison), as rates."""
    from scipy import stats

    lo, hi = stats.binom.interval(1 - 2 * stats.norm.sf(MCSE_Z), trials, level)
    return lo / trials, hi / trials


@pytest.mark.background("studies")
def test_normal_exact_intervals_cover_at_their_level(background_run):
    """Issue 21's acceptance: with σ known and the truth drawn from the prior, the exact
    posterior's intervals (and the classical ones, exact for any truth) cover at their
    nominal level within the binomial band, per parameter and level."""
    res, folder = background_run("studies")
    assert res.returncode == 0, res.stderr[-3000:]
    c = _results(folder, "coverage-normal")["cases"][NORMAL]
    for label in ("exact posterior", "exact posterior (flat)", "classical (statsmodels)"):
        e = c["estimators"][label]
        assert e["ok"] == 100, (label, e["reasons"])
        for param, p in e["per parameter"].items():
            for level, rate in zip(c["levels"], p["rate"], strict=True):
                lo, hi = _band(p["trials"], level)
                assert lo <= rate <= hi, (label, param, level, rate, (lo, hi))


@pytest.mark.background("studies")
def test_sbc_finds_nuts_calibrated_for_the_normal_model(background_run):
    """Issue 21's acceptance: SBC ranks of a proper posterior are uniform (Talts et al.
    2018): the χ² test over 10 bins of 100 ranks per parameter does not reject at the Monte
    Carlo tier."""
    from scipy import stats

    res, folder = background_run("studies")
    assert res.returncode == 0, res.stderr[-3000:]
    c = _results(folder, "sbc-normal")["cases"][NORMAL]
    assert c["ok"] == 100
    for param, u in c["uniformity"].items():
        assert u["p value"] > 2 * stats.norm.sf(MCSE_Z), (param, u)


SOFTMAX = "softmax_synthetic"  # NUTS with the low-rank mass matrix
SAME = (("coverage-normal", NORMAL, 4), ("sbc", SOFTMAX, 2))  # (the serial study, case, R)


@pytest.mark.slow
@pytest.mark.background("studies")
def test_workers_and_dask_give_the_serial_numbers(background_run, tmp_path):
    """The first replicates of the normal coverage study and of the softmax SBC study in two
    local worker processes and on a two-worker Dask ``LocalCluster`` (loopback), each equal
    to the serial run's (replicate r's numbers do not depend on R or the other cases)."""
    from distributed import LocalCluster

    res, folder = background_run("studies")
    assert res.returncode == 0, res.stderr[-3000:]

    def runs(where: str, extra: list[str]) -> None:
        for name, case, R in SAME:
            kind = STUDIES[name][1]
            argv = ["study", kind, case, "--replicates", str(R), "--quiet", *extra]
            assert main([*argv, "--out", str(tmp_path / where / name)]) == 0
            for r in range(R):
                got = tmp_path / where / name / f".{kind}.replicates" / case / f"r{r:05d}.json"
                assert json.loads(got.read_text()) == _replicate(folder, name, case, r), (
                    where,
                    name,
                    r,
                )

    runs("local", ["--workers", "2"])
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    ) as cluster:
        runs("dask", ["--scheduler", cluster.scheduler_address])
    done = json.loads((tmp_path / "dask" / "sbc" / "sbc" / "results.json").read_text())
    assert done["execution"].startswith("Dask cluster at tcp://127.0.0.1:")


@pytest.mark.slow
@pytest.mark.background("studies")
def test_an_interrupted_study_resumes(background_run, tmp_path):
    """SIGINT after a few replicates: exit 130, the finished replicates kept and said so; the
    same command again fits only the others, and the ranks are the uninterrupted study's."""
    res, folder = background_run("studies")
    assert res.returncode == 0, res.stderr[-3000:]
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "nll_losses.analyses", "study", "sbc", NORMAL]
    argv += ["--replicates", "30", "--workers", "1", "--out", str(out)]
    proc = subprocess.Popen(
        argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    work = out / ".sbc.replicates" / NORMAL
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list(work.glob("r*.json"))) < 3:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    kept = len(list(work.glob("r*.json")))
    assert proc.returncode == 130, stderr
    assert f"{kept} finished replicates are kept" in stderr and "resumes" in stderr, stderr
    assert 3 <= kept < 30 and not (out / "sbc").exists()
    again = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert f"resuming: {kept} replicates already" in again.stdout
    r = json.loads((out / "sbc" / "results.json").read_text())
    assert r["replicates fitted now"] == 30 - kept
    uninterrupted = _results(folder, "sbc-normal")["cases"][NORMAL]["ranks"]
    assert r["cases"][NORMAL]["ranks"] == {k: v[:30] for k, v in uninterrupted.items()}


@needs_chromium
@pytest.mark.background("studies")
def test_study_pages_open_in_browser(background_run, tmp_path_factory):
    res, folder = background_run("studies")
    assert res.returncode == 0, res.stderr[-3000:]
    pages = [
        folder / name / STUDIES[name][1] / "index.html" for name in ("coverage", "risk", "sbc")
    ]
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as driver:
        for page in pages:
            seen = open_page(driver, page)
            assert seen.images and len(seen.images) == page.read_text().count("<img "), page
            check_self_contained(page, seen)


def test_study_input_errors(capsys, tmp_path):
    """Bad input: one line naming it, exit 2, nothing written."""
    assert main(["study", "coverage", "iris", "--out", str(tmp_path / "a")]) == 2
    assert "'iris' takes no simulation study" in capsys.readouterr().err
    assert main(["study", "coverage"]) == 2
    assert "--out DIR" in capsys.readouterr().err
    assert main(["study", "risk", "--replicates", "0", "--out", str(tmp_path / "b")]) == 2
    assert "--replicates" in capsys.readouterr().err
    out = tmp_path / "c"
    assert main(["study", "sbc", "--scheduler", "notanaddress", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--scheduler notanaddress" in err and err.count("\n") == 1
    assert main(["study", "list"]) == 0
    listed = capsys.readouterr().out
    assert all(case in listed for case in EVERY)
    assert not any(tmp_path.iterdir())


def test_a_work_folder_of_other_settings_is_refused(tmp_path, capsys):
    work = tmp_path / ".sbc.replicates"
    work.mkdir()
    (work / "study.json").write_text(json.dumps({"kind": "sbc", "seed": 99, "settings": {}}))
    assert main(["study", "sbc", NORMAL, "--out", str(tmp_path), "--seed", "1"]) == 2
    err = capsys.readouterr().err
    assert "other settings" in err and err.count("\n") == 1
    assert sorted(os.listdir(tmp_path)) == [".sbc.replicates"]
