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


def model(X, y, tau=None):
    with pm.Model() as m:
        b = pm.Flat("b")
        shape = X.shape[1]
        w = pm.Flat("w", shape=shape) if tau is None else pm.Normal("w", 0, tau, shape=shape)
        sigma = pm.HalfFlat("sigma")
        pm.Normal("y", b + pm.math.dot(X, w), sigma, observed=y)
    return m


def mode(m):  # no Jacobian: the mode of the density as written (σ's MLE is sqrt(SSE/n))
    mp = pm.find_MAP(model=m, return_inferencedata=True, jitter=False, progressbar=False, tol=1e-12)
    return {v: mp.posterior[v].values.ravel() for v in ("b", "w", "sigma")}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=100)
    p.add_argument("--tau", type=float, default=0.5)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="mse_is_gaussian_nll.png")
    a = p.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    X = rng.normal(size=(a.n, 3))
    y = 1.0 + X @ np.array([2.0, -1.0, 0.5]) + rng.normal(0, 1.5, a.n)

    mle, ols = mode(model(X, y)), np.linalg.lstsq(np.c_[np.ones(a.n), X], y, rcond=None)[0]
    map_ = mode(model(X, y, a.tau))
    ridge = Ridge(alpha=map_["sigma"][0] ** 2 / a.tau**2).fit(X, y)
    with model(X, y, a.tau):
        idata = pm.sample(a.draws, tune=a.draws, chains=2, random_seed=a.seed, progressbar=False)
    post = idata.posterior["w"].values.reshape(-1, 3)
    print("weight  least squares  MLE (find_MAP)  ridge(alpha=σ²/τ²)  MAP (find_MAP)  posterior")
    for j in range(3):
        print(
            f"w[{j}]  {ols[j + 1]:13.6f}  {mle['w'][j]:14.6f}  {ridge.coef_[j]:18.6f}  "
            f"{map_['w'][j]:14.6f}  {post[:, j].mean():.3f} ± {post[:, j].std():.3f}"
        )

    # the identity at arbitrary parameters: the NLL from scipy against n/(2σ²)·MSE + const
    W, B, S = rng.normal(size=(50, 3)), rng.normal(size=50), rng.uniform(0.5, 3, 50)
    mu = B[:, None] + W @ X.T  # (50, n): the mean at each point
    mse = np.mean((y - mu) ** 2, axis=1)
    nll = -stats.norm.logpdf(y, mu, S[:, None]).sum(axis=1)
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
    ax[1].set(xlabel="w[0]", title=f"N(0, {a.tau:g}²) prior on the weights")
    ax[1].set_ylim(top=1.4 * ax[1].get_ylim()[1])  # room for the legend
    ax[1].legend()
    fig.savefig(a.out, dpi=144)
    print(f"figure: {a.out}")


if __name__ == "__main__":
    main()
