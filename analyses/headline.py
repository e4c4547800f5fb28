"""What a case page says first: its claim as a plain title, the sentences that give the claim's
numbers (the loss is the NLL to d digits, find_MAP is the library's fit to d digits, the prior is
the library's penalty, NUTS agrees within Monte Carlo error), estimators named in words, and the
data of the headline picture (analyses/headline_figure.py draws it).  Everything is read from the
case's result: its estimates, agreement rows, translation rows and loss landscape."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from nll_losses.analyses.pairs import LEDGER_NOTE, agreement_pairs
from nll_losses.analyses.results import CaseResult
from nll_losses.models import get_family

# the estimators every family fits with PyMC, in words; a family's references bring their own
PYMC_WORDS = {
    "find_map": "find_MAP",
    "laplace": "the Laplace approximation",
    "nuts": "NUTS",
}
PRIOR_WORDS = {
    "flat": "flat prior",
    "gaussian": "N(0, τ²) prior",
    "jeffreys": "Jeffreys prior",
    "dirichlet": "Dirichlet prior",
    "gamma": "Gamma prior",
}
MAX_GRID_POINTS = 400  # of the landscape's grid, in the headline's left panel
MAX_DIGITS = 15  # float64 carries 15-17 significant digits: "15+" beyond


def prior_words(prior: str) -> str:
    return PRIOR_WORDS.get(prior, f"{prior} prior")


def method_words(key: str, result: CaseResult) -> str:
    """The estimator of ``key`` without its prior: ``find_map_flat`` -> "find_MAP"; a family
    reference by its description (``closed_form_flat`` -> "refined-QR least squares / ridge");
    a key that is not an estimate (a ledger column, a formula) as it is."""
    est = (result.estimates or {}).get(key)
    if est is None:
        return key
    ref = get_family(result.family).references().get(est.method)
    if ref is not None and ref.description:
        return ref.description
    return PYMC_WORDS.get(est.method, est.method.replace("_", " "))


def estimator_words(key: str, result: CaseResult) -> str:
    """``find_map_flat`` -> "find_MAP, flat prior" (``method_words`` and the prior)."""
    est = (result.estimates or {}).get(key)
    name = method_words(key, result)
    return name if est is None else f"{name}, {prior_words(est.prior)}"


def digits(rows) -> int | None:
    """Significant digits two columns share: −log10(largest |left − right| / largest |value|),
    floored; MAX_DIGITS when they are equal; None without a finite row."""
    pairs = [
        (r.left_value, r.right_value)
        for r in rows
        if _finite(r.left_value) and _finite(r.right_value)
    ]
    if not pairs:
        return None
    diff = max(abs(a - b) for a, b in pairs)
    scale = max(max(abs(a), abs(b)) for a, b in pairs)
    if diff == 0 or scale == 0:
        return MAX_DIGITS
    return max(0, min(MAX_DIGITS, math.floor(-math.log10(diff / scale))))


def _finite(x) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _agreement_words(pair: dict) -> str:
    """How closely a pair that holds agrees ("to 9 digits: …"), or how a failing one fails."""
    if not pair["ok"]:
        worst = pair.get("worst")
        where = f" at {pair['worst_parameter']}" if pair.get("worst_parameter") else ""
        ratio = f" (worst |difference| / tolerance {worst:.3g}{where})" if worst else ""
        return f"differs by more than its tolerance{ratio}"
    d = digits(pair["rows"])
    if d is None:
        return "within its tolerance"
    if d >= MAX_DIGITS:
        return f"to {MAX_DIGITS}+ digits of the largest value"
    return f"to {d} digit{'s' if d != 1 else ''} of the largest value"


def _method(result: CaseResult, key: str) -> tuple[str, str] | None:
    est = (result.estimates or {}).get(key)
    return (est.method, est.prior) if est is not None else None


def _reference_pair(result: CaseResult, pairs, priors) -> dict | None:
    """The declared pair "find_MAP vs a family reference" (point estimates of the model's
    parameters, both ok, the same prior) under the first of ``priors`` that has one,
    preferring the family's references in their declared order and, among a reference's
    pairs, a failing one (the sentence must not say "equals" while one fails)."""
    refs = list(get_family(result.family).references())
    params = set(result.parameters)
    for prior in priors:
        found = []
        for p in pairs:
            left, right = _method(result, p["left"]), _method(result, p["right"])
            if left is None or right is None or p["kind"] != "agree":
                continue
            # the case's parameters and those find_MAP estimated under this prior (softmax
            # regression's Gaussian prior has every class's weights, the baseline's too)
            names = params | set(result.estimates[p["left"]].mean or {})
            if "sd" in p["note"].split() or not all(r.parameter in names for r in p["rows"]):
                continue  # standard deviations, an objective value: not the estimates
            if left == ("find_map", prior) and right[0] in refs and right[1] == prior:
                found.append((refs.index(right[0]), p["ok"], p))
        if found:
            return min(found, key=lambda t: t[:2])[2]
    return None


def _translation(result: CaseResult, prior: str) -> dict | None:
    """The translation row of ``prior`` to quote: weight decay when verified, else the first
    verified row."""
    rows = [
        t
        for t in result.translation or []
        if t.get("ok") is True and t.get("prior") == prior and _finite(t.get("value"))
    ]
    decay = [t for t in rows if t.get("parameter") == "weight_decay"]
    return (decay or rows or [None])[0]


def _failed(result: CaseResult, pair: dict) -> str | None:
    """Why a pair's find_MAP or reference estimate is not ok (None: both are)."""
    for key in (pair["left"], pair["right"]):
        est = result.estimates[key]
        if est.status != "ok":
            reason = est.reason.split(". ")[0].split("; ")[0].rstrip(".")
            return f"{method_words(key, result)} {est.status}: {reason}"
    return None


