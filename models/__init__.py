"""Likelihood families: PyMC builders, closed forms, losses and the agreement theory promises.

Layering: ``models`` knows NumPy, SciPy and PyMC (and, for the reference fits a family
declares, statsmodels and scikit-learn); it knows nothing about reports, files or the CLI, and
imports nothing from ``analyses``.  ``models.numerics`` (linear algebra, the logistic and
softmax solvers) depends on NumPy and SciPy only.

Each family is one folder under ``models/families/`` (its slots: ``models.families``)
exposing ``FAMILY`` (an object satisfying ``models.family.Family``); ``FAMILIES`` maps its
name to it, so adding a family is one folder plus one line here.
"""

from nll_losses.models.families import bernoulli, categorical, normal, poisson

FAMILIES = {
    f.name: f for f in (normal.FAMILY, bernoulli.FAMILY, categorical.FAMILY, poisson.FAMILY)
}


def get_family(name: str):
    """The family called ``name``; fails loudly on an unknown name."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown family {name!r}; known: {', '.join(sorted(FAMILIES))}") from None
