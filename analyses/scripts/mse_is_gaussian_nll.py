"""MSE is the Gaussian negative log-likelihood; weight decay is a Gaussian prior (ridge).

    python -m nll_losses.analyses.scripts.mse_is_gaussian_nll [--n 100] [--tau 0.5] [--draws 1000]

Flat priors: find_MAP is least squares.  w ~ N(0, τ²): find_MAP is ridge regression with
alpha = σ²/τ² (σ at the MAP).  At any (b, w, σ): NLL = n/(2σ²)·MSE + (n/2)·log(2πσ²)."""

import argparse

import matplotlib.pyplot as plt
import numpy as np
import pymc as pm
from scipy import stats
from sklearn.linear_model import Ridge


def fit(X, y, tau=None, draws=None, seed=0):
    """find_MAP of y ~ N(b + Xw, σ²), w flat (tau None) or ~ N(0, τ²); NUTS draws of w."""
    d = X.shape[1]
    with pm.Model():
        w = pm.Flat("w", shape=d) if tau is None else pm.Normal("w", 0, tau, shape=d)
        pm.Normal("y", pm.Flat("b") + pm.math.dot(X, w), pm.HalfFlat("sigma"), observed=y)
        mp = pm.find_MAP(jitter=False, progressbar=False, tol=1e-12, return_inferencedata=True)
        mode = {v: mp.posterior[v].values[0, 0] for v in ("w", "sigma")}  # no Jacobian: σ̂² = SSE/n
        if draws is None:
            return mode, None
        idata = pm.sample(draws, tune=draws, chains=2, random_seed=seed, progressbar=False)
    return mode, idata.posterior["w"].values.reshape(-1, d)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, default in (("--n", 100), ("--tau", 0.5), ("--draws", 1000), ("--seed", 0)):
        p.add_argument(flag, type=type(default), default=default)
    p.add_argument("--out", default="mse_is_gaussian_nll.png")
    a = p.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    X = rng.normal(size=(a.n, 3))
    y = 1.0 + X @ np.array([2.0, -1.0, 0.5]) + rng.normal(0, 1.5, a.n)

    (mle, _), (map_, post) = fit(X, y), fit(X, y, a.tau, a.draws, a.seed)
    ols = np.linalg.lstsq(np.c_[np.ones(a.n), X], y, rcond=None)[0][1:]
    ridge = Ridge(alpha=map_["sigma"] ** 2 / a.tau**2).fit(X, y).coef_
    print("weight  least squares  MLE (find_MAP)  ridge(alpha=σ²/τ²)  MAP (find_MAP)  posterior")
    for j, m in enumerate(post.T):
        print(f"w[{j}]  {ols[j]:13.6f}  {mle['w'][j]:14.6f}  {ridge[j]:18.6f}  ", end="")
        print(f"{map_['w'][j]:14.6f}  {m.mean():.3f} ± {m.std():.3f}")

    # the identity at 50 arbitrary (b, w, σ): scipy's NLL against n/(2σ²)·MSE + (n/2)·log(2πσ²)
    W, B, S = rng.normal(size=(50, 3)), rng.normal(size=50), rng.uniform(0.5, 3, 50)
    mu = B[:, None] + W @ X.T  # (50, n): the mean at each point
    nll = -stats.norm.logpdf(y, mu, S[:, None]).sum(axis=1)
    mse = np.mean((y - mu) ** 2, axis=1)
    affine = a.n / (2 * S**2) * mse + a.n / 2 * np.log(2 * np.pi * S**2)
    gap = np.abs(nll - affine).max()
    print(f"max |NLL − (n/(2σ²)·MSE + n/2·log 2πσ²)| at 50 random points: {gap:.1e}")

    fig, ax = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    ax[0].scatter(affine, nll, s=12)
    ax[0].axline((nll.min(), nll.min()), slope=1, color="k", lw=0.8)
    ax[0].set(xlabel="n/(2σ²)·MSE + (n/2)·log(2πσ²)", ylabel="Gaussian NLL", title="MSE is the NLL")
    ax[1].hist(post[:, 0], bins=40, density=True, alpha=0.5, label="NUTS posterior")
    ax[1].axvline(map_["w"][0], color="C1", label="MAP = ridge")
    ax[1].axvline(mle["w"][0], color="C2", ls="--", label="MLE = least squares")
    top = 1.4 * ax[1].get_ylim()[1]  # room for the legend
    ax[1].set(xlabel="w[0]", title=f"N(0, {a.tau:g}²) prior on the weights", ylim=(0, top))
    ax[1].legend()
    fig.savefig(a.out, dpi=144)
    print(f"figure: {a.out}")


if __name__ == "__main__":
    main()
