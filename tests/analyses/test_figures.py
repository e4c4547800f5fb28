"""The fit picture and the loss landscape (``analyses.pictures`` and ``analyses.landscape`` data,
``analyses.figures`` drawings), on small simulated problems fitted by the families' NumPy
references (no PyMC, no NUTS): the references' answers stand in for find_MAP's, and a fake
posterior (draws around them, replicated data simulated from the draws) for NUTS's."""

import matplotlib.figure
import numpy as np
import pytest
import xarray as xr

from nll_losses.analyses import figures, landscape, picture_inputs, pictures
from nll_losses.analyses.datasets import Dataset
from nll_losses.analyses.problems import make_problem
from nll_losses.analyses.results import Estimate
from nll_losses.models import get_family
from nll_losses.models.families.categorical.spec import CategoricalOptions, class_info
from nll_losses.models.family import Settings

# The landscape's grid in the tests: odd, so the centre (the MLE) is a grid point; small,
# because scikit-learn's log_loss costs milliseconds a call.
GRID = 15
# NLL and a·loss + c are sums of n terms of size ~|NLL|/n computed along two routes (the
# density vs scikit-learn): they agree to a few ulps of the total, far below this.
AFFINE_RTOL = 1e-11


def _data(family: str, k: int, n: int, seed: int, classes: int = 3) -> Dataset:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k))
    names = tuple(f"x{j + 1}" for j in range(k))
    if family == "normal":
        y = 1.0 + X @ np.linspace(1.0, -0.5, k) + 0.5 * rng.normal(size=n)
        return Dataset("t", X, y, names, "y")
    if family == "bernoulli":
        p = 1 / (1 + np.exp(-(0.3 + X @ np.linspace(1.0, -0.7, k))))
        y = (rng.uniform(size=n) < p).astype(float)
        return Dataset("t", X, y, names, "y", target_info={"positive (y = 1)": "1"})
    B = rng.normal(scale=0.8, size=(k + 1, classes))
    Z = np.column_stack([np.ones(n), X]) @ B
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = np.array([rng.choice(classes, p=p) for p in P], dtype=float)
    labels = [f"c{j}" for j in range(classes)]
    return Dataset("t", X, y, names, "y", target_info=class_info(labels, y, labels[0]))


REFERENCE = {"normal": "closed_form", "bernoulli": "newton", "categorical": "newton"}


def _fit(family_name, data, priors, settings=None):
    """(family, problems, estimates): the family's NumPy reference, filed as find_map."""
    family = get_family(family_name)
    settings = settings or Settings()
    problems = {p: make_problem(family, data, settings, p) for p in priors}
    estimates = {}
    for prior, problem in problems.items():
        method = REFERENCE[family_name] if data.X.shape[1] else "closed_form"
        out = family.references()[method].fit(problem, {})
        estimates[f"find_map_{prior}"] = Estimate("find_map", prior, dict(out["mean"]))
        estimates[f"{method}_{prior}"] = Estimate(method, prior, dict(out["mean"]))
    return family, problems, estimates


