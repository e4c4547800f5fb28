"""What a simulation study fits: the built-in simulated cases, each with a proper prior that
the truth of every replicate is drawn from, and one simulated data set.

A case takes part when it has a data generator (``Case.sized``) and its family offers the
Gaussian prior.  Its study model is the case's model with a proper prior on every parameter
that the prediction reads (``Family.study_model``): N(0, τ²) at the case's τ on the weights
and, where the case's intercept prior is flat (improper: nothing to draw a truth from), on
the intercept too, or no intercept where the family offers only a flat one; and a noise
scale (the Gaussian σ) known, at the generator's value.

The truth of a replicate is drawn from that prior, x from the case's generator, and y from
the family's observation model (``Observation.simulate``) at the truth's predictions: the
Bayesian intervals under that prior are then calibrated by construction, and the classical
ones are calibrated for any truth, so both should cover at their nominal rate.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from nll_losses.analyses.cases import CASES, Case
from nll_losses.analyses.datasets import Dataset
from nll_losses.analyses.errors import InputError
from nll_losses.analyses.problems import make_problem
from nll_losses.models import get_family
from nll_losses.models.family import Settings, StudyModel

PRIOR = "gaussian"  # the proper prior of the study model
FLAT = "flat"


@dataclass(frozen=True)
class Design:
    """One case's study model."""

    case: str
    family: str
    model: StudyModel  # the family's study model of the case's settings
    n: int  # rows of a replicate's data set (the case's own generator size)
    sized: object  # the case's generator (seed, n) -> Dataset

    @property
    def family_obj(self):
        return get_family(self.family)

    @property
    def settings(self) -> Settings:
        return self.model.settings

    @property
    def tau(self) -> float:
        """τ₀: the prior sd of the weights (the risk study's τ grid is in its units)."""
        return float(self.settings.prior_scale)

    @property
    def sigma(self) -> float | None:
        return self.model.noise_scale

    @property
    def note(self) -> str:
        return self.model.note

    def fingerprint(self) -> dict:
        """What a replicate of this case depends on besides its seed and the study's settings
        (the resumable work folder refuses replicates made for another)."""
        return {
            "family": self.family,
            "n": self.n,
            "settings": repr(self.settings),
            "noise scale": self.sigma,
            "prior sd": self.model.prior_sd,
        }

    def problem(self, data: Dataset, prior: str = PRIOR, unit: float = 1.0):
        """The problem of ``data`` under ``prior``; ``unit`` scales every prior sd (the
        weights' τ and the intercept's): the risk study's τ grid."""
        settings = self.settings
        if unit != 1.0:
            scale = settings.intercept_prior_scale
            settings = replace(
                settings,
                prior_scale=settings.prior_scale * unit,
                intercept_prior_scale=None if scale is None else scale * unit,
            )
        return make_problem(self.family_obj, data, settings, prior)


def _design(case: Case) -> Design | None:
    family = get_family(case.config.family)
    if case.sized is None or PRIOR not in family.priors:
        return None
    sample = case.load(0)
    model = family.study_model(case.config.settings, sample.truth or {})
    return Design(case.config.name, family.name, model, sample.n_obs, case.sized)


def designs() -> dict[str, Design]:
    """Every built-in case a study takes, by name, in the cases' order."""
    out = {}
    for case in CASES.values():
        d = _design(case)
        if d is not None:
            out[d.case] = d
    return out


def chosen(names: list[str] | None) -> list[Design]:
    """The designs of ``names`` (all when empty); a case no study takes is an input error."""
    every = designs()
    if not names:
        return list(every.values())
    unknown = [n for n in names if n not in every]
    if unknown:
        raise InputError(
            f"case {unknown[0]!r} takes no simulation study (it needs a data generator and "
            f"the Gaussian prior); the cases that do: {', '.join(every)}"
        )
    return [every[n] for n in names]


def drawn_parameters(family, problem) -> list[str]:
    """The parameters of ``problem`` that the prediction reads (its layout without derived
    quantities such as class probabilities): each one moves ``Family.predict``."""
    base = {name: 0.1 for name in problem.layout.names}
    p0 = np.asarray(family.predict(problem, base, problem.X))
    out = []
    for name in problem.layout.names:
        moved = dict(base, **{name: base[name] + 0.5})
        if not np.allclose(np.asarray(family.predict(problem, moved, problem.X)), p0):
            out.append(name)
    return out


def simulate(design: Design, seed: int, n: int | None = None) -> tuple[Dataset, dict]:
    """One replicate's data set of ``n`` rows (the design's by default) and its truth: every
    parameter the prediction reads from its prior N(0, sd²) (``StudyModel.prior_sd``), x from
    the case's generator, y from the observation model at the truth's predictions."""
    rng = np.random.default_rng(seed)
    n = n or design.n
    x_data = design.sized(int(rng.integers(2**31)), n)
    family = design.family_obj
    problem = design.problem(x_data)
    names = drawn_parameters(family, problem)
    sd = design.model.prior_sd
    truth = {
        name: float(sd[problem.layout.param(name).var] * rng.standard_normal()) for name in names
    }
    preds = family.predict(problem, truth, x_data.X)
    y = family.observation.simulate(preds, rng, design.sigma)
    return replace(x_data, y=y, truth=truth, source=f"study replicate (seed {seed})"), truth
