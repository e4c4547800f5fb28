"""The report renderer (escaping, self-contained pages) and atomic output writing."""

import numpy as np
import pytest
from handmade import EVIL, LAYOUT, fake_idata

from nll_losses.analyses import headline
from nll_losses.analyses.outputs import write_dir_atomically, write_file_atomically
from nll_losses.analyses.report import render_case, render_index
from nll_losses.analyses.results import AgreementRow, CaseResult, Estimate


@pytest.fixture(scope="module")
def idata():
    return fake_idata()


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
    assert html.count('<tr class="bad">') == 1 and html.count('<tr class="ok">') == 1
    assert html.count('<details class="pair bad" open>') == 1  # the failing pair, open
    assert html.count('<details class="pair ok">') == 1
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

    from nll_losses.analyses import figures

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

    from nll_losses.analyses import figures

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
                "n_pairs_ok": 1,
                "n_pairs": 2,
                "n_ok": 1,
                "n_rows": 2,
                "n_warnings": 0,
                "description": EVIL,
                "thumbnail": None,
            }
        ]
    )
    assert EVIL not in html and 'href="x/index.html"' in html


def _row(left, right, parameter, diff, tol, tier="optimiser", note="", kind="agree"):
    return AgreementRow(
        left, right, parameter, 1.0, 1.0 + diff, diff, tol, tier, diff <= tol, kind, None, note
    )


# Rows as the pipeline emits them: two pairs with one note (means, then sds), a failing pair,
# loss-ledger rows interleaved over two points, and a failed estimate's single "(all)" row.
PAIR_ROWS = [
    _row("nuts_g", "importance_g", "a", 0.1, 1.0, "monte carlo", "vs importance sampling"),
    _row("nuts_g", "importance_g", "b", 0.2, 1.0, "monte carlo", "vs importance sampling"),
    _row("nuts_g", "importance_g", "a", 0.3, 1.0, "monte carlo", "vs importance sampling"),
    _row("nuts_g", "importance_g", "b", 0.4, 1.0, "monte carlo", "vs importance sampling"),
    _row("find_map_g", "newton_g", "a", 1e-9, 1e-6),
    _row("find_map_g", "newton_g", "b", 3e-6, 1e-6),  # outside: the pair fails
    _row("pmf", "logits", "loss at p1", 1e-14, 1e-12, "arithmetic", "loss ledger"),
    _row("pmf", "log_loss", "loss at p1", 2e-14, 1e-12, "arithmetic", "loss ledger"),
    _row("pmf", "logits", "loss at p2", 5e-13, 1e-12, "arithmetic", "loss ledger"),
    _row("pmf", "log_loss", "loss at p2", 0.0, 1e-12, "arithmetic", "loss ledger"),
    AgreementRow(
        "laplace_g", "newton_g", "(all)", *[float("nan")] * 4, "optimiser", False, note="failed"
    ),
]


@pytest.mark.parametrize("as_json", [False, True], ids=["rows", "results.json"])
def test_agreement_pairs(as_json):
    """One line per declared pair, failing pairs first (declared order otherwise), the same
    from AgreementRow values and from results.json dicts (NaN written as null)."""
    import json

    from nll_losses.analyses.report import agreement_pairs

    rows = PAIR_ROWS
    if as_json:
        rows = json.loads(json.dumps([r.to_json() for r in rows], allow_nan=False))
    pairs = agreement_pairs(rows)
    summary = [(p["left"], p["right"], len(p["rows"]), p["n_ok"], p["ok"]) for p in pairs]
    assert summary == [
        ("find_map_g", "newton_g", 2, 1, False),
        ("laplace_g", "newton_g", 1, 0, False),
        ("nuts_g", "importance_g", 2, 2, True),
        ("nuts_g", "importance_g", 2, 2, True),
        ("pmf", "logits", 2, 2, True),
        ("pmf", "log_loss", 2, 2, True),
    ]
    assert pairs[0]["worst"] == pytest.approx(3.0) and pairs[0]["worst_parameter"] == "b"
    assert pairs[1]["worst"] is None  # a failed estimate: no finite ratio
    assert [p["worst"] for p in pairs[2:4]] == [pytest.approx(0.2), pytest.approx(0.4)]
    assert pairs[4]["worst"] == pytest.approx(0.5) and pairs[4]["tier"] == "arithmetic"


