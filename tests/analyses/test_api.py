"""The Python API (analyses.api): the README's session runs as written; ``fit`` gives the
command line's numbers for the same seed; bad input is the command line's one-line error,
naming the DataFrame rather than a temporary file; ``to_html`` keeps fit's protection of the
folder it writes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from background import Command

from nll_losses.analyses import fit
from nll_losses.analyses.cli import main
from nll_losses.analyses.errors import InputError

README = Path(__file__).resolve().parents[2] / "README.md"


def _session() -> str:
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Python API") :]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)


def _readme_session(folder: Path) -> Command:
    """The README's block as a script in ``folder``, run there as a user would run it."""
    (folder / "session.py").write_text(_session(), encoding="utf-8")
    return Command(["session.py"], cwd=folder)


# a self-contained fit of two cases (37-60 s): on the background lane (tests/background.py)
BACKGROUND = {"README session": _readme_session}


@pytest.mark.background("README session")
def test_the_readme_session_runs_as_written(background_run):
    res, folder = background_run("README session")
    assert res.returncode == 0, res.stderr[-3000:]
    out = res.stdout
    assert re.search(r"<Result 'data': normal, n = 80, (\d+)/\1 agreement rows ok>", out), out
    assert "Empty DataFrame" in out  # result.agreement().query("not ok")
    assert (folder / "score_report" / "index.html").is_file()


def _frame(n=40, seed=3):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n), "kind": rng.choice(["p", "q"], n)})
    df["y"] = 1 + 0.5 * df["x"] + rng.normal(size=n)
    return df


def test_fit_gives_the_command_lines_numbers(tmp_path):
    csv = tmp_path / "small.csv"
    _frame().to_csv(csv, index=False)
    flags = ["--estimators", "closed_form,find_map", "--prior-scale", "0.7", "--seed", "5"]
    assert main(["fit", str(csv), "--target", "y", "--out", str(tmp_path / "cli"), *flags]) == 0
    cli = json.loads((tmp_path / "cli" / "results.json").read_text())
    api = fit(csv, "y", estimators=["closed_form", "find_map"], prior_scale=0.7, seed=5)
    ours = api.case_result.to_json()
    assert ours["case"] == cli["case"] == "small"
    assert ours["estimates"].keys() == cli["estimates"].keys()
    for key, estimate in cli["estimates"].items():
        assert ours["estimates"][key]["mean"] == estimate["mean"], key  # the same numbers
    table = api.summary()
    assert set(table["estimator"]) == {"closed_form", "find_map"}
    assert set(table["parameter"]) >= {"intercept", "x"}
    assert api.agreement()["ok"].all() and api.ok


def test_names_that_look_like_flags_and_a_relabelled_result():
    """A column whose name starts with "-" is a name, not a flag; ``name`` relabels the result
    without changing a number (seeds come from the data's own name, as on the command line)."""
    df = _frame().rename(columns={"y": "-y"})
    plain = fit(df, "-y", estimators=["closed_form", "find_map"])
    named = fit(df, "-y", estimators=["closed_form", "find_map"], name="my <study>")
    assert plain.case_result.case == "data" and named.case_result.case == "my <study>"
    for key, estimate in plain.case_result.estimates.items():
        assert named.case_result.estimates[key].mean == estimate.mean, key
    assert "&lt;study&gt;" in named._repr_html_() and "<study>" not in named._repr_html_()
    with pytest.raises(InputError, match="--help"):
        fit(df, "--help")


def test_bad_input_is_one_line_naming_the_dataframe():
    with pytest.raises(InputError) as caught:
        fit(_frame(), target="nope")
    message = str(caught.value)
    assert "'nope'" in message and "the DataFrame" in message
    assert "nll-fit-" not in message and "\n" not in message
    with pytest.raises(InputError, match="--prior-scale"):
        fit(_frame(), target="y", prior_scale=-1.0)


def test_to_html_never_replaces_a_folder_it_did_not_write(tmp_path):
    result = fit(_frame(), "y", estimators=["closed_form"], name="small frame")
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "results.json").write_text("{}")  # a stray file of the user's
    with pytest.raises(InputError, match="nothing was changed"):
        result.to_html(mine)
    assert (mine / "results.json").read_text() == "{}"
    page = result.to_html(tmp_path / "report")
    assert "small frame" in page.read_text(encoding="utf-8")
    dataset = result.case_result.dataset
    assert dataset["source"] == "a pandas DataFrame"
    assert dataset["description"].startswith("User data from a pandas DataFrame: 40 rows")