def _fake_posterior(family, problem, centre: dict, seed: int, chains=2, draws=40):
    """A DataTree shaped like NUTS's: draws of the layout's variables around ``centre`` and
    replicated data simulated from each draw (noise sd 0.5 for a continuous outcome)."""
    rng = np.random.default_rng(seed)
    values: dict[str, dict] = {}
    for p in problem.layout.params:
        if p.name in centre:
            values.setdefault(p.var, {})[p.sel] = centre[p.name]
    data_vars, coords = {}, {}
    for var, cells in values.items():
        dims = [d for d, _ in next(iter(cells))]
        for j, d in enumerate(dims):
            coords[d] = list(dict.fromkeys(sel[j][1] for sel in cells))
        shape = [len(coords[d]) for d in dims]
        arr = np.zeros((chains, draws, *shape))
        for sel, v in cells.items():
            idx = tuple(coords[d].index(c) for d, c in sel)
            arr[(slice(None), slice(None), *idx)] = v + 0.05 * rng.normal(size=(chains, draws))
        data_vars[var] = (("chain", "draw", *dims), arr)
    post = xr.Dataset(data_vars, coords=coords | {"chain": range(chains), "draw": range(draws)})
    names = [p.name for p in problem.layout.params if p.name in centre]
    X = np.asarray(problem.X, float)
    reps = []
    for c in range(chains):
        for d in range(draws):
            ds = post.isel(chain=c, draw=d)
            params = {
                p.name: float(ds[p.var].sel(dict(p.sel)) if p.sel else ds[p.var])
                for p in problem.layout.params
                if p.name in names
            }
            mu = family.predict(problem, params, X)
            if not family.observation.probability:
                reps.append(mu + 0.5 * rng.normal(size=mu.shape))
            elif mu.ndim == 1:  # P(y = 1 | x)
                reps.append((rng.uniform(size=mu.shape) < mu).astype(float))
            else:
                reps.append((rng.uniform(size=(len(mu), 1)) > mu.cumsum(axis=1)).sum(axis=1))
    rep = np.asarray(reps, dtype=float).reshape(chains, draws, -1)
    ppc = xr.Dataset(
        {"y": (("chain", "draw", "obs"), rep)},
        coords={"chain": range(chains), "draw": range(draws)},
    )
    return xr.DataTree.from_dict({"posterior": post, "posterior_predictive": ppc})


PICTURES = [
    # (family, number of features, priors, expected kind)
    ("normal", 1, ("flat", "gaussian"), "curve"),
    ("normal", 3, ("flat", "gaussian"), "observed_vs_predicted"),
    ("bernoulli", 1, ("flat", "gaussian"), "curve"),
    ("bernoulli", 2, ("flat", "gaussian", "jeffreys"), "surface"),
    ("bernoulli", 4, ("flat", "gaussian"), "calibration"),
    ("categorical", 1, ("flat", "gaussian"), "class_curves"),
    ("categorical", 2, ("flat", "gaussian"), "regions"),
    ("categorical", 4, ("flat", "gaussian"), "class_calibration"),
    ("categorical", 0, ("flat", "dirichlet"), "frequencies"),
]


def fit_picture_data(family_name, data, priors, k):
    """The fit picture's data for ``data`` fitted under ``priors`` (find_MAP and the family's
    references) with a fake posterior about the first prior's mode."""
    family, problems, estimates = _fit(family_name, data, priors)
    first = priors[0]
    idata = _fake_posterior(family, problems[first], estimates[f"find_map_{first}"].mean, k)
    return pictures.picture(family, problems, estimates, {first: idata})


@pytest.mark.parametrize("family_name,k,priors,kind", PICTURES)
def test_fit_picture_every_kind(family_name, k, priors, kind):
    """Each kind of picture has a curve per fit (every prior's mode, the posterior mean), says
    what it draws, and draws as a matplotlib figure."""
    pic = fit_picture_data(family_name, _data(family_name, k, 120, seed=k), priors, k)
    assert pic["kind"] == kind
    first = priors[0]
    modes = {picture_inputs.mode_label(p) for p in priors}
    if kind == "observed_vs_predicted":  # the posterior: predictive intervals at its mean
        assert set(pic["curves"]) == modes and f"({first} prior, NUTS)" in pic["interval"]["label"]
    else:
        assert set(pic["curves"]) == modes | {f"posterior mean ({first} prior, NUTS)"}
    assert "MLE (find_MAP, flat prior)" in pic["caption"]
    fig = figures.fit_picture(pic)
    assert isinstance(fig, matplotlib.figure.Figure) and fig.axes
    figures.figure_to_data_uri(fig)  # renders (and closes)


