"""The family's declared (estimator x prior) matrix, checked against the estimates a run
produced (``Estimate`` objects in-process, or the dicts of results.json)."""

from nll_losses.analyses.problems import make_problem
from nll_losses.models import get_family


def _get(est, field):
    return est[field] if isinstance(est, dict) else getattr(est, field)


def check_estimator_matrix(config, data, estimates) -> None:
    """Offered and supported: ran ok and estimated the parameters its reference declares;
    offered but unsupported here: unavailable with a reason; not offered: absent."""
    family = get_family(config.family)
    refs = family.references()
    for prior in config.priors or family.default_priors(config.settings):
        problem = make_problem(family, data, config.settings, prior)
        for method in family.methods:
            key = f"{method}_{prior}"
            support = family.supports(method, problem)
            if not support.offered:
                assert key not in estimates, key
                continue
            est = estimates[key]
            if not support.ok:
                assert _get(est, "status") == "unavailable" and _get(est, "reason"), key
                continue
            assert _get(est, "status") == "ok", (key, _get(est, "reason"))
            expected = (
                set(refs[method].estimated(problem))
                if method in refs
                else set(problem.layout.names)
            )
            assert set(_get(est, "mean")) == expected, key
