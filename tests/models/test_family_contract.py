"""Conformance of every family in ``models.FAMILIES`` to the contract of ``models.family``.

Parametrised over the registry, so a new family is checked as soon as it is registered.  Fast:
no sampling, no find_MAP, no compile (building a ``pm.Model`` object only).  The data are
generic: a small random X and a target the family encodes itself from raw CSV cells (the first
candidate column it accepts), never data written for one family.
"""

from __future__ import annotations

import numpy as np
import pytest
from tiny import FEATURES, tiny_problems
from tolerances import ARITH_RTOL, MCSE_Z

from nll_losses.models import FAMILIES
from nll_losses.models.family import (
    PYMC_METHODS,
    Built,
    Family,
    LedgerRow,
    ParamLayout,
    Problem,
    Settings,
    Support,
    Unavailable,
)
from nll_losses.models.observation import Observation
from nll_losses.models.options import Flag
from nll_losses.models.pairs import Pair


@pytest.fixture(params=sorted(FAMILIES))
def family(request):
    return FAMILIES[request.param]


@pytest.fixture
def problems(family) -> dict[str, Problem]:
    return tiny_problems(family.name)


def _split_key(family, key: str) -> tuple[str, str] | None:
    """(method, prior) of an estimate key "<method>_<prior>", or None."""
    for prior in family.priors:
        method = key[: -len(prior) - 1]
        if key.endswith("_" + prior) and method in family.methods:
            return method, prior
    return None


# ------------------------------------------------------------------------------ the checks
def test_observation_model_nll_is_its_loss_mapped_affinely(family, problems):
    """At arbitrary parameters, the observation model's NLL (from the density or pmf) equals
    a · loss + c (the loss from its library), as ``affine`` states: two float64 evaluations of
    one sum of n terms (ARITH_RTOL · n · the terms' size)."""
    obs = family.observation
    assert isinstance(obs, Observation)
    assert obs.picture(len(FEATURES)) in (
        "curve",
        "surface",
        "regions",
        "class_curves",
        "observed_vs_predicted",
        "calibration",
        "class_calibration",
        "frequencies",
    )
    rng = np.random.default_rng(5)
    for problem in problems.values():
        X = np.asarray(problem.X, dtype=float)
        preds = np.stack(
            [
                family.predict(
                    problem, {nm: rng.normal(0.0, 0.7) for nm in problem.layout.names}, X
                )
                for _ in range(4)
            ]
        )
        y = obs.y_values(problem.y)
        scale = obs.noise_scale(y, preds[0])
        nll, loss, ok = obs.terms(y, preds, scale)
        a, c, relation = obs.affine(y, scale)
        assert ok.all() and relation
        size = np.abs(nll) + abs(c) + a * np.abs(loss)
        assert np.all(np.abs(nll - (a * loss + c)) <= ARITH_RTOL * len(y) * size), (
            nll,
            a * loss + c,
        )
        assert obs.link(preds[0]).shape == preds[0].shape


def test_is_a_family_with_options(family):
    assert isinstance(family, Family)
    options = family.Options()
    described = options.describe()
    assert isinstance(described, dict)
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in described.items())


def test_options_declare_their_flags(family):
    """No flag given gives the default options; every flag has help text and a valid name."""
    flags = family.Options.FLAGS
    assert all(isinstance(f, Flag) and f.help and f.name.isidentifier() for f in flags)
    assert family.Options.from_flags({f.name: None for f in flags}) == family.Options()
    assert isinstance(family.Options().columns(), dict)


def test_names_methods_and_references(family):
    assert FAMILIES[family.name] is family
    for attr in ("priors", "methods"):
        value = getattr(family, attr)
        assert isinstance(value, tuple) and value, attr
        assert all(isinstance(v, str) and v for v in value), attr
    assert len(set(family.methods)) == len(family.methods)
    refs = family.references()
    for method in family.methods:
        assert method in PYMC_METHODS or method in refs, f"{method}: neither PyMC nor reference"
    assert set(family.sd_scale_methods) <= set(family.methods)
    # a page's title names what its prior is (analyses/headline.title): every prior but the
    # flat one has its words, and no others
    assert set(family.prior_titles) == set(family.priors) - {"flat"}
    assert all(isinstance(v, str) and v for v in family.prior_titles.values())
    for name, ref in refs.items():
        assert ref.name == name
        assert name in family.methods, f"reference {name} not listed in methods"
        earlier = family.methods[: family.methods.index(name)]
        for need in ref.needs:
            assert need in refs and need in earlier, f"{name} needs {need}: not an earlier ref"