def test_predictive_band_contains_the_mean_band():
    """One feature, continuous: the 89% band of a new y contains the 89% band of E[y | x],
    and about 89% of the data fall inside the predictive band (noise sd 0.5, 120 rows)."""
    data = _data("normal", 1, 120, seed=3)
    family, problems, estimates = _fit("normal", data, ("flat", "gaussian"))
    idata = _fake_posterior(family, problems["flat"], estimates["find_map_flat"].mean, 3)
    pic = pictures.picture(family, problems, estimates, {"flat": idata})
    band, pred = pic["band"], pic["predictive"]
    assert np.all(pred["lo"] <= band["lo"]) and np.all(pred["hi"] >= band["hi"])
    inside = np.mean(
        (data.y >= np.interp(data.X[:, 0], pic["grid"][0], pred["lo"]))
        & (data.y <= np.interp(data.X[:, 0], pic["grid"][0], pred["hi"]))
    )
    # binomial sd of a coverage over 120 rows is 0.03: 0.15 is five of them
    assert abs(inside - pictures.INTERVAL) < 0.15


def test_calibration_bins_count_every_row():
    """Binary, many features: per fit the bins hold every row once, each observed frequency
    is the mean of y in its bin and lies inside its interval's bounds' range [0, 1]."""
    data = _data("bernoulli", 4, 200, seed=4)
    family, problems, estimates = _fit("bernoulli", data, ("flat", "gaussian"))
    pic = pictures.picture(family, problems, estimates, {})
    for label, p in pic["curves"].items():
        b = pic["bins"][label]
        assert b["count"].sum() == len(data.y)
        idx = np.clip(np.digitize(p, b["edges"][1:-1]), 0, pictures.N_BINS - 1)
        freq = [data.y[idx == j].mean() for j in np.unique(idx)]
        # the same mean of 0/1 values over the same rows, summed in another order: ≤ 1 ulp
        np.testing.assert_allclose(b["observed"], freq, rtol=0, atol=1e-15)
        assert np.all((b["lo"] <= b["observed"]) & (b["observed"] <= b["hi"]))


def test_class_calibration_expected_counts_at_the_mle():
    """Categorical, many features: at the MLE (with intercepts) the expected class counts
    Σᵢ pₖ(xᵢ) equal the observed ones: the intercepts' score equations."""
    data = _data("categorical", 4, 150, seed=5)
    family, problems, estimates = _fit("categorical", data, ("flat", "gaussian"))
    pic = pictures.picture(family, problems, estimates, {})
    expected = pic["expected"]["MLE (find_MAP, flat prior)"]
    # Newton stops at a gradient of ~1e-10 relative: counts agree far inside 1e-6
    for cls, count in pic["counts"].items():
        assert expected[cls] == pytest.approx(count, abs=1e-6)
    assert set(pic["bins"]) == set(pic["classes"])


def test_frequencies_mle_is_the_observed_frequency():
    data = _data("categorical", 0, 60, seed=6, classes=4)
    family, problems, estimates = _fit("categorical", data, ("flat", "dirichlet"))
    pic = pictures.picture(family, problems, estimates, {})
    # the closed-form MLE is the frequency c/n; find_MAP's optimiser tier is ~1e-6 sd, far below
    np.testing.assert_allclose(
        pic["curves"]["MLE (find_MAP, flat prior)"], pic["observed"], rtol=0, atol=1e-9
    )
    assert pic["counts"].sum() == 60


LANDSCAPES = [
    # (family, priors, expected weight name, expected intercept name)
    ("normal", ("flat", "gaussian"), "x1", "intercept"),
    ("bernoulli", ("flat", "gaussian"), "x1", "intercept"),
    ("categorical", ("flat", "gaussian"), "c1:x1", "c1:intercept"),
]


