"""What a case page says first (analyses/headline.py): the family's claim as the title, the
claim's numbers in sentences (significant digits from the agreement rows, the verified
translation row, the prior's scale), and the warnings grouped (analyses/page_warnings.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from nll_losses.analyses import headline, page_warnings
from nll_losses.analyses.results import AgreementRow, CaseResult, Estimate
from nll_losses.models import get_family

LEDGER = ("−log p(y|θ) (Normal density)", "n/2·log(2πσ²) + n·MSE/(2σ²)")


def _row(left, right, parameter, a, b, ok=True, tier="optimiser", note=""):
    return AgreementRow(left, right, parameter, a, b, abs(a - b), 1e-6, tier, ok, note=note)


def _result(flat_ok=True, mle_ok=True):
    keys = ("find_map", "closed_form", "nuts", "exact_posterior")
    estimates = {
        f"{m}_{p}": Estimate(m, p, mean={"w": 1.0}) for m in keys for p in ("flat", "gaussian")
    }
    if not flat_ok:
        estimates["find_map_flat"] = Estimate(
            "find_map", "flat", status="unavailable", reason="the MLE does not exist; more. x"
        )
    rows = [
        _row("find_map_flat", "closed_form_flat", "w", 2.0, 2.0 + 1.5e-9, ok=mle_ok),
        _row("find_map_flat", "closed_form_flat", "b", -1.0, -1.0),
        _row("find_map_gaussian", "closed_form_gaussian", "w", 1.5, 1.5),
        _row(*LEDGER, "at the MLE", 41.0, 41.0 + 4.1e-12, tier="arithmetic", note="loss ledger"),
        _row(*LEDGER, "at a random point", 90.0, 90.0, tier="arithmetic", note="loss ledger"),
        _row("nuts_gaussian", "exact_posterior_gaussian", "w", 1.5, 1.51, tier="monte carlo"),
        _row("nuts_flat", "exact_posterior_flat", "w", 2.0, 2.5, ok=False, tier="monte carlo"),
    ]
    if not flat_ok:
        rows = [r for r in rows if "flat" not in r.left]
    translation = [
        {"library": "scikit-learn", "parameter": "alpha", "formula": "σ²/τ²", "value": 2.0},
        {"library": "PyTorch", "parameter": "weight_decay", "formula": "σ²/(nτ²)", "value": 0.125},
        # another prior's row: never quoted for the Gaussian prior
        {"library": "Firth", "parameter": "weight_decay", "formula": "-", "value": 9.0},
    ]
    for row, prior in zip(translation, ("gaussian", "gaussian", "jeffreys"), strict=True):
        row |= {"ok": True, "prior": prior}
    return CaseResult(
        case="c", family="normal", target="y", n_obs=16, parameters=["b", "w"],
        estimates=estimates, agreement=rows, warnings=[], model={}, ledger=[],
        provenance={"case settings": {"prior scale tau": 2.0}, "sampler": {"quick": False}},
        dataset={}, translation=translation,
    )  # fmt: skip


def test_the_claim_in_numbers():
    head = headline.claim(_result())
    text = " ".join(head["sentences"])
    family = get_family("normal")
    assert head["title"] == f"{family.title}, and {family.prior_titles['gaussian']}"
    # the ledger: 4.1e-12 / 90 -> 13 digits, over both points
    assert f"{LEDGER[1]} at 2 parameter values" in text
    assert "to 13 digits of the largest value" in text
    assert "equals refined-QR least squares / ridge to 9 digits" in text  # 1.5e-9 / 2
    assert "With the N(0, τ²) prior (τ = 2), find_MAP equals" in text
    assert "to 15+ digits" in text  # equal values
    # weight decay preferred, and only a row of the Gaussian prior's
    assert "PyTorch's weight_decay = σ²/(nτ²) = 0.125, verified by a fit" in text
    assert "Firth" not in text
    assert "within Monte Carlo error in 1 of 2 comparisons" in text
    assert head["quick"] is None
    picture = head["picture"]
    assert [len(g["x"]) for g in picture["estimates"]] == [2, 1]
    assert picture["identity"]["x"] == [41.0 + 4.1e-12, 90.0]  # the ledger, no landscape


@pytest.mark.parametrize(
    ("family_name", "priors", "clause"),
    [
        ("normal", ("flat",), None),
        ("poisson", ("flat", "gamma"), "gamma"),
        ("categorical", ("flat", "dirichlet"), "dirichlet"),
        ("bernoulli", ("jeffreys", "gaussian", "flat"), "gaussian"),  # the family's order
        ("bernoulli", ("flat", "jeffreys"), "jeffreys"),
    ],
)
def test_the_title_names_the_prior_the_case_ran(family_name, priors, clause):
    """A case without the Gaussian prior (cancer_rates: Gamma; categorical_frequencies:
    Dirichlet) does not claim weight decay in its title; it names its own prior's claim."""
    family = get_family(family_name)
    estimates = {f"find_map_{p}": Estimate("find_map", p, mean={"w": 1.0}) for p in priors}
    result = replace(_result(), family=family_name, estimates=estimates)
    title = headline.claim(result)["title"]
    assert title.startswith(family.title)
    if clause is None:
        assert title == family.title
    else:
        assert title == f"{family.title}, and {family.prior_titles[clause]}"
        assert ("Gaussian" in title) == (clause == "gaussian")


