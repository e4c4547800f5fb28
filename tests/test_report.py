"""The report renderer (escaping, self-contained pages) and atomic output writing."""

import numpy as np
import pytest

from analyses.outputs import write_dir_atomically, write_file_atomically
from analyses.report import render_case, render_index
from analyses.results import AgreementRow, CaseResult, Estimate

EVIL = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def result():
    import arviz as az

    rng = np.random.default_rng(0)
    feats = [EVIL, "z"]
    idata = az.from_dict(
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
        coords={"feature": feats},
    )
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
            "var_names": ["intercept", "w", "sigma"],
        },
        ledger=[{"at": EVIL, "value": 1.0}],
        provenance={"seed": 0, "nested": {"k": EVIL}},
        dataset={"description": EVIL, "source": "file.csv"},
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
    assert "figure unavailable" not in html


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