def test_layouts_and_agreement_pairs(family, problems):
    groups = set()
    for problem in problems.values():
        layout = family.layout(FEATURES, problem.target_info, problem.spec)
        assert isinstance(layout, ParamLayout)
        assert len(set(layout.names)) == len(layout.names)
        assert all(p.group for p in layout.params)
        assert layout.var_names
        groups |= set(layout.groups)
    for problem in problems.values():
        for pair in family.agreement_pairs(problem):
            assert isinstance(pair, Pair)
            what = f"{pair.left} vs {pair.right} ({pair.note})"
            assert pair.params == "all" or pair.params in groups, what
            assert pair.stat in ("mean", "sd", "objective"), what
            assert pair.right_stat in (None, "mean", "sd"), what
            assert _split_key(family, pair.left), what
            if pair.right_values is None:
                assert _split_key(family, pair.right), what
            else:
                assert callable(pair.right_values) and pair.right, what
            assert pair.expected is None or callable(pair.expected), what


def test_supports_every_method_and_prior(family, problems):
    for prior, problem in problems.items():
        for method in family.methods:
            support = family.supports(method, problem)
            assert isinstance(support, Support), (method, prior)
            if not support.ok:
                reason = support.reason
                assert reason.strip() and "\n" not in reason, (method, prior, reason)


def test_references_run_on_tiny_data(family, problems):
    refs = family.references()
    for prior, problem in problems.items():
        layout = problem.layout
        results: dict[str, dict] = {}
        for method in family.methods:
            if method not in refs or not family.supports(method, problem).ok:
                continue
            ref = refs[method]
            if any(need not in results for need in ref.needs):
                continue  # an input is unavailable, so is this (as in analyses.estimators)
            inputs = {need: results[need] for need in ref.needs}
            try:
                out = ref.fit(problem, inputs, *((0,) if ref.seeded else ()))
            except Unavailable as exc:
                assert str(exc).strip(), f"{method} ({prior}): Unavailable without a reason"
                continue
            mean = out["mean"]
            assert set(mean) <= set(layout.names), (method, prior, set(mean) - set(layout.names))
            assert set(out.get("sd", {})) <= set(layout.names), (method, prior)
            groups = ref.groups(problem) if callable(ref.groups) else ref.groups
            wanted = [nm for g in (groups or ("all",)) for nm in layout.group(g)]
            assert set(wanted) <= set(mean), (method, prior, set(wanted) - set(mean))
            assert all(np.isfinite(mean[nm]) for nm in wanted), (method, prior, mean)
            results[method] = {
                "mean": mean,
                "sd": out.get("sd", {}),
                "info": out.get("info", {}),
            }


def test_build_model(family, problems):
    import pymc as pm

    for prior, problem in problems.items():
        built = family.build_model(problem)
        assert isinstance(built, Built)
        model = built.model
        assert isinstance(model, pm.Model)
        for var in problem.layout.var_names:
            assert var in model.named_vars, (prior, var)
        # a per-row observed variable, or (sufficient-statistics likelihoods) a NumPy
        # predictive ``extra["predictive"](posterior, rows, rng)`` and the observed values
        if "predictive" in built.extra:
            assert len(built.extra["observed_values"]) == problem.n, prior
        else:
            assert built.observed in {v.name for v in model.observed_RVs}, prior
        data_names = {v.name for v in model.data_vars}
        assert set(built.data) <= data_names, (prior, set(built.data) - data_names)


def test_ledger_identities(family, problems):
    for prior, problem in problems.items():
        rows = family.ledger(problem, {}, np.random.default_rng(0))
        assert rows, f"{prior}: empty ledger"
        for row in rows:
            assert isinstance(row, LedgerRow)
            assert row.checks, row.at
            for left, right in row.checks:
                assert left in row.values and right in row.values, (row.at, left, right)
                a, b = float(row.values[left]), float(row.values[right])
                magnitude = row.magnitude if row.magnitude is not None else max(abs(a), abs(b))
                # the identity holds to floating-point summation accuracy: the arithmetic tier
                # (Higham §4.2), as the pipeline applies it (analyses.tolerances.arithmetic)
                tol = ARITH_RTOL * problem.n * max(abs(magnitude), 1.0)
                assert np.isfinite(a) and abs(a - b) <= tol, (prior, row.at, left, a, right, b)


