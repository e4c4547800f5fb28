"""The command line end to end with tiny sampler settings, and bad input: mostly through
``cli.main`` in this process (what ``python -m nll_losses.analyses`` runs; a new interpreter
costs about 6 s of CPU to import PyMC, ArviZ, scikit-learn and statsmodels), the entry point
itself as a subprocess in ``test_list``, three of the bad inputs (``IN_A_PROCESS``), the
background end-to-end run and tests/analyses/test_interrupts.py."""

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from tolerances import FIND_MAP_RTOL

ROOT = Path(__file__).resolve().parents[2]
QUICK = ["--quick", "--draws", "200", "--tune", "200", "--chains", "2"]
FLAT_FIND_MAP = ["--priors", "flat", "--estimators", "closed_form,find_map"]


def cli(*args, cwd=None):
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, "-m", "nll_losses.analyses", *map(str, args)],
        cwd=cwd or ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
    )


def cli_in_process(capture, *args) -> subprocess.CompletedProcess:
    """``analyses.cli.main`` in this process, as :func:`cli` reports it (exit code, stdout,
    stderr), for tests of a message and an exit code rather than of a process: they spare
    the import of the package's libraries (about 6 s of CPU).  ``capture`` is pytest's
    ``capsys`` or ``capfd`` (the latter also sees what C or Rust code writes to the file
    descriptors).  ``main`` is what
    ``python -m nll_losses.analyses`` runs (analyses/__main__.py); an exception escaping it fails
    the test as a traceback would."""
    from nll_losses.analyses.cli import main

    capture.readouterr()  # what came before
    code = main([str(a) for a in args])
    captured = capture.readouterr()
    return subprocess.CompletedProcess(args, code, captured.out, captured.err)


