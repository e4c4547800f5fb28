"""The readability check of figures (``analyses.figure_check``): it finds what it should (a
legend outside the figure, 7 pt text, overlapping texts, a figure the page must shrink) and
nothing in a clean figure; and every figure function of the report draws readable figures on
realistic inputs of every family (built by hand or by the families' NumPy references: no PyMC,
no sampling)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from test_figures import PICTURES, _data, _fit, fit_picture_data

from nll_losses.analyses import figure_check, figures, landscape
from nll_losses.analyses.datasets import Dataset
from nll_losses.models.family import Param, ParamLayout


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _clean(layout="constrained"):
    fig, ax = plt.subplots(figsize=(6, 4.5), layout=layout)
    ax.plot([0, 1, 2], [1, 0, 1], label="a line")
    ax.set(xlabel="x", ylabel="y", title="a clean figure")
    ax.legend(loc="upper center")
    return fig, ax


def test_a_clean_figure_has_no_problems():
    fig, _ = _clean()
    assert figure_check.problems(fig) == []


def test_a_legend_outside_the_figure_is_found():
    fig, ax = _clean(layout=None)  # (constrained layout would shrink the axes to make room)
    assert figure_check.problems(fig) == []
    ax.get_legend().remove()
    ax.legend(bbox_to_anchor=(1.3, 1))  # no layout room: beyond the canvas's right edge
    found = figure_check.problems(fig)
    assert "a legend reaches outside the figure" in found
    assert "text 'a line' is outside the figure" in found


def test_small_text_is_found():
    fig, ax = _clean()
    ax.set_xlabel("x", fontsize=7)
    assert figure_check.problems(fig) == ["text 'x' is 7 pt (< 10 pt)"]


def test_overlapping_texts_are_found():
    fig, ax = _clean()
    ax.text(0.5, 0.5, "first words", transform=ax.transAxes)
    ax.text(0.52, 0.5, "second words", transform=ax.transAxes)
    assert figure_check.problems(fig) == ["texts 'first words' and 'second words' overlap"]


def test_rotated_labels_are_measured_as_drawn():
    """Tick labels at 45°: their bounding boxes overlap, the letters do not (no report); upright
    at the same places they do overlap (reported)."""
    fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
    names = [f"a long class name {k}" for k in range(5)]
    ax.bar(range(5), range(1, 6))
    ax.set_xticks(range(5), names, rotation=45, ha="right", rotation_mode="anchor")
    assert figure_check.problems(fig) == []
    ax.set_xticks(range(5), names, rotation=0, ha="center")
    assert any("overlap" in p for p in figure_check.problems(fig))


def test_a_figure_the_page_shrinks_is_found():
    """Wider than the page's column (12.5 in at 96 px an inch), its 10 pt text is shown at
    10 × 12.5 / 16 = 7.8 pt."""
    fig, _ = _clean()
    fig.set_size_inches(16, 4)
    assert figure_check.problems(fig) == [
        "the figure is 16 in wide: the page shrinks it to 78% (wider than 12.5 in), "
        "its 10 pt text to 7.81 pt"
    ]


def test_ticks_outside_the_view_are_not_counted():
    """matplotlib keeps ticks beyond the view limits (not drawn, stale positions): counting
    them reports texts outside the figure that are not there."""
    fig, ax = _clean()
    ax.set_xticks(np.arange(-50, 51, 0.5))  # ~200 ticks, all but five outside the view
    ax.set_xlim(0, 2)
    assert figure_check.problems(fig) == []


# --- every figure function, realistic inputs ---------------------------------------------

COUNTS = ("poisson", 2, ("flat", "gaussian"), "observed_vs_predicted")


def _poisson_data(k: int, n: int, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k))
    y = rng.poisson(np.exp(0.5 + X @ np.linspace(0.4, -0.3, k))).astype(float)
    return Dataset("t", X, y, tuple(f"x{j + 1}" for j in range(k)), "y")


@pytest.mark.parametrize("family_name,k,priors,kind", [*PICTURES, COUNTS])
def test_fit_pictures_are_readable(family_name, k, priors, kind):
    if family_name == "poisson":
        import test_figures

        data = _poisson_data(k, 120, seed=k)
        test_figures.REFERENCE.setdefault("poisson", "newton")
    else:
        data = _data(family_name, k, 120, seed=k)
    pic = fit_picture_data(family_name, data, priors, k)
    assert pic["kind"] == kind
    assert figure_check.problems(figures.fit_picture(pic)) == []


@pytest.mark.parametrize("family_name", ["normal", "bernoulli", "categorical"])
def test_loss_landscapes_are_readable(family_name):
    data = _data(family_name, 2, 100, seed=8)
    family, problems, estimates = _fit(family_name, data, ("flat", "gaussian"))
    land = landscape.landscape(family, problems, estimates, size=15)
    assert figure_check.problems(figures.loss_landscape(land)) == []


LONG = [
    f"{cls}:{feat}"
    for cls in ("versicolor", "virginica")
    for feat in ("sepal_length", "sepal_width", "petal_length", "petal_width")
]


def _prior_sweep(band_far: bool) -> dict:
    """iris's shape: intercepts, eight weights with long names and nine probabilities; find_MAP
    converges as τ grows while (separable data, ``band_far``) the posterior mean and sd run to
    thousands."""
    grid = [0.001, 0.01, 0.1, 1.0, 10.0, 100.0, 1000.0]
    t = np.log10(grid) + 3  # 0 … 6
    groups = {
        "intercepts": ["versicolor:intercept", "virginica:intercept"],
        "weights": LONG,
        "probabilities": [f"P({a} | x̄[{b}])" for a in ("se", "ve", "vi") for b in ("se", "ve")],
    }
    mean, sd, post_mean, post_sd = {}, {}, {}, {}
    for g, names in groups.items():
        for j, nm in enumerate(names):
            limit = (j - len(names) / 2) * (0.1 if g == "probabilities" else 10)
            path = limit * (1 - np.exp(-t))
            if g == "probabilities":
                path = 1 / (1 + np.exp(-path))
            mean[nm] = list(path)
            sd[nm] = list(0.1 + 0.0 * t)
            far = band_far and g != "probabilities"
            post_mean[nm] = list(path * (1 + (10 ** (t - 3) if far else 0)))
            post_sd[nm] = list(10 ** (t - 2.5) if far else 0.05 + 0.0 * t)
    n = len(grid)
    return {
        "symbol": "τ",
        "case_value": 1.0,
        "grid": grid,
        "groups": groups,
        "paths": {
            "find_MAP": {"mean": mean, "sd": {}},
            "newton": {"mean": mean, "sd": sd},
            "sklearn": {"mean": mean, "sd": {}},
            "nuts": {
                "mean": post_mean,
                "sd": post_sd,
                "method": ["nuts", "nuts", "nuts", "reweighted", "importance", "nuts", "nuts"][:n],
            },
        },
        "mle": None,
    }


@pytest.mark.parametrize("band_far", [False, True])
def test_prior_sweeps_are_readable(band_far):
    fig = figures.prior_sweep(_prior_sweep(band_far))
    assert figure_check.problems(fig) == []
    scales = [ax.get_yscale() for ax in fig.axes if ax.get_title()]
    # a band 1000 times the paths' range: the weights' and intercepts' panels turn symlog
    assert scales == (["symlog", "symlog", "linear"] if band_far else ["linear"] * 3)


@pytest.mark.parametrize("k", [11, 20, 21])
def test_prior_sweep_names_its_parameters_while_colours_tell_them_apart(k):
    """breast_cancer's and diabetes's 11 coefficients and the network's 20 weights are named
    beside their panel (two columns past 12); past tab20's 20 colours the title says the
    lines are unnamed."""
    names = [f"mean_fractal_dimension_{j}" for j in range(k)]
    grid = [0.01, 0.1, 1.0, 10.0, 100.0]
    mean = {nm: list(np.linspace(0, j / k, len(grid))) for j, nm in enumerate(names)}
    data = {
        "symbol": "τ",
        "case_value": 1.0,
        "grid": grid,
        "groups": {"coefficients": names},
        "paths": {"find_MAP": {"mean": mean, "sd": {}}},
        "mle": None,
    }
    fig = figures.prior_sweep(data)
    ax = fig.axes[0]
    legend = ax.get_legend()
    shown = [t.get_text() for t in legend.get_texts()] if legend else []
    assert shown == (names if k <= 20 else [])
    assert ("too many to name" in ax.get_title()) == (k > 20)
    assert figure_check.problems(fig) == []


def test_sample_size_sweep_is_readable():
    n = np.array([25, 50, 100, 200, 400, 800, 1600])
    truth = {"intercept": 0.3, "x1": 1.0, "x2": -0.7}
    rng = np.random.default_rng(0)
    paths = {}
    for label, has_sd in [
        ("MLE (find_MAP, flat)", False),
        ("MAP (find_MAP, gaussian)", False),
        ("Laplace sd at the MLE", True),
        ("posterior (gaussian)", True),
    ]:
        paths[label] = {
            "mean": {k: list(v + rng.normal(size=n.size) / np.sqrt(n)) for k, v in truth.items()},
            "sd": {k: list(1 / np.sqrt(n)) for k in truth} if has_sd else {},
        }
    data = {"grid": list(n), "names": list(truth), "truth": truth, "paths": paths}
    assert figure_check.problems(figures.sample_size_sweep(data)) == []


def _posterior(n_weights: int, seed: int = 0):
    """A posterior of an intercept and ``n_weights`` weights with long names (2 chains × 60
    draws), as a DataTree in NUTS's layout, and its layout."""
    import arviz as az

    feats = [f"{LONG[j % len(LONG)]}_{j}" for j in range(n_weights)]
    layout = ParamLayout(
        (Param("intercept", "intercept"), *(Param(f, "w", (("feature", f),)) for f in feats))
    )
    rng = np.random.default_rng(seed)
    scale = 10.0 ** rng.integers(-4, 3, n_weights)  # tick labels from 0.0001 to 400
    post = {
        "intercept": rng.normal(size=(2, 60)),
        "w": scale * rng.normal(size=(2, 60, n_weights)),
    }
    idata = az.from_dict({"posterior": post}, dims={"w": ["feature"]}, coords={"feature": feats})
    return idata, layout