def _prior_scale(result: CaseResult):
    settings = (result.provenance or {}).get("case settings", {})
    for key, value in settings.items():
        if key.startswith("prior scale") and _finite(value):
            return value
    return None


def claim(result: CaseResult) -> dict[str, Any]:
    """``title`` (the family's plain claim), ``sentences`` (each one
    claim with its numbers, in the reader's words), ``quick`` (a quick run's settings), and
    ``picture`` (the headline figure's data, or None)."""
    family = get_family(result.family)
    pairs = agreement_pairs(result.agreement)
    sentences = []

    ledger = [p for p in pairs if p["note"] == LEDGER_NOTE]
    chosen = None
    if ledger:
        obs = family.observation
        loss = (obs.loss_name.split()[-1], obs.loss_function.rsplit(".", 1)[-1])
        chosen = p = next((p for p in ledger if any(w in p["right"] for w in loss)), ledger[0])
        points = len({r.parameter for r in p["rows"]})
        if p["ok"]:
            sentences.append(
                f"The negative log-likelihood, {p['left']}, equals {p['right']} at {points} "
                f"parameter values {_agreement_words(p)}."
            )
        else:
            sentences.append(
                f"The negative log-likelihood, {p['left']}, against {p['right']} at {points} "
                f"parameter values: {_agreement_words(p)}."
            )

    priors = list(dict.fromkeys(e.prior for e in (result.estimates or {}).values()))
    mle = _reference_pair(result, pairs, ["flat"])
    flat = (result.estimates or {}).get("find_map_flat")
    if mle is not None and _failed(result, mle) is None:
        fit = "find_MAP with flat priors: the MLE where every prior is flat"
        ref = method_words(mle["right"], result)
        if mle["ok"]:
            sentences.append(f"Minimising it ({fit}) equals {ref} {_agreement_words(mle)}.")
        else:
            sentences.append(f"Minimising it ({fit}) against {ref}: {_agreement_words(mle)}.")
    elif mle is not None:
        sentences.append(f"With flat priors, {_failed(result, mle)}.")
    elif flat is not None and flat.status != "ok":
        reason = flat.reason.split(". ")[0].split("; ")[0].rstrip(".")
        sentences.append(f"The maximum-likelihood estimate is {flat.status} here: {reason}.")
    mle = mle if mle is not None and _failed(result, mle) is None else None

    # the Gaussian prior first (the claim "weight decay is a Gaussian prior"), else another
    # proper prior the family fits (Dirichlet, Gamma, Jeffreys)
    others = ["gaussian"] + [p for p in priors if p not in ("flat", "gaussian")]
    map_ = _reference_pair(result, pairs, others)
    if map_ is not None and _failed(result, map_) is None:
        est = result.estimates[map_["left"]]
        ref = method_words(map_["right"], result)
        tau = _prior_scale(result)
        prior = prior_words(est.prior) + (
            f" (τ = {tau:g})" if tau is not None and est.prior == "gaussian" else ""
        )
        if map_["ok"]:
            text = f"With the {prior}, find_MAP equals {ref} {_agreement_words(map_)}"
        else:
            text = f"With the {prior}, find_MAP against {ref}: {_agreement_words(map_)}"
        row = _translation(result, est.prior)
        if row is not None:
            text += (
                f"; that prior is {row['library']}'s {row['parameter']} = {row['formula']} = "
                f"{row['value']:.6g}, verified by a fit"
            )
        sentences.append(text + ".")
    elif map_ is not None:
        est = result.estimates[map_["left"]]
        sentences.append(f"With the {prior_words(est.prior)}, {_failed(result, map_)}.")
    map_ = map_ if map_ is not None and _failed(result, map_) is None else None

    mc = [
        p
        for p in pairs
        if (_method(result, p["left"]) or ("",))[0] == "nuts"
        and p["tier"] == "monte carlo"
        and p["kind"] == "agree"
    ]
    if mc:
        held = sum(p["ok"] for p in mc)
        rights = list(dict.fromkeys(method_words(p["right"], result) for p in mc))
        sentences.append(
            f"NUTS' posterior agrees with {', '.join(rights)} within Monte Carlo error in "
            f"{held} of {len(mc)} comparisons."
        )

    return plain(result) | {"sentences": sentences, "picture": picture(result, chosen, mle, map_)}