def fit_json(csv, out, family: str, *args) -> dict:
    """``fit --family FAMILY`` on ``csv`` into ``out`` (in this process, as
    :func:`cli_in_process` without its capture); exit 0 and its results.json."""
    from nll_losses.analyses.cli import main

    code = main([str(a) for a in ("fit", csv, "--family", family, *args, "--out", out)])
    assert code == 0, f"exit {code}"
    return json.loads((Path(out) / "results.json").read_text())


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def write_csv(path: Path, columns: dict[str, list]) -> Path:
    names = list(columns)
    rows = zip(*columns.values(), strict=True)
    path.write_text(",".join(names) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


def write_good_csv(folder: Path) -> Path:
    """A small normal-family file whose first column name needs escaping in HTML."""
    rng = np.random.default_rng(11)
    n = 40
    x = np.repeat(np.arange(8.0), 5)
    z = rng.normal(size=n)
    y = 0.5 + 1.5 * x - 2.0 * z + rng.normal(scale=0.7, size=n)
    return write_csv(
        folder / "mine.csv",
        {"<b>x&amp</b>": x.tolist(), "z": z.round(6).tolist(), "y": y.round(6).tolist()},
    )


@pytest.fixture(scope="module")
def good_csv(tmp_path_factory):
    return write_good_csv(tmp_path_factory.mktemp("data"))


def _end_to_end(folder):
    csv = write_good_csv(folder)
    return ["fit", csv, "--family", "normal", "--target", "y", "--out", folder / "fit"] + [
        *("--prior-scale", "2", *QUICK)
    ]


BACKGROUND = {"normal fit end to end": _end_to_end}  # tests/background.py


def test_list():
    res = cli("list")
    assert res.returncode == 0
    assert "synthetic" in res.stdout and "diabetes" in res.stdout


@pytest.mark.slow
@pytest.mark.background("normal fit end to end")
def test_fit_end_to_end_and_escaping(background_run):
    res, folder = background_run("normal fit end to end")
    out = folder / "fit"
    assert res.returncode == 0, res.stderr
    result = json.loads((out / "results.json").read_text())
    assert result["parameters"] == ["intercept", "<b>x&amp</b>", "z", "sigma"]
    assert result["n_obs"] == 40 and result["target"] == "y"
    html = (out / "index.html").read_text()
    assert "<b>x&amp</b>" not in html and "&lt;b&gt;x&amp;amp&lt;/b&gt;" in html
    # the same seed gives the same numbers across processes: tests/analyses/test_cold_start.py


@pytest.mark.slow
def test_fit_selected_estimators(tmp_path, good_csv, capsys):
    out = tmp_path / "fm"
    res = cli_in_process(
        capsys,
        "fit",
        good_csv,
        "--target",
        "y",
        "--features",
        "z",
        *FLAT_FIND_MAP,
        "--out",
        out,
    )
    assert res.returncode == 0, res.stderr
    result = json.loads((out / "results.json").read_text())
    assert set(result["estimates"]) == {"closed_form_flat", "find_map_flat"}
    assert result["parameters"] == ["intercept", "z", "sigma"]


BAD = {
    "missing file": ("nope.csv", ["--target", "y"], "nope.csv"),
    "empty file": ("empty.csv", ["--target", "y"], "empty.csv"),
    "unknown target": ("ok.csv", ["--target", "yy"], "yy"),
    "unknown feature": ("ok.csv", ["--target", "y", "--features", "a,q"], "q"),
    "non-numeric": ("text.csv", ["--target", "y"], "abc"),
    "nan": ("nan.csv", ["--target", "y"], "a"),
    "inf": ("inf.csv", ["--target", "y"], "inf"),
    "constant column": ("const.csv", ["--target", "y"], "c"),
    "collinear": ("collinear.csv", ["--target", "y"], "collinear"),
    "n <= p": ("tiny.csv", ["--target", "y"], "tiny.csv"),
    "prior scale 0": ("ok.csv", ["--target", "y", "--prior-scale", "0"], "prior-scale"),
    "prior scale negative": ("ok.csv", ["--target", "y", "--prior-scale", "-1"], "prior-scale"),
    "sigma 0": ("ok.csv", ["--target", "y", "--sigma", "0"], "sigma"),
    "sigma negative": ("ok.csv", ["--target", "y", "--sigma", "-2"], "sigma"),
    "sigma nan": ("ok.csv", ["--target", "y", "--sigma", "nan"], "sigma"),
    "halfnormal without scale": (
        "ok.csv",
        ["--target", "y", "--sigma-prior", "halfnormal"],
        "sigma-scale",
    ),
    "draws 0": ("ok.csv", ["--target", "y", "--draws", "0"], "draws"),
    "unknown estimator": ("ok.csv", ["--target", "y", "--estimators", "magic"], "magic"),
    "unknown prior": ("ok.csv", ["--target", "y", "--priors", "flat,jeffreys"], "jeffreys"),
    "sigma with scale": (
        "ok.csv",
        ["--target", "y", "--sigma", "1", "--sigma-scale", "2"],
        "--sigma",
    ),
    "constant target": ("consty.csv", ["--target", "y"], "constant"),
    "duplicate names": ("dup.csv", ["--target", "y"], "duplicate column name(s) 'a'"),
    "blank cell": ("blank.csv", ["--target", "y"], "--dropna"),
    "yes/no target as numbers": (
        "yesno.csv",
        ["--target", "y", "--family", "normal"],
        "--family bernoulli",
    ),
    "count target": ("counts.csv", ["--target", "y"], "--family normal"),
    "formula and no-intercept": (
        "ok.csv",
        ["--formula", "y ~ a + b", "--no-intercept"],
        "--no-intercept",
    ),
}


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]
    b = [0.5, -1.0, 2.5, 0.0, 1.0, 3.0]
    y = [1.1, 2.3, 2.9, 4.2, 5.1, 5.8]
    write_csv(d / "ok.csv", {"a": a, "b": b, "y": y})
    (d / "empty.csv").write_text("")
    write_csv(d / "text.csv", {"a": a[:3] + ["abc"] + a[4:], "b": b, "y": y})
    write_csv(d / "nan.csv", {"a": a[:2] + ["nan"] + a[3:], "b": b, "y": y})
    write_csv(d / "inf.csv", {"a": a, "b": b[:4] + ["inf"] + b[5:], "y": y})
    write_csv(d / "const.csv", {"a": a, "c": [2.0] * 6, "y": y})
    write_csv(
        d / "collinear.csv",
        {"a": a, "b": b, "s": [u + 2 * v for u, v in zip(a, b, strict=True)], "y": y},
    )
    write_csv(d / "tiny.csv", {"a": a[:3], "b": b[:3], "y": y[:3]})
    write_csv(d / "consty.csv", {"a": a, "b": b, "y": [2.5] * 6})
    rows = "".join(f"{u},{v},{w}\n" for u, v, w in zip(a, b, y, strict=True))
    (d / "dup.csv").write_text("a,a,y\n" + rows)
    write_csv(d / "blank.csv", {"a": a[:2] + [""] + a[3:], "b": b, "y": y})
    write_csv(d / "yesno.csv", {"a": a, "b": b, "y": ["yes", "no", "no", "yes", "no", "yes"]})
    write_csv(d / "counts.csv", {"a": a, "b": b, "y": [0, 3, 1, 2, 5, 1]})
    return d


