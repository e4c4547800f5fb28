"""The report renderer (escaping, self-contained pages) and atomic output writing."""

import numpy as np
import pytest

from analyses.outputs import write_dir_atomically, write_file_atomically
from analyses.report import render_case, render_index
from analyses.results import AgreementRow, CaseResult, Estimate
from models.family import Param, ParamLayout

EVIL = "<script>alert(1)</script>"
FEATS = [EVIL, "z"]
# Test data: a layout written out by hand (intercept, one weight per feature, sigma).
LAYOUT = ParamLayout(
    (
        Param("intercept", "intercept"),
        *(Param(f, "w", (("feature", f),)) for f in FEATS),
        Param("sigma", "sigma", group="sigma"),
    )
)


@pytest.fixture(scope="module")
def idata():
    import arviz as az

    rng = np.random.default_rng(0)
    return az.from_dict(
        {
            "posterior": {
                "intercept": rng.normal(size=(2, 50)),
                "w": rng.normal(size=(2, 50, 2)),
                "sigma": np.abs(rng.normal(size=(2, 50))) + 0.1,
            },
            "posterior_predictive": {"y": rng.normal(size=(2, 50, 20))},
            "observed_data": {"y": rng.normal(size=20)},
        },
        dims={"w": ["feature"], "y": ["obs"]},
        coords={"feature": FEATS},
    )


@pytest.fixture(scope="module")
def result(idata):
    est = Estimate(
        "closed_form", "flat", mean={"intercept": 0.1, EVIL: 0.2, "z": 0.3, "sigma": 1.0}
    )
    rows = [
        AgreementRow(
            "find_map_flat", "closed_form_flat", EVIL, 0.2, 0.2, 0.0, 1e-6, "optimiser", True
        ),
        AgreementRow(
            "nuts_flat", "exact_posterior_flat", "z", 0.3, 0.5, 0.2, 0.01, "monte carlo", False
        ),
    ]
    return CaseResult(
        case="a & b",
        family="normal",
        target="y<t>",
        n_obs=20,
        parameters=["intercept", EVIL, "z", "sigma"],
        estimates={"closed_form_flat": est},
        agreement=rows,
        warnings=[f"warning about {EVIL}"],
        model={
            "likelihood": "y ~ Normal",
            "priors": ["w ~ Flat()"],
            "loss": "MSE",
            "penalty": "none",
            "translation": [{"prior": "flat", "penalty": "none"}],
        },
        ledger=[{"at": EVIL, "value": 1.0}],
        provenance={"seed": 0, "nested": {"k": EVIL}},
        dataset={"description": EVIL, "source": "file.csv"},
        layout=LAYOUT,
        idata={"flat": idata},
    )


def test_escaped_and_self_contained(result):
    html = render_case(result, {"flat": {"closed form": result.estimates["closed_form_flat"].mean}})
    assert EVIL not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "a &amp; b" in html
    assert "data:image/png;base64," in html
    for bad in ('src="http', "src='http", 'href="http', "<link", "<script"):
        assert bad not in html
    assert html.count('class="bad"') == 1 and html.count('class="ok"') == 1
    assert "figure unavailable" not in html and "summary (flat) unavailable" not in html
    assert html.count('src="data:image/png;base64,') == 4  # every figure embedded
    assert 'class="dataframe summary"' in html  # the ArviZ summary of the layout's variables


def test_report_without_posterior(result):
    from dataclasses import replace

    html = render_case(replace(result, idata=None, layout=None), {})
    assert "NUTS was not run" in html and EVIL not in html


def test_figures_follow_the_layout(idata):
    """Each reference value is drawn on its own parameter's panel (found through the layout,
    whatever variable and coordinate hold it); names outside the layout are skipped."""
    import matplotlib.pyplot as plt

    from analyses import figures

    refs = {"ref": {EVIL: 0.123, "z": -0.456, "sigma": 0.789, "not a parameter": 9.0}}
    fig = figures.posterior_densities(idata, LAYOUT, refs)
    try:
        lines = {}  # x position of each vertical reference line -> axes drawing it
        for ax in fig.axes:
            for line in ax.get_lines():
                x = np.unique(np.asarray(line.get_xdata(), dtype=float))
                if x.size == 1:
                    lines.setdefault(float(x[0]), []).append(ax)
        for value in (0.123, -0.456, 0.789):
            assert len(lines.get(value, [])) == 1, (value, lines)
        assert len({id(lines[v][0]) for v in (0.123, -0.456, 0.789)}) == 3
        assert 9.0 not in lines
    finally:
        plt.close(fig)
    plt.close(figures.rank_plot(idata, LAYOUT))


def test_pair_plot_any_feature_name(idata):
    """Feature names come from CSV headers: any text (here with '/' and '<') must plot."""
    import matplotlib.pyplot as plt

    from analyses import figures

    fig = figures.pair_plot(idata, LAYOUT)
    try:
        assert len(fig.axes) >= 4
    finally:
        plt.close(fig)


def test_index_escapes():
    html = render_index(
        [
            {
                "name": EVIL,
                "href": "x/index.html",
                "family": "normal",
                "n_obs": 3,
                "n_ok": 1,
                "n_rows": 2,
                "n_warnings": 0,
                "description": EVIL,
            }
        ]
    )
    assert EVIL not in html and 'href="x/index.html"' in html


def test_atomic_dir_replace_and_failure(tmp_path):
    out = tmp_path / "case"
    write_dir_atomically(out, {"a.txt": "one", "sub/b.bin": b"\x00\x01"})
    assert (out / "a.txt").read_text() == "one" and (out / "sub/b.bin").read_bytes() == b"\0\1"
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}

    def boom(path):
        path.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_dir_atomically(out, {"a.txt": "two", "c.zarr": boom})
    assert {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["case"]  # no temporary folders left
    write_dir_atomically(out, {"a.txt": "three"})
    assert (out / "a.txt").read_text() == "three" and not (out / "sub").exists()


def test_atomic_file(tmp_path):
    f = tmp_path / "index.html"
    write_file_atomically(f, "x")
    write_file_atomically(f, "y")
    assert f.read_text() == "y" and [p.name for p in tmp_path.iterdir()] == ["index.html"]