@pytest.mark.parametrize("n_weights", [11])  # 12 panels: four columns, the tightest
def test_posterior_figures_are_readable(n_weights):
    idata, layout = _posterior(n_weights)
    refs = {"find_MAP": {layout.names[1]: 0.1}, "posterior mean": {layout.names[2]: 0.0}}
    for fig in (
        figures.posterior_densities(idata, layout, refs),
        figures.rank_plot(idata, layout),
        figures.pair_plot(idata, layout),
    ):
        assert figure_check.problems(fig) == []


def _with_ppc(y, rep, classes=None):
    from arviz_base import from_dict

    post = {"w": np.zeros((2, rep.shape[1]))}
    if classes is not None:
        post["p"] = np.zeros((2, rep.shape[1], len(classes)))
    return from_dict(
        {"posterior": post, "posterior_predictive": {"y": rep}, "observed_data": {"y": y}},
        dims={"y": ["obs"], "p": ["class"]},
        coords={"class": classes} if classes is not None else {},
    )


def test_posterior_predictive_checks_are_readable():
    rng = np.random.default_rng(1)
    n = 150
    continuous = _with_ppc(rng.normal(size=n), rng.normal(size=(2, 40, n)))
    p = rng.uniform(size=n)
    binary = _with_ppc(
        (rng.uniform(size=n) < p).astype(int), (rng.uniform(size=(2, 40, n)) < p).astype(int)
    )
    classes = ["setosa", "versicolor", "virginica", "a much longer class name"]
    categorical = _with_ppc(rng.integers(0, 4, n), rng.integers(0, 4, (2, 40, n)), classes)
    # 40 bins of values in the thousands: labels like "10000–10099"
    counts = _with_ppc(rng.integers(10_000, 14_000, n), rng.integers(10_000, 14_000, (2, 40, n)))
    for idata, kind in [
        (continuous, "density"),
        (binary, "calibration"),
        (categorical, "class_counts"),
        (counts, "class_counts"),
    ]:
        assert figure_check.problems(figures.ppc_plot(idata, kind)) == [], kind


