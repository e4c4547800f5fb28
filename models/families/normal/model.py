"""The normal family's PyMC model: the preconditioned basis and the sufficient statistics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from nll_losses.models.content_cache import ContentCache, digest
from nll_losses.models.families.normal.spec import NAME, NormalSpec, _to_params
from nll_losses.models.family import (
    Built,
    Problem,
    basis_laplace,
)
from nll_losses.models.numerics import linalg as la


# ----------------------------------------------------------------------------- PyMC model
def structure_key(X, spec: NormalSpec) -> tuple:
    """What forces a new graph (and a new Numba compile): the number of features, intercept,
    sigma known.  Not n: the likelihood reads the data only through sufficient statistics of
    fixed shape (``sufficient_statistics``), so any n is a ``pm.set_data`` away."""
    k = np.shape(X)[1]
    return (NAME, k, spec.intercept, spec.sigma_known is not None)


@dataclass(frozen=True)
class SufficientStatistics:
    """The Gaussian likelihood's dependence on the data, in the model's basis.

    With ``z = (y - offset) / s_y`` and the basis ``Q`` (n x p, ``mu = offset + s_y Q phi``)::

        ||z - Q phi||^2 = rss_min + ||R (phi - phi_hat)||^2     (exact for every phi)

    where ``phi_hat`` minimises the left side, ``rss_min`` is its minimum (both from the rows,
    so nothing cancels) and ``R`` is the Cholesky factor of ``Q'Q`` (the identity to rounding,
    since ``Q`` has orthonormal columns).  The Gaussian log density of all n rows is then
    ``-n/2 log(2 pi sigma^2) - s_y^2 (rss_min + ||R (phi - phi_hat)||^2) / (2 sigma^2)``: a
    function of (R, phi_hat, rss_min, n), O(p^2) per evaluation instead of O(n p), and free of
    the cancellation in ``y'y - 2 b'X'y + b'X'X b`` (whose terms are ~n times larger than
    their sum at the mode)."""

    chol: np.ndarray  # R (p x p, upper triangular), R'R = Q'Q
    phi_hat: np.ndarray  # (p,)
    rss_min: float  # ||z - Q phi_hat||^2, standardised units
    n: int


def sufficient_statistics(Q: np.ndarray, z: np.ndarray) -> SufficientStatistics:
    """``SufficientStatistics`` of the standardised target ``z`` in the basis ``Q`` (one
    step of iterative refinement on the normal equations of the well-conditioned ``Q``)."""
    Q = np.asarray(Q, dtype=float)
    z = np.asarray(z, dtype=float)
    n, p = Q.shape
    G = Q.T @ Q
    R = np.linalg.cholesky(G).T if p else np.zeros((0, 0))
    phi = np.zeros(p)
    r = z.copy()
    for _ in range(2):  # G ~ I: the first solve is already accurate; the second refines it
        if p:
            phi = phi + sla.cho_solve((R, False), Q.T @ r)
        r = z - Q @ phi
    return SufficientStatistics(chol=R, phi_hat=phi, rss_min=float(r @ r), n=n)


@dataclass(frozen=True)
class _DataSummary:
    """What the model reads from one data set (X, y, intercept): the basis (``M``, ``p``), the
    standardisation of y and the sufficient statistics.  Small arrays only (p x p)."""

    M: np.ndarray
    p: int
    n: int
    m0: np.ndarray
    scale_y: float
    suff: SufficientStatistics


# One summary per data set: find_MAP and NUTS under every prior build the model from the same
# X and y, and each summary costs an n-row QR and a few n x p passes (seconds at n = 10⁶).
_SUMMARIES = ContentCache(size=4)


def _summary(X, y, intercept: bool) -> _DataSummary:
    X = np.ascontiguousarray(X, dtype=float)
    y = np.ascontiguousarray(y, dtype=float)
    key = digest(X, y, extra=("normal model data", bool(intercept)))
    return _SUMMARIES.get(key, lambda: _summarise(X, y, intercept))


def _summarise(X, y, intercept: bool) -> _DataSummary:
    A = la.design(X, intercept)
    n, p = A.shape
    pre = la.precondition(A, intercept)
    centre = y.mean() if intercept else 0.0
    scale_y = float(np.sqrt(np.mean((y - centre) ** 2)))
    if not scale_y > 0:
        scale_y = 1.0
    m0 = np.zeros(p)
    if intercept:
        m0[0] = centre
    offset = np.asarray(A.astype(np.longdouble) @ m0.astype(np.longdouble), dtype=float)
    suff = sufficient_statistics(pre.Q, (y - offset) / scale_y)
    for shared in (pre.M, m0, suff.chol, suff.phi_hat):  # cached: shared by every caller
        shared.setflags(write=False)
    return _DataSummary(M=pre.M, p=p, n=n, m0=m0, scale_y=scale_y, suff=suff)


def model_data(X, y, spec: NormalSpec) -> tuple[dict, int]:
    """Values for every ``pm.Data`` of the model (from X, y and the priors; never from an
    estimate of another method), and the number of coefficients p.  The data enter only
    through their sufficient statistics (``SufficientStatistics``): every value has a shape
    that does not depend on n, and they are computed once per data set (``_summary``)."""
    summ = _summary(X, y, spec.intercept)
    p, n, m0, scale_y, suff = summ.p, summ.n, summ.m0, summ.scale_y, summ.suff
    tau = spec.prior_scales(p)
    prec = np.where(np.isfinite(tau), 1.0 / tau**2, 0.0)
    data = {
        "basis_to_coef": scale_y * summ.M,
        "coef_offset": m0.copy(),
        "prior_precision": prec,
        "scale_y": np.asarray(scale_y),
        "suff_chol": suff.chol.copy(),
        "suff_phi_hat": suff.phi_hat.copy(),
        "suff_rss_min": np.asarray(suff.rss_min),
        "n_obs": np.asarray(float(n)),
    }
    if spec.sigma_known is not None:
        data["sigma_known"] = np.asarray(float(spec.sigma_known))
    else:
        S = spec.sigma_prior_scale
        data["sigma_prior_precision"] = np.asarray(0.0 if S is None else 1.0 / S**2)
    return data, p


def loglik_graph(phi, sigma, d: dict):
    """The Gaussian log density of all n rows from the sufficient statistics (symbolic;
    ``d`` maps the ``model_data`` names to tensors).  The same expression in NumPy is
    :func:`loglik_sufficient`."""
    import pytensor.tensor as pt

    dev = pt.dot(d["suff_chol"], phi - d["suff_phi_hat"])
    rss = d["scale_y"] ** 2 * (d["suff_rss_min"] + pt.sum(dev**2))
    n = d["n_obs"]
    return -0.5 * n * np.log(2 * np.pi) - n * pt.log(sigma) - rss / (2 * sigma**2)


def loglik_sufficient(phi, sigma, data: dict) -> float:
    """:func:`loglik_graph` in NumPy (tests compare it with the row-wise Normal density)."""
    dev = data["suff_chol"] @ (np.asarray(phi, float) - data["suff_phi_hat"])
    rss = float(data["scale_y"]) ** 2 * (float(data["suff_rss_min"]) + float(dev @ dev))
    n = float(data["n_obs"])
    return float(-0.5 * n * np.log(2 * np.pi) - n * np.log(sigma) - rss / (2 * sigma**2))


def build_model(problem: Problem) -> Built:
    """The PyMC model (see the module docstring); every input that may change is ``pm.Data``.

    The likelihood is a ``pm.Potential`` of the sufficient statistics (``loglik_graph``), equal
    to the sum of the rows' Normal log densities
    (tests/models/families/normal/test_normal_sufficient.py), so the model has no observed
    variable: the posterior predictive draws come from ``Built.extra["predictive"]`` (NumPy,
    for the rows asked for)."""
    import pymc as pm
    import pytensor.tensor as pt

    spec = problem.spec
    data, p = model_data(problem.X, problem.y, spec)
    coords = {"feature": list(problem.features), "basis": list(range(p))}
    with pm.Model(coords=coords) as model:
        d = {name: pm.Data(name, value) for name, value in data.items() if name != "sigma_known"}
        phi = pm.Flat("phi", dims="basis")
        beta = d["coef_offset"] + pt.dot(d["basis_to_coef"], phi)
        if spec.intercept:
            pm.Deterministic("intercept", beta[0])
            pm.Deterministic("w", beta[1:], dims="feature")
        else:
            pm.Deterministic("w", beta, dims="feature")
        # N(0, tau_j^2) priors on the original-scale coefficients; precision 0 = Flat.
        pm.Potential("coef_prior", -0.5 * pt.sum(d["prior_precision"] * beta**2))
        if spec.sigma_known is not None:
            sigma = pm.Data("sigma_known", data["sigma_known"])
        else:
            sigma_prec = d["sigma_prior_precision"]
            sigma_std = pm.HalfFlat("sigma_std")
            sigma = pm.Deterministic("sigma", d["scale_y"] * sigma_std)
            # HalfNormal(S) on sigma up to a constant; 1/S^2 = 0 = HalfFlat.
            pm.Potential("sigma_prior", -0.5 * sigma_prec * sigma**2)
        pm.Potential("loglik", loglik_graph(phi, sigma, d))

    def predictive(post, rows: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Replicated y at the data's ``rows`` for every draw of ``post`` (chain, draw, rows):
        mu = intercept + x . w under the draw plus Normal(0, sigma) noise."""
        phi_draws = np.asarray(post["phi"].transpose("chain", "draw", "basis").values, float)
        beta = data["coef_offset"] + phi_draws @ data["basis_to_coef"].T
        mu = beta @ la.design(np.asarray(problem.X)[rows], spec.intercept).T
        if spec.sigma_known is not None:
            sig = np.full(mu.shape[:2], float(spec.sigma_known))
        else:
            sig = np.asarray(post["sigma"].transpose("chain", "draw").values, float)
        return mu + sig[..., None] * rng.standard_normal(mu.shape)

    return Built(
        model=model,
        key=structure_key(problem.X, spec),
        data=data,
        observed="y",
        extra={
            "basis_to_coef": data["basis_to_coef"],
            "predictive": predictive,
            "observed_values": np.asarray(problem.y, dtype=float),
        },
    )


def laplace_sd(fit, built: Built, point, problem: Problem) -> dict[str, float]:
    """Laplace sd on the original scale from the exact inverse Hessian at the mode.

    ``fit.covariance_matrix`` is in the unconstrained space (phi, log sigma_std).  The map to
    the coefficients is linear, beta = m0 + s_y M phi, so Cov(beta) = (s_y M) Cov(phi) (s_y M)^T
    exactly; sigma = s_y exp(u) is treated to first order: sd(sigma) = sigma * sd(u).
    """
    sd_beta, labels, cov = basis_laplace(fit, built.extra["basis_to_coef"])
    sigma = None
    if problem.spec.sigma_known is None and "sigma_std_log__" in labels:
        j = labels.index("sigma_std_log__")
        sigma = float(point["sigma"]) * np.sqrt(cov[j, j])
    return _to_params(sd_beta, sigma, problem)