@pytest.mark.parametrize("family_name,priors,w_name,b_name", LANDSCAPES)
def test_landscape_affine_and_minimum_at_the_mle(family_name, priors, w_name, b_name):
    """NLL = a·loss + c over the whole grid, with a and c as stated; both grids' minimum is the
    MLE (the grid is centred on it); every prior's mode is marked."""
    data = _data(family_name, 2, 100, seed=8)
    family, problems, estimates = _fit(family_name, data, priors)
    land = landscape.landscape(family, problems, estimates, size=GRID)
    assert (land["w_name"], land["b_name"]) == (w_name, b_name)
    nll, loss = land["nll"], land["loss"]
    gap = np.max(np.abs(nll - (land["a"] * loss + land["c"])))
    assert gap == land["max_deviation"] <= AFFINE_RTOL * np.max(np.abs(nll))
    if family_name != "normal":
        assert land["a"] == len(data.y) and land["c"] == 0
    mle = estimates["find_map_flat"].mean
    cell = (land["slope"][1] - land["slope"][0], land["offset"][1] - land["offset"][0])
    for key in ("nll", "loss"):
        w, b = land["minimum"][key]
        assert abs(w - mle[w_name]) <= cell[0] and abs(b - mle[b_name]) <= cell[1]
    labels = " ".join(p["label"] for p in land["points"])
    assert "MLE (find_MAP)" in labels and "MAP (find_MAP)" in labels
    assert f"max |NLL − (a·{land['loss_name']} + c)| over the grid" in land["caption"]
    fig = figures.loss_landscape(land)
    assert isinstance(fig, matplotlib.figure.Figure)
    figures.figure_to_data_uri(fig)


def test_landscape_marks_a_differently_parametrised_prior():
    """Softmax: the Gaussian prior has a weight vector for every class, the flat slice has
    contrasts against the baseline; the MAP is marked at its contrast W_c − W_base."""
    data = _data("categorical", 2, 100, seed=9)
    family, problems, estimates = _fit("categorical", data, ("flat", "gaussian"))
    land = landscape.landscape(family, problems, estimates, size=GRID)
    m = estimates["find_map_gaussian"].mean
    want = (m["c1:x1"] - m["c0:x1"], m["c1:intercept"])
    got = [
        (p["slope"], p["offset"])
        for p in land["points"]
        if "MAP (find_MAP)" in p["label"] and p["label"].endswith("gaussian prior")
    ]
    assert len(got) == 1
    # the reparametrisation is a linear least-squares solve: exact to rounding
    np.testing.assert_allclose(got[0], want, rtol=1e-8, atol=1e-10)


def test_landscape_centred_at_the_map_without_an_mle():
    """Separated classes: no MLE, so the slice goes through the Gaussian-prior MAP and the
    caption says so."""
    data = _data("bernoulli", 1, 40, seed=10)
    y = (data.X[:, 0] > 0).astype(float)
    data = Dataset("t", data.X, y, data.feature_names, "y", target_info=data.target_info)
    family, problems, estimates = _fit("bernoulli", data, ("gaussian",))
    estimates["find_map_flat"] = Estimate(
        "find_map", "flat", status="unavailable", reason="x1 separates the classes"
    )
    land = landscape.landscape(family, problems, estimates, size=GRID)
    assert land["centre"]["prior"] == "gaussian"
    assert "The MLE does not exist (x1 separates the classes)" in land["caption"]


def test_no_landscape_without_a_weight_intercept_pair():
    """Intercept only, and a relu network (kinks): no landscape."""
    data = _data("categorical", 0, 40, seed=11)
    assert landscape.landscape(*_fit("categorical", data, ("flat",))) is None
    data = _data("categorical", 2, 40, seed=12)
    family = get_family("categorical")
    settings = Settings(options=CategoricalOptions(hidden=2))
    problem = make_problem(family, data, settings, "gaussian")
    rng = np.random.default_rng(0)
    mean = {nm: float(rng.normal()) for nm in problem.layout.names}
    estimates = {"find_map_gaussian": Estimate("find_map", "gaussian", mean)}
    assert landscape.landscape(family, {"gaussian": problem}, estimates) is None


