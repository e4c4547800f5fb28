"""Every agreement row theory promises, on every built-in case, within its tolerance tier;
plus seeds: the same seed gives the same numbers."""

import pytest
from matrix import check_estimator_matrix

from nll_losses.analyses import tolerances
from nll_losses.analyses.cases import CASES
from nll_losses.analyses.config import RunConfig, child_seed
from nll_losses.analyses.pipeline import run_case
from nll_losses.analyses.problems import make_problem
from nll_losses.models import get_family

pytestmark = pytest.mark.slow

# Full sampler settings: the Monte Carlo tier scales with the MCSE of this run.
CFG = RunConfig(seed=0, draws=1000, tune=1000, chains=4)
# Full-settings runs of a normal, a Bernoulli and the separated case.  One case per compiled graph
# type also runs end to end with --quick in tests/analyses/test_cold_start.py, with the same checks
# (every row ok, the estimator matrix); `make reports` runs every built-in case.
FULL_CASES = ("synthetic", "logistic_synthetic", "quasi_separated")


@pytest.fixture(scope="session")
def results(model_cache):
    out = {}
    for name in FULL_CASES:
        case = CASES[name]
        data = case.load(child_seed(CFG.seed, name, "data"))
        out[name] = run_case(data, case.config, CFG, model_cache)
    return out


@pytest.mark.parametrize("case", FULL_CASES)
def test_agreement(results, case):
    """Every tier the family's pairs declare (plus the ledger's arithmetic tier) produced rows,
    and every row is within its tolerance."""
    config = CASES[case].config
    family = get_family(config.family)
    data = CASES[case].load(child_seed(CFG.seed, case, "data"))
    declared = {"arithmetic"} | {
        pair.tier
        for prior in family.priors
        for pair in family.agreement_pairs(make_problem(family, data, config.settings, prior))
    }
    rows = results[case].agreement
    assert declared <= set(tolerances.TIERS)
    for tier in sorted(declared):
        assert any(r.tier == tier for r in rows), f"no {tier} rows for {case}"
    bad = [
        f"{r.left} vs {r.right} [{r.parameter}] {r.tier} {r.note}: |diff| {r.abs_diff:.3g} > "
        f"{r.tolerance:.3g}"
        for r in rows
        if not r.ok
    ]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("case", FULL_CASES)
def test_every_estimator_ran(results, case):
    """Every (estimator x prior) the family declares supported ran ok and estimated the
    parameters it declares; the rest are unavailable with a reason (read from the family)."""
    res = results[case]
    data = CASES[case].load(child_seed(CFG.seed, case, "data"))
    check_estimator_matrix(CASES[case].config, data, res.estimates)
    for key, est in res.estimates.items():
        if est.method == "nuts" and est.status == "ok":
            assert est.info["divergences"] == 0 and est.info["max_r_hat"] < 1.01, key


def test_pairs_cover_the_theory(results):
    """The rows the issue asks for are all present (not silently skipped)."""
    rows = {(r.left, r.right, r.kind) for r in results["synthetic"].agreement}
    for needed in [
        ("find_map_flat", "closed_form_flat", "agree"),
        ("find_map_gaussian", "closed_form_gaussian", "agree"),
        ("nuts_flat", "exact_posterior_flat", "agree"),
        ("nuts_gaussian", "exact_posterior_gaussian", "agree"),
        ("statsmodels_flat", "closed_form_flat", "agree"),
        ("sklearn_gaussian", "closed_form_gaussian", "agree"),
        ("nuts_flat", "closed_form_flat", "gap"),
        ("laplace_flat", "closed_form_flat", "gap"),
    ]:
        assert needed in rows, needed


def test_synthetic_recovers_truth(results):
    """The generating values lie within 4 posterior sd of the posterior mean."""
    res = results["synthetic"]
    truth = CASES["synthetic"].load(child_seed(CFG.seed, "synthetic", "data")).truth
    est = res.estimates["exact_posterior_flat"]
    for name, value in truth.items():
        assert abs(est.mean[name] - value) <= 4 * est.sd[name], name


def test_same_seed_same_numbers(model_cache):
    """Same data and seed: identical numbers.  Only the run seed changes (the data are loaded
    once, from a seed of their own): NUTS changes, the deterministic estimators do not."""
    case = CASES["synthetic"]
    data = case.load(child_seed(7, "synthetic", "data"))
    cfg = RunConfig(
        seed=7, draws=200, tune=200, chains=2, estimators=("closed_form", "find_map", "nuts")
    )
    a, b = (run_case(data, case.config, cfg, model_cache) for _ in range(2))
    for key in a.estimates:
        assert a.estimates[key].mean == b.estimates[key].mean, key
        assert a.estimates[key].sd == b.estimates[key].sd, key
    other = run_case(data, case.config, RunConfig(**{**cfg.__dict__, "seed": 8}), model_cache)
    for prior in ("flat", "gaussian"):
        x, y = a.estimates[f"nuts_{prior}"].mean, other.estimates[f"nuts_{prior}"].mean
        assert all(x[k] != y[k] for k in x), prior
        assert (
            other.estimates[f"closed_form_{prior}"].mean == a.estimates[f"closed_form_{prior}"].mean
        )


def test_a_failing_sweep_keeps_the_case_and_says_why(model_cache, monkeypatch):
    """An exception inside the sweeps (a bug, or a library failing) does not lose the case's
    own fits: the case comes back with a warning naming it."""
    from nll_losses.analyses import sweeps

    def boom(*args, **kw):
        raise RuntimeError("boom\nsecond line")

    monkeypatch.setattr(sweeps, "prior_strength", boom)
    case = CASES["synthetic"]
    data = case.load(child_seed(7, "synthetic", "data"))
    cfg = RunConfig(seed=7, estimators=("closed_form",), sweeps=True)
    result = run_case(data, case.config, cfg, model_cache)
    assert result.estimates["closed_form_flat"].status == "ok"
    assert result.sweeps == {}
    assert "sweeps unavailable: RuntimeError: boom" in result.warnings