def test_the_report_warns_of_a_figure_hard_to_read():
    """report.page_figure: each problem a page warning naming the figure, at most
    MAX_FIGURE_PROBLEMS and a count of the rest; the PNG at 144 dpi, shown 96 CSS px an inch."""
    import base64
    import io

    from PIL import Image

    from nll_losses.analyses import report

    def bad():
        fig, ax = _clean()
        ax.set_xlabel("x", fontsize=7)
        return fig

    warnings = []
    fig = report.page_figure("Bad", "", bad, warnings, " (flat)")
    assert warnings == ["figure 'Bad' (flat): text 'x' is 7 pt (< 10 pt)"]
    assert fig["width"] == 6 * 96
    with Image.open(io.BytesIO(base64.b64decode(fig["uri"].split(",", 1)[1]))) as img:
        assert img.width == 6 * 144

    def crowded():
        fig, ax = _clean()
        for k in range(8):
            ax.text(0.1, 0.5, f"words {k}", transform=ax.transAxes)
        return fig

    warnings = []
    report.page_figure("Crowded", "", crowded, warnings)
    n = 8 * 7 // 2  # every pair of the eight texts overlaps
    assert len(warnings) == report.MAX_FIGURE_PROBLEMS + 1
    assert (
        warnings[-1]
        == f"figure 'Crowded': and {n - report.MAX_FIGURE_PROBLEMS} more problems of its text"
    )