def test_posterior_panels_beyond_arviz_limit_show_the_first_40():
    """arviz_plots refuses more than 40 subplots: with 45 parameters the density and rank
    plots show the first 40, titled by parameter name (a "/" in a name included), say so,
    and the reference lines land on their own parameter's panel."""
    import arviz as az

    from nll_losses.models.family import Param, ParamLayout

    feats = [f"x/{j}" for j in range(44)]
    layout = ParamLayout(
        (Param("intercept", "intercept"), *(Param(f, "w", (("feature", f),)) for f in feats))
    )
    rng = np.random.default_rng(0)
    idata = az.from_dict(
        {"posterior": {"intercept": rng.normal(size=(2, 30)), "w": rng.normal(size=(2, 30, 44))}},
        dims={"w": ["feature"]},
        coords={"feature": feats},
    )
    assert figures.MAX_PANELS == 40
    dens = figures.posterior_densities(idata, layout, {"ref": {"x/5": 0.25, "x/43": 9.0}})
    rank = figures.rank_plot(idata, layout)
    for fig in (dens, rank):
        titled = {ax.get_title(): ax for ax in fig.axes if ax.get_title()}
        assert set(titled) == {"intercept", *feats[:39]}
        assert fig._suptitle.get_text() == "the first 40 of 45 parameters"
    marked = [
        t
        for t, ax in {a.get_title(): a for a in dens.axes}.items()
        if any(list(line.get_xdata()) == [0.25, 0.25] for line in ax.lines)
    ]
    assert marked == ["x/5"]  # x/43 is not shown: its line is dropped, not misplaced


def test_user_names_with_dollar_signs_are_drawn_literally():
    """A column called "cost $\\q$ usd" (invalid mathtext) or "a$b$" is drawn as written:
    no mathtext error at savefig, no name rendered as maths."""
    import arviz as az

    from nll_losses.models.family import Param, ParamLayout

    feats = ["cost $\\q$ usd", "a$b$"]
    layout = ParamLayout(tuple(Param(f, "w", (("feature", f),)) for f in feats))
    rng = np.random.default_rng(0)
    idata = az.from_dict(
        {"posterior": {"w": rng.normal(size=(2, 30, 2))}},
        dims={"w": ["feature"]},
        coords={"feature": feats},
    )
    fig = figures.posterior_densities(idata, layout, {})
    ax = fig.add_subplot(9, 9, 81)  # and a log axis: matplotlib writes its ticks in mathtext
    ax.semilogx([1e-3, 1e3], [0, 1])
    ax.set_title(feats[0])
    assert figures.figure_to_data_uri(fig).startswith("data:image/png;base64,")
    shown = [t for t in fig.findobj(matplotlib.text.Text) if feats[0] in t.get_text()]
    assert len(shown) >= 2 and all(not t.get_parse_math() for t in shown)
    ticks = [t for t in ax.xaxis.get_ticklabels() if "mathdefault" in t.get_text()]
    assert ticks and all(t.get_parse_math() for t in ticks)  # "10⁻³", not "$\mathdefault…"


@pytest.mark.parametrize(
    "low, high, bars",
    [(0, 6, 6), (3, 9, 6), (1000, 1400, 40)],  # per value from the smallest; else 40 bins
)
def test_count_check_draws_every_count_once(low, high, bars):
    """The count check (figures.ppc_plot "class_counts") for a count y: one bar per value
    from the smallest, or 40 equal bins above 40 values; the bars hold every observation."""
    from arviz_base import from_dict

    rng = np.random.default_rng(0)
    y = rng.integers(low, high, 300)
    rep = rng.integers(low, high, (2, 50, 300))
    idata = from_dict(
        {
            "posterior": {"w": rng.normal(size=(2, 50))},
            "posterior_predictive": {"y": rep},
            "observed_data": {"y": y},
        }
    )
    fig = figures.ppc_plot(idata, "class_counts")
    ax = fig.axes[0]
    heights = [p.get_height() for p in ax.patches]
    assert len(heights) == bars and sum(heights) == len(y)
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels[0].startswith(str(low))
    figures.plt.close(fig)