def test_case_page_summary_first(result):
    """The page leads with the family's claim as its title and the count of claims that hold;
    the agreement summary precedes the model text, which is collapsed with the other long
    sections; failing pairs are listed first and open, passing ones closed."""
    import re
    from dataclasses import replace

    html = render_case(replace(result, agreement=PAIR_ROWS, idata=None), {})
    details = re.findall(r'<details class="pair (ok|bad)"( open)?>', html)
    assert details == [("bad", " open")] * 2 + [("ok", "")] * 4
    title = headline.title(result)
    assert html.index(f'<h1 class="claim">{title}</h1>') < html.index("4 of 6 claims hold")
    assert "(9 of 11 rows within their tolerance" in html
    order = [html.index(f'id="{i}"') for i in ("agreement", "model", "estimates", "ledger")]
    assert order == sorted(order) and html.index("Warnings") < order[0]
    for section in ("model", "estimates", "ledger", "provenance"):  # collapsed
        assert f'<details class="section" id="{section}">' in html
    assert html.count('<tr class="bad">') == 2  # the failing rows inside the open pairs


def _picture():
    x = np.linspace(0.0, 1.0, 20)
    return {
        "kind": "curve",
        "X": x[:, None],
        "y": 2 * x,
        "features": [EVIL],
        "grid": [x],
        "curves": {"find_MAP (flat)": 2 * x},
        "ylabel": "y",
        "title": f"fit of {EVIL}",
        "caption": EVIL,
    }


def test_placeholder_sections(result, monkeypatch):
    """Landscape, sweeps and the verified translation render when present; a figure function
    that is missing or broken gives a visible "figure unavailable" and a warning."""
    from dataclasses import replace

    import matplotlib.pyplot as plt

    from nll_losses.analyses import figures

    translation = [
        {
            "library": "scikit-learn",
            "call": f"Ridge(alpha={EVIL})",
            "parameter": "alpha",
            "formula": "σ²/τ²",
            "value": 0.25,
            "objective": "ridge",
            "verified_by": "Ridge.fit",
            "compare": "coef_ vs find_MAP",
            "max_abs_diff": 1e-9,
            "tolerance": 1e-6,
            "tier": "optimiser",
            "ok": ok,
            "reason": "" if ok is not None else "needs σ",
        }
        for ok in (True, False, None)
    ]
    res = replace(
        result,
        idata=None,
        picture=None,
        landscape={"title": "Loss landscape", "caption": "slice"},
        sweeps={
            "prior_strength": {"title": "Prior sweep", "caption": "τ"},
            "sample_size": {"title": "Sample-size sweep", "caption": "n"},
        },
        translation=translation,
    )
    for name in ("loss_landscape", "prior_sweep", "sample_size_sweep"):
        monkeypatch.delattr(figures, name, raising=False)
    html = render_case(res, {})
    assert html.count("figure unavailable") == 3 and html.count("AttributeError") >= 3
    assert "Hyperparameter translation" in html and EVIL not in html
    table = html[html.index('id="translation"') : html.index('id="model"')]
    assert [table.count(f'class="okc">{m}</span>') for m in "✓✗—"] == [1, 1, 1]
    assert "needs σ" in table and "Ridge.fit; coef_ vs find_MAP" in table

    def draw(data):
        fig, ax = plt.subplots(figsize=(2, 2))
        ax.set_title(data["title"])
        return fig

    for name in ("loss_landscape", "prior_sweep", "sample_size_sweep"):
        monkeypatch.setattr(figures, name, draw, raising=False)
    html = render_case(res, {})
    assert "figure unavailable" not in html
    assert html.count('src="data:image/png;base64,') == 3
    assert html.count('width="192" src="data:') == 3  # 2 in at 96 CSS px an inch
    ids = [html.index(f'id="{i}"') for i in ("agreement", "landscape", "sweep-prior_strength")]
    assert ids == sorted(ids) and ids[-1] < html.index('id="sweep-sample_size"')
    assert html.index('id="sweep-sample_size"') < html.index('id="translation"')


