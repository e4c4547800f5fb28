"""Hand-made report inputs (no fitting) shared by tests/analyses/test_report.py and
tests/analyses/test_browser.py: a feature name that is an HTML script, a layout written out by hand
(intercept, one weight per feature, sigma) and random posterior draws in ArviZ's layout."""

import numpy as np

from nll_losses.models.family import Param, ParamLayout

EVIL = "<script>alert(1)</script>"
FEATS = [EVIL, "z"]
LAYOUT = ParamLayout(
    (
        Param("intercept", "intercept"),
        *(Param(f, "w", (("feature", f),)) for f in FEATS),
        Param("sigma", "sigma", group="sigma"),
    )
)


def fake_idata(n_obs: int = 20, seed: int = 0):
    """2 chains × 50 draws of (intercept, w[feature], sigma) and of y's posterior predictive,
    with an observed y: enough for every posterior figure."""
    import arviz as az

    rng = np.random.default_rng(seed)
    return az.from_dict(
        {
            "posterior": {
                "intercept": rng.normal(size=(2, 50)),
                "w": rng.normal(size=(2, 50, len(FEATS))),
                "sigma": np.abs(rng.normal(size=(2, 50))) + 0.1,
            },
            "posterior_predictive": {"y": rng.normal(size=(2, 50, n_obs))},
            "observed_data": {"y": rng.normal(size=n_obs)},
        },
        dims={"w": ["feature"], "y": ["obs"]},
        coords={"feature": FEATS},
    )
