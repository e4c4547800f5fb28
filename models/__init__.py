"""Likelihood families: PyMC builders, closed forms, losses and the agreement theory promises.

Layering: ``models`` knows NumPy, SciPy and PyMC (and, for the reference fits a family
declares, statsmodels and scikit-learn); it knows nothing about reports, files or the CLI, and
imports nothing from ``analyses``.  ``models.linalg`` depends on NumPy and SciPy only.

Each family is one module exposing ``FAMILY`` (an object satisfying ``models.family.Family``);
``FAMILIES`` maps its name to it, so adding a family is one module plus one line here.
"""

from models import bernoulli, categorical, normal

FAMILIES = {f.name: f for f in (normal.FAMILY, bernoulli.FAMILY, categorical.FAMILY)}


def get_family(name: str):
    """The family called ``name``; fails loudly on an unknown name."""
    try:
        return FAMILIES[name]
    except KeyError:
        raise KeyError(f"unknown family {name!r}; known: {', '.join(sorted(FAMILIES))}") from None