@pytest.mark.parametrize("panels", [("identity",), ("estimates",), ("identity", "estimates")])
def test_the_headline_picture_is_readable(panels):
    """The case page's first picture (analyses/headline_figure.py), with the longest reference
    names the families have and a ledger's long expressions as axis labels."""
    from nll_losses.analyses.headline_figure import headline

    rng = np.random.default_rng(1)
    x = rng.uniform(0.2, 2.0, 400)
    data = {
        "identity": {
            "x": x.tolist(),
            "y": (48 / (2 * 0.33) * x + 20.0).tolist(),
            "a": 48 / 0.66,
            "c": 20.0,
            "xlabel": "n/2·log(2πσ²) + n·MSE/(2σ²) (sklearn.metrics.mean_squared_error)",
            "ylabel": "−log p(y|θ) (Normal density)",
        },
        "estimates": [
            {"label": f"{prior}: LogisticRegression / MLPClassifier", "x": v, "y": v}
            for prior, v in (("flat prior", [1.0, -2.0, 30.0]), ("N(0, τ²) prior", [0.5, 1e-3]))
        ],
    }
    data = {k: (v if k in panels else None) for k, v in data.items()}
    assert figure_check.problems(headline(data)) == []


def test_the_headline_legend_covers_no_estimate():
    """softmax_synthetic's estimates (long reference names, points up to the top right):
    the legend of the right panel is where it covers none of them."""
    from nll_losses.analyses.headline_figure import headline

    flat = [-1.4, -1.2, -0.95, 0.0, 0.1, 0.4, 0.6, 0.85, 1.95, 2.6]
    gauss = [-1.6, -1.5, -0.9, -0.45, -0.2, 0.05, 0.15, 0.4, 0.6, 0.85, 1.7, 2.05]
    name = "our Newton, block Hessian (NumPy)"
    groups = [
        {"label": f"flat prior: {name}", "x": flat, "y": flat},
        {"label": f"N(0, τ²) prior: {name}", "x": gauss, "y": gauss},
    ]
    fig = headline({"identity": None, "estimates": groups})
    fig.draw_without_rendering()
    ax = fig.axes[0]
    box = ax.get_legend().get_window_extent()
    points = ax.transData.transform(np.c_[flat + gauss, flat + gauss])
    covered = [p for p in points if box.contains(*p)]
    assert not covered, covered
    assert figure_check.problems(fig) == []


@pytest.mark.parametrize(("c", "log"), [(0.0, True), (-20.0, False)])
def test_the_headline_identity_spanning_decades_is_drawn_on_log_axes(c, log):
    """A far parameter value's NLL (5e5 beside values near 10, as cancer_rates' ledger has)
    would bunch the other points at the origin: log axes, unless a value is not positive."""
    from nll_losses.analyses.headline_figure import headline

    x = np.array([10.0, 12.0, 15.0, 30.0, 5e5])
    data = {"identity": {"x": x, "y": x + c, "a": 1.0, "c": c, "xlabel": "loss", "ylabel": "NLL"}}
    fig = headline(data)
    (ax,) = fig.axes
    assert (ax.get_xscale(), ax.get_yscale()) == (("log", "log") if log else ("linear", "linear"))
    assert figure_check.problems(fig) == []