def _capital(sentence: str) -> str:
    """The sentence with a capital, unless it starts with a name written as it is
    (find_MAP)."""
    return sentence if sentence.startswith("find_MAP") else sentence[0].upper() + sentence[1:]


def title(result: CaseResult) -> str:
    """The page's title: the family's claim by loss and, when the case ran a prior other than
    the flat one, what the first such prior (in the family's order) is in the loss's terms:
    a page without a Gaussian prior does not claim weight decay."""
    family = get_family(result.family)
    ran = {e.prior for e in result.estimates.values()}
    clauses = [
        family.prior_titles[p] for p in family.priors if p in ran and p in family.prior_titles
    ]
    return f"{family.title}, and {clauses[0]}" if clauses else family.title


def plain(result: CaseResult) -> dict[str, Any]:
    """``claim`` without sentences or picture: the title alone."""
    sampler = (result.provenance or {}).get("sampler", {})
    return {
        "title": title(result),
        "sentences": [],
        "quick": sampler if sampler.get("quick") else None,
        "picture": None,
    }


def picture(result: CaseResult, ledger: dict | None, *pairs) -> dict | None:
    """The headline figure's data: ``identity`` (the NLL against the loss at arbitrary
    parameters: the landscape's grid with its affine map, else the points of the ledger pair
    ``ledger``), ``estimates`` (find_MAP against the references of ``pairs``, per parameter)
    and ``caption``."""
    identity = None
    land = result.landscape
    if land and "nll" in land and "loss" in land:
        ok = np.asarray(land.get("comparable", np.ones(np.shape(land["nll"]), dtype=bool)))
        nll, loss = np.asarray(land["nll"])[ok], np.asarray(land["loss"])[ok]
        take = np.linspace(0, nll.size - 1, min(nll.size, MAX_GRID_POINTS)).round().astype(int)
        identity = {
            "x": loss[take].tolist(),
            "y": nll[take].tolist(),
            "a": float(land["a"]),
            "c": float(land["c"]),
            "xlabel": land["loss_name"],
            "ylabel": "NLL = −log p(y | θ)",
            "relation": land.get("relation", ""),
        }
    elif ledger is not None:
        rows = ledger["rows"]
        identity = {
            "x": [r.right_value for r in rows],
            "y": [r.left_value for r in rows],
            "a": 1.0,
            "c": 0.0,
            "xlabel": ledger["right"],
            "ylabel": ledger["left"],
            "relation": "",
        }
    estimates = []
    for p in pairs:
        if p is None or not any(
            _finite(r.left_value) and _finite(r.right_value) for r in p["rows"]
        ):
            continue
        est = result.estimates[p["left"]]
        estimates.append(
            {
                "label": f"{prior_words(est.prior)}: {method_words(p['right'], result)}",
                "x": [r.right_value for r in p["rows"]],
                "y": [r.left_value for r in p["rows"]],
            }
        )
    if identity is None and not estimates:
        return None
    caption = []
    if identity is not None:
        caption.append(
            "the negative log-likelihood against the loss at arbitrary parameter values "
            + (
                "(a grid over a slice through the estimate): on the line NLL = a·loss + c"
                if land and "nll" in land
                else "(the loss ledger's points, the estimates and arbitrary parameters): "
                "on the line y = x"
            )
            + " when the loss is the NLL"
        )
    if estimates:
        caption.append(
            "find_MAP's estimate of every parameter against the reference it is claimed to "
            "equal (" + "; ".join(g["label"] for g in estimates) + "): on the line y = x when "
            "they agree"
        )
    sides = ("Left: ", "Right: ") if len(caption) == 2 else ("",)
    text = " ".join(f"{side}{_capital(c)}." for side, c in zip(sides, caption, strict=True))
    return {"identity": identity, "estimates": estimates, "caption": text}