def test_describe(family, problems):
    text = family.describe(problems, {})
    assert isinstance(text, dict)
    for key in ("likelihood", "loss", "penalty"):
        assert isinstance(text.get(key), str) and text[key], key
    assert isinstance(text.get("priors"), list)
    assert all(isinstance(p, str) for p in text["priors"])


def test_encode_target_rejects_junk_naming_the_column(family):
    column = "weird column 42"
    for cells in (["x", "", "nan"] * 10, ["yes", "no", "nan", ""] * 5):
        with pytest.raises(ValueError) as info:
            family.encode_target(cells, column, family.Options())
        assert column in str(info.value), str(info.value)


def test_feature_names_not_reserved(family):
    assert not set(FEATURES) & set(family.reserved_names(family.Options()))


def test_observation_simulates_its_own_model(family, problems):
    """``simulate`` draws y whose mean over many draws is the prediction (E[y | x] =
    ``predict``; for classes the frequencies are the probabilities), in the values
    ``y_values`` gives: within MCSE_Z standard errors, per row and class (the sd from the
    model's own variance: p(1 − p), μ for counts, σ² for the Gaussian)."""
    obs = family.observation
    rng = np.random.default_rng(11)
    problem = next(iter(problems.values()))
    X = np.asarray(problem.X, dtype=float)
    params = {nm: rng.normal(0.0, 0.5) for nm in problem.layout.names}
    preds = np.asarray(family.predict(problem, params, X))
    draws = 4000
    sims = np.stack([obs.simulate(preds, rng, 0.7) for _ in range(draws)])
    assert sims.shape == (draws, X.shape[0])
    # + 1e-12 below: a probability or mean that rounds to 0 has a standard error of 0, and its
    # frequency or mean is then 0 up to the rounding of the prediction (far below any MCSE)
    if preds.ndim == 2:  # class probabilities: the codes' frequencies
        K = preds.shape[1]
        assert set(np.unique(sims)) <= set(range(K))
        freq = np.stack([(sims == k).mean(axis=0) for k in range(K)], axis=1)
        se = np.sqrt(preds * (1 - preds) / draws)
        assert np.all(np.abs(freq - preds) <= MCSE_Z * se + 1e-12)
        return
    # the variance and the fourth central moment μ₄ of y
    if obs.additive_noise:  # y = prediction + Normal noise of sd ``scale``: 3σ⁴
        var = np.full_like(preds, 0.7**2)
        mu4 = 3 * var**2
    elif obs.probability:  # Bernoulli(p): pq, pq(1 − 3pq)
        var = preds * (1 - preds)
        mu4 = var * (1 - 3 * var)
    else:  # a count of mean μ (Poisson): μ, μ(1 + 3μ)
        var = preds
        mu4 = preds * (1 + 3 * preds)
    se = np.sqrt(var / draws)
    assert np.all(np.abs(sims.mean(axis=0) - preds) <= MCSE_Z * se + 1e-12)
    # and the spread: the sample variance within MCSE_Z of its standard error √((μ₄ − σ⁴)/N)
    spread = np.sqrt(np.maximum(mu4 - var**2, 0.0) / draws)
    assert np.all(np.abs(sims.var(axis=0, ddof=1) - var) <= MCSE_Z * spread + 1e-12)


def test_study_model_has_a_proper_prior(family):
    """``study_model``: every coefficient the prediction reads gets a Gaussian (proper)
    prior: the spec is valid for the Gaussian prior, and an intercept, if any, has a scale."""
    if "gaussian" not in family.priors:
        pytest.skip(f"{family.name} offers no Gaussian prior: no study model to check")
    settings = Settings(prior_scale=1.5)
    model = family.study_model(settings, {"sigma": 0.7})
    family.make_spec(model.settings, "gaussian")  # offered
    s = model.settings
    assert not s.intercept or s.intercept_prior_scale == 1.5
    # the noise scale held known where y = prediction + noise, at the generator's
    assert model.noise_scale == (0.7 if family.observation.additive_noise else None)
    assert set(model.prior_sd.values()) == {1.5}