# checked as real processes too (exit status, nothing on stderr but the line): a file the
# reader refuses, an argument the parser refuses, a bad number preflight refuses
IN_A_PROCESS = ("non-numeric", "unknown prior", "prior scale 0")


@pytest.mark.parametrize(
    "case, process",
    [(case, False) for case in sorted(BAD)] + [(case, True) for case in IN_A_PROCESS],
)
def test_bad_input_one_line_exit_2(case, process, bad_files, tmp_path, capsys):
    fname, args, mention = BAD[case]
    out = tmp_path / "out"
    run = cli if process else lambda *a: cli_in_process(capsys, *a)
    res = run("fit", bad_files / fname, *args, "--out", out)
    assert res.returncode == 2, (case, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    assert mention in lines[0], lines[0]
    assert not out.exists()


@pytest.mark.slow
def test_bad_input_keeps_earlier_report(tmp_path, good_csv, bad_files, capsys):
    out = tmp_path / "keep"
    res = cli_in_process(
        capsys,
        "fit",
        good_csv,
        "--target",
        "y",
        *FLAT_FIND_MAP,
        "--out",
        out,
    )
    assert res.returncode == 0, res.stderr
    before = tree_digest(out)
    res = cli_in_process(capsys, "fit", bad_files / "text.csv", "--target", "y", "--out", out)
    assert res.returncode == 2
    assert tree_digest(out) == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep"]  # no temporary folders left


def test_refuses_to_replace_foreign_folder(tmp_path, bad_files, capsys):
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    res = cli_in_process(capsys, "fit", bad_files / "ok.csv", "--target", "y", "--out", foreign)
    assert res.returncode == 2 and "not empty" in res.stderr
    assert (foreign / "thesis.tex").read_text() == "precious"


def test_junk_results_json_does_not_make_a_report(tmp_path, bad_files, capfd):
    """A file named results.json is not proof of an earlier report: the folder is refused
    and every file in it (the input CSV too) survives, byte for byte."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "results.json").write_text("junk")
    (folder / "thesis.tex").write_text("precious")
    (folder / "data.csv").write_bytes((bad_files / "ok.csv").read_bytes())
    before = tree_digest(folder)
    res = cli_in_process(capfd, "fit", folder / "data.csv", "--target", "y", "--out", folder)
    assert res.returncode == 2, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    assert str(folder) in res.stderr
    assert tree_digest(folder) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_run_leaves_foreign_case_folder_and_files(tmp_path, capsys):
    """``run --out ROOT``: a case folder that is not a report is refused before anything runs;
    ROOT's other files are never touched."""
    root = tmp_path / "reports"
    (root / "synthetic").mkdir(parents=True)
    (root / "synthetic" / "results.json").write_text('{"case": "synthetic"}')
    (root / "notes.txt").write_text("mine")
    before = tree_digest(root)
    res = cli_in_process(capsys, "run", "synthetic", "--out", root, "--quick")
    assert res.returncode == 2 and "synthetic" in res.stderr, res.stderr
    assert tree_digest(root) == before


@pytest.mark.slow
def test_exact_fit_ends_without_traceback(tmp_path, capfd):
    """Data a cubic fits exactly, default settings: no traceback; every estimator ends ok or
    unavailable with a reason (σ has no estimate, so nothing that needs σ runs)."""
    x = np.arange(-6.0, 7.0)
    csv = write_csv(
        tmp_path / "cubic.csv",
        {
            "x": x.tolist(),
            "x2": (x**2).tolist(),
            "x3": (x**3).tolist(),
            "y": np.polyval([1, 1, 1, 1], x).tolist(),
        },
    )
    out = tmp_path / "out"
    res = cli_in_process(capfd, "fit", csv, "--target", "y", "--out", out, *QUICK)
    assert "Traceback" not in res.stderr, res.stderr
    assert res.returncode == 0, res.stderr
    result = json.loads((out / "results.json").read_text())
    status = {k: e["status"] for k, e in result["estimates"].items()}
    assert status["closed_form_flat"] == status["find_map_flat"] == "ok"
    for key in ("nuts_flat", "laplace_flat", "sklearn_gaussian", "exact_posterior_gaussian"):
        assert status[key] == "unavailable" and result["estimates"][key]["reason"], key
    for name in ("intercept", "x", "x2", "x3"):
        assert abs(result["estimates"]["find_map_flat"]["mean"][name] - 1.0) <= FIND_MAP_RTOL


@pytest.fixture(scope="module")
def people_csv(tmp_path_factory):
    """40 people: age, a text column (sex), two blank cells and a yes/no target."""
    rng = np.random.default_rng(5)
    age = rng.integers(20, 70, size=40)
    sex = rng.choice(["female", "male"], size=40)
    z = -3.0 + 0.06 * age + 0.8 * (sex == "male")
    bought = np.where(rng.random(40) < 1 / (1 + np.exp(-z)), "yes", "no")
    cells = {"age": age.astype(str).tolist(), "sex": sex.tolist(), "bought": bought.tolist()}
    cells["age"][3] = ""
    cells["sex"][17] = "NA"
    path = write_csv(tmp_path_factory.mktemp("people") / "people.csv", cells)
    return path, age, sex, bought


@pytest.mark.slow
def test_fit_text_column_blank_cells_yes_no_target(tmp_path, people_csv, capsys):
    import statsmodels.api as sm

    path, age, sex, bought = people_csv
    out = tmp_path / "people"
    res = cli_in_process(capsys, "fit", path, "--target", "bought", "--out", out)
    assert res.returncode == 2 and "--dropna" in res.stderr and "line(s) 5, 19" in res.stderr
    res = cli_in_process(
        capsys, "fit", path, "--target", "bought", "--dropna", "--priors", "flat",
        "--estimators", "newton,statsmodels", "--out", out,
    )  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "family bernoulli chosen" in res.stdout and "y = 1 for 'yes'" in res.stdout
    assert "dropped 2 of 40 rows" in res.stdout and "reference level 'female'" in res.stdout
    result = json.loads((out / "results.json").read_text())
    assert result["parameters"] == ["intercept", "age", "sex[T.male]"]
    assert "reference level 'female'" in result["dataset"]["description"]
    keep = np.ones(40, bool)
    keep[[3, 17]] = False
    X = sm.add_constant(np.column_stack([age[keep], sex[keep] == "male"]).astype(float))
    ref = sm.Logit((bought[keep] == "yes").astype(float), X).fit(disp=0, tol=1e-12).params
    got = result["estimates"]["newton_flat"]["mean"]
    np.testing.assert_allclose(
        [got["intercept"], got["age"], got["sex[T.male]"]], ref, rtol=FIND_MAP_RTOL
    )