def test_write_case_thumbnail_and_index(result, tmp_path):
    """write_case writes a 240 px thumbnail of the fit picture; the index embeds it (no file
    reference), escapes the case name and counts pairs and rows from results.json."""
    import base64
    import io
    import re
    from dataclasses import replace

    from PIL import Image

    from nll_losses.analyses.app import _write_index
    from nll_losses.analyses.pipeline import write_case

    name = "<b>x</b>"
    with_pic = replace(result, case=name, idata=None, picture=_picture(), agreement=PAIR_ROWS)
    write_case(with_pic, tmp_path / "one")
    write_case(replace(result, idata=None, picture=None, case="plain"), tmp_path / "two")
    with Image.open(tmp_path / "one" / "thumbnail.png") as img:
        assert img.width == 240
    assert not (tmp_path / "two" / "thumbnail.png").exists()  # no figure on that page
    _write_index(tmp_path)
    html = (tmp_path / "index.html").read_text()
    assert name not in html and "&lt;b&gt;x&lt;/b&gt;" in html
    thumbs = re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)
    assert len(thumbs) == 1
    assert base64.b64decode(thumbs[0]) == (tmp_path / "one" / "thumbnail.png").read_bytes()
    Image.open(io.BytesIO(base64.b64decode(thumbs[0]))).verify()
    assert ">4 / 6</td>" in html and ">9 / 11</td>" in html  # pairs, rows of case one
    assert ">1 / 2</td>" in html  # case two: the fixture's rows, one failing
    assert 'href="one/index.html"' in html and "thumbnail.png" not in html


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


def test_thinned_predictive_rows_are_said_on_the_page(result):
    """n_obs larger than the rows of the saved predictive draws: the check's caption says how
    many of how many rows it shows; with every row kept, no such sentence."""
    from dataclasses import replace

    from nll_losses.analyses import thinning

    rows = thinning.rows(5000, seed=3, limit=20)
    assert len(set(rows)) == 20 and np.all(np.diff(rows) > 0) and rows.max() < 5000
    assert np.array_equal(rows, thinning.rows(5000, seed=3, limit=20))  # seeded
    big = replace(result, n_obs=5000)
    assert "20 of the 5,000 rows (a seeded random subset)" in render_case(big, {})
    assert "seeded random subset" not in render_case(result, {})


TOO_LONG = "a title far too long to fit on a figure two inches wide"


def _landscape_titled(title: str):
    """A stand-in for figures.loss_landscape: a two-inch figure titled ``title``."""

    def draw(data):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(2, 2), layout="constrained")
        ax.set_title(title)
        return fig

    return draw


def test_a_hard_to_read_figure_is_a_page_warning(result, monkeypatch):
    """What analyses/figure_check.py finds in a figure as drawn (here a title running off the
    canvas) is a warning under "Figures" on the page, naming the figure; the figure is still
    shown.  The cold-start test reads that heading on the real pages."""
    from dataclasses import replace

    from nll_losses.analyses import figures

    res = replace(result, idata=None, picture=None, landscape={"title": "Loss landscape"})
    monkeypatch.setattr(figures, "loss_landscape", _landscape_titled(TOO_LONG))
    html = render_case(res, {})
    assert "<h3>Figures</h3>" in html and "figure &#39;Loss landscape&#39;: text" in html
    assert "figure unavailable" not in html
    monkeypatch.setattr(figures, "loss_landscape", _landscape_titled("short"))
    assert "<h3>Figures</h3>" not in render_case(res, {})


def test_a_figure_warning_is_in_results_json_and_the_index_count(result, tmp_path, monkeypatch):
    """The page's own warnings (found drawing it) are in results.json with the case's, so the
    index counts them; a page drawn again lists each once, and a drawing that finds none
    leaves none from the one before."""
    import json
    from dataclasses import replace

    from nll_losses.analyses import app, figures
    from nll_losses.analyses.pipeline import write_case

    monkeypatch.setattr(figures, "loss_landscape", _landscape_titled(TOO_LONG))
    res = replace(result, idata=None, picture=None, landscape={"title": "Loss landscape"})
    own = list(res.warnings)
    write_case(res, tmp_path / "case")
    written = json.loads((tmp_path / "case" / "results.json").read_text())["warnings"]
    figure = [w for w in written if w.startswith("figure 'Loss landscape': text")]
    assert figure and written == own + figure and res.warnings == own
    app._write_index(tmp_path)
    index = (tmp_path / "index.html").read_text()
    assert f'<td class="n">{len(written)}</td></tr>' in index
    again = render_case(res, {})  # Result.to_html draws the page again
    assert again.count("figure &#39;Loss landscape&#39;: text") == len(figure)
    assert "(×2)" not in again
    monkeypatch.setattr(figures, "loss_landscape", _landscape_titled("short"))
    write_case(res, tmp_path / "case")
    assert json.loads((tmp_path / "case" / "results.json").read_text())["warnings"] == own
