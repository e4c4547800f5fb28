"""Property: random malformed CSV files and option values through ``analyses.cli.main`` never
end in a traceback.  Each run either stops with exit 2 and exactly one line on stderr (and
nothing written), or reaches fitting: ``analyses.pipeline.run_case`` is replaced by a stub
that raises ``Reached``, so no model is built and the test takes seconds.  Derandomised
(hypothesis' fixed seed), so CI sees the same examples every time."""

import contextlib
import csv
import io
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from nll_losses.analyses import cli, pipeline


class Reached(Exception):
    """The run got as far as fitting."""


def _stub(*args, **kwargs):
    raise Reached


@pytest.fixture(scope="module")
def stubbed():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(pipeline, "run_case", _stub)
        yield


NAMES = ["x", "y", "a", "b", "sex", "é", "名字", "", " x", "y ", '"q"', "a,b", "x.1", "Intercept"]
CELLS = [  # odd cells: missing words, text, overflow, underflow, quotes
    "", " ", "NA", "nan", "NaN", "-nan", "?", "inf", "-inf", "1e308", "-1e308", "1e-300",
    "4.9e-324", "1e400", "yes", "no", "male", "female", " 3 ", '"1,5"', "0", "1", "2", "0x10",
    "1_000", "True", "null", "N/A", "ü", '"', "1,2",
]  # fmt: skip

name = st.one_of(st.sampled_from(NAMES), st.text(max_size=5))
odd = st.one_of(st.sampled_from(CELLS), st.text(max_size=4))
KINDS = {
    "numbers": st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: repr(round(v, 3))),
    "extreme": st.floats(allow_nan=True, allow_infinity=True).map(repr),
    "small ints": st.integers(0, 3).map(str),
    "labels": st.sampled_from(["yes", "no"]),
    "words": st.sampled_from(["male", "female", "other", " male", "Male"]),
}


@st.composite
def csv_text(draw):
    """A header (usually distinct names) and rows whose columns are each of one kind, with odd
    cells, ragged rows and blank lines mixed in."""
    if draw(st.integers(0, 3)):
        header = draw(st.lists(st.sampled_from(NAMES[:7]), min_size=2, max_size=5, unique=True))
    else:
        header = draw(st.lists(name, min_size=1, max_size=5))
    kinds = [draw(st.sampled_from(sorted(KINDS))) for _ in header]
    n_rows = draw(st.integers(0, 14))
    rows = []
    for _ in range(n_rows):
        row = [draw(odd if draw(st.integers(0, 11)) == 0 else KINDS[k]) for k in kinds]
        ragged = draw(st.integers(0, 24))
        rows.append(row[:-1] if ragged == 0 else row + ["1"] if ragged == 1 else row)
    out = io.StringIO()
    if draw(st.integers(0, 3)):  # quoted properly
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for r in rows:
            if draw(st.integers(0, 9)) == 0:
                out.write("\n")  # a blank line
            writer.writerow(r)
    else:  # raw: quotes and commas inside cells break the columns
        out.write(",".join(header) + "\n")
        for r in rows:
            out.write(",".join(r) + ("\n\n" if draw(st.integers(0, 9)) == 0 else "\n"))
    return header, out.getvalue()


@st.composite
def options(draw, header):
    names = [h.strip() for h in header]
    target = draw(st.sampled_from(names) if draw(st.integers(0, 9)) else st.just("nope"))
    others = [n for n in names if n != target] or ["nope"]
    args = []
    formula = draw(
        st.sampled_from(
            [None] * 6
            + ["{t} ~ {a}", "{t} ~ 0 + C({a})", "~ {a}", "{t} ~ {a} - 1", "{t} ~ (", "raw"]
            + ["{t} ~ {a} | {a}", "{t} | {a} ~ {a}", "{t} ~ scale({a})", "{t} ~ {a} + text"]
        )
    )
    if formula is None or draw(st.booleans()):
        args += ["--target", target]
    if formula is not None:
        a = draw(st.sampled_from(others))
        text = (
            draw(st.text(max_size=12))
            if formula == "raw"
            else formula.format(t=f"`{target}`", a=f"`{a}`")
        )
        args += ["--formula", text]
    if draw(st.integers(0, 5)) == 0:
        args += ["--features", ",".join(draw(st.lists(st.sampled_from(others), min_size=1)))]
    fam = draw(st.sampled_from([None, None, None, "auto", "normal", "bernoulli", "categorical"]))
    if fam:
        args += ["--family", fam]
    for flag in ("--dropna", "--no-intercept", "--quiet"):
        if draw(st.booleans()):
            args.append(flag)
    extra = draw(
        st.sampled_from(
            [[]] * 8
            + [
                ["--prior-scale", "1e-300"],
                ["--prior-scale", "abc"],
                ["--positive", "yes"],
                ["--baseline", "male"],
                ["--sigma", "1"],
                ["--priors", "flat"],
                ["--estimators", "find_map"],
            ]
        )
    )
    return args + extra


@settings(
    max_examples=300,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_csv_and_options_never_traceback(data, stubbed):
    header, text = data.draw(csv_text())
    args = data.draw(options(header))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "d.csv"
        path.write_text(text, encoding="utf-8")
        out = Path(tmp) / "out"
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                code = cli.main(["fit", str(path), "--out", str(out), *args])
        except Reached:
            event("reached fitting")
            return
        lines = err.getvalue().strip().splitlines()
        assert code == 2, (code, args, text, err.getvalue())
        assert len(lines) == 1 and lines[0].startswith("error: "), (args, text, err.getvalue())
        assert not out.exists()
        event("refused: " + lines[0].replace("error: ", "").replace(f"{path}: ", "")[:36])