def test_a_failing_claim_says_so_and_a_missing_mle_says_why():
    failing = headline.claim(_result(mle_ok=False))["sentences"][1]
    assert "equals" not in failing and "differs by more than its tolerance" in failing
    text = " ".join(headline.claim(_result(flat_ok=False))["sentences"])
    assert "The maximum-likelihood estimate is unavailable here: the MLE does not exist." in text


def test_a_failed_estimate_and_an_objective_row_are_not_read_as_agreement():
    result = _result()
    result.estimates["closed_form_flat"] = Estimate(
        "closed_form", "flat", status="failed", reason="singular design. more"
    )
    # a pair on a quantity that is not a parameter (an objective value), failing: not the claim
    result.agreement.append(
        _row(
            "find_map_gaussian",
            "closed_form_gaussian",
            "objective",
            3.0,
            4.0,
            ok=False,
            note="same objective value",
        )
    )
    head = headline.claim(result)
    text = " ".join(head["sentences"])
    assert "With flat priors, refined-QR least squares / ridge failed: singular design." in text
    assert "find_MAP equals refined-QR least squares / ridge to 15+ digits" in text
    assert [g["label"] for g in head["picture"]["estimates"]] == [
        "N(0, τ²) prior: refined-QR least squares / ridge"
    ]


def test_a_prior_with_more_parameters_than_the_case_lists_is_still_the_claim():
    """Softmax regression's Gaussian prior puts N(0, τ²) on every class's weights, the
    baseline's too, which the case's parameter list (the contrasts) does not name: find_MAP's
    agreement with its reference on them is still the weight-decay claim."""
    result = _result()
    result.estimates["find_map_gaussian"] = Estimate(
        "find_map", "gaussian", mean={"w": 1.0, "base:w": -1.0}
    )
    result.agreement.append(_row("find_map_gaussian", "closed_form_gaussian", "base:w", -1, -1))
    text = " ".join(headline.claim(result)["sentences"])
    assert "With the N(0, τ²) prior (τ = 2), find_MAP equals" in text
    result.estimates["find_map_gaussian"] = Estimate("find_map", "gaussian", mean={"w": 1.0})
    text = " ".join(headline.claim(result)["sentences"])
    assert "find_MAP equals" not in text  # a row on a name it did not estimate: not read


def test_digits():
    rows = [_row("a", "b", "w", 1000.0, 1000.0 + 1e-3), _row("a", "b", "v", 1.0, 1.0)]
    assert headline.digits(rows) == 6  # relative to the largest value, not to each row
    assert headline.digits(rows[1:]) == headline.MAX_DIGITS
    assert headline.digits([_row("a", "b", "w", float("nan"), 1.0)]) is None


def test_warnings_grouped_once_each_and_quick_runs_said():
    reason = "the MLE does not exist: separated"
    warnings = [
        f"find_map_flat unavailable: {reason}",
        f"laplace_flat unavailable: {reason}",
        "nuts_flat: r_hat up to 1.02 (> 1.01)",
        "nuts_flat: r_hat up to 1.02 (> 1.01)",
        "figure 'Fit' unavailable: ValueError: x",
        "sweeps unavailable: no grid",
    ]
    keys = ["find_map_flat", "laplace_flat", "nuts_flat"]
    groups = page_warnings.groups(warnings, keys, {"draws": 400, "tune": 400, "chains": 2})
    by_title = {g["title"]: g for g in groups}
    assert [g["title"] for g in groups] == [
        "Sampler and optimiser diagnostics",
        "Estimates not available",
        "Figures",
        "Other",
    ]
    assert by_title["Sampler and optimiser diagnostics"]["lines"] == [
        {"text": "nuts_flat: r_hat up to 1.02 (> 1.01)", "count": 2}
    ]
    assert "quick run (400 draws" in by_title["Sampler and optimiser diagnostics"]["note"]
    assert by_title["Estimates not available"]["lines"] == [
        {"text": f"find_map_flat, laplace_flat unavailable: {reason}", "count": 1}
    ]
    assert page_warnings.groups(warnings, keys)[0]["note"] == ""  # not a quick run
