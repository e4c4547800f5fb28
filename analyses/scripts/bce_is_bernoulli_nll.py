"""Binary cross-entropy is the Bernoulli negative log-likelihood; weight decay is a Gaussian prior.

    python -m nll_losses.analyses.scripts.bce_is_bernoulli_nll [--n 200] [--tau 0.5] [--draws 1000]

Flat priors: find_MAP is the MLE (statsmodels Logit).  w ~ N(0, τ²) with a flat intercept:
find_MAP is LogisticRegression(C = τ²).  At any (b, w): NLL = n · log_loss(y, sigmoid(z))."""

import argparse

import matplotlib.pyplot as plt
import numpy as np
import pymc as pm
import statsmodels.api as sm
from scipy import stats
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss


def model(X, y, tau=None):
    with pm.Model() as m:
        b = pm.Flat("b")
        shape = X.shape[1]
        w = pm.Flat("w", shape=shape) if tau is None else pm.Normal("w", 0, tau, shape=shape)
        pm.Bernoulli("y", logit_p=b + pm.math.dot(X, w), observed=y)
    return m


def mode(m):
    mp = pm.find_MAP(model=m, return_inferencedata=True, jitter=False, progressbar=False, tol=1e-12)
    return {v: mp.posterior[v].values.ravel() for v in ("b", "w")}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=200)
    p.add_argument("--tau", type=float, default=0.5)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default="bce_is_bernoulli_nll.png")
    a = p.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    X = rng.normal(size=(a.n, 2))
    y = rng.binomial(1, expit(-0.5 + X @ np.array([1.5, -1.0])))

    mle, logit = mode(model(X, y)), sm.Logit(y, sm.add_constant(X)).fit(disp=0, tol=1e-12)
    map_ = mode(model(X, y, a.tau))
    lr = LogisticRegression(C=a.tau**2, solver="newton-cholesky", tol=1e-12).fit(X, y)
    with model(X, y, a.tau):
        idata = pm.sample(a.draws, tune=a.draws, chains=2, random_seed=a.seed, progressbar=False)
    post = idata.posterior["w"].values.reshape(-1, 2)
    print("weight  statsmodels Logit  MLE (find_MAP)  LogisticRegression(C=τ²)  MAP  posterior")
    for j in range(2):
        print(
            f"w[{j}]  {logit.params[j + 1]:17.6f}  {mle['w'][j]:14.6f}  {lr.coef_[0, j]:24.6f}  "
            f"{map_['w'][j]:.6f}  {post[:, j].mean():.3f} ± {post[:, j].std():.3f}"
        )

    # the identity at arbitrary parameters: the Bernoulli NLL from scipy against n · log_loss
    W, B = rng.normal(size=(50, 2)), rng.normal(size=50)
    Z = B[:, None] + W @ X.T  # (50, n): the logits at each point
    nll = -stats.bernoulli.logpmf(y, expit(Z)).sum(axis=1)
    bce = np.array([a.n * log_loss(y, expit(z), labels=[0, 1]) for z in Z])
    print(f"max |NLL − n·log_loss| at 50 random points: {np.abs(nll - bce).max():.1e}")

    fig, ax = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    ax[0].scatter(bce, nll, s=12)
    ax[0].axline((nll.min(), nll.min()), slope=1, color="k", lw=0.8)
    ax[0].set(xlabel="n · binary cross-entropy", ylabel="Bernoulli NLL", title="BCE is the NLL")
    ax[1].hist(post[:, 0], bins=40, density=True, alpha=0.5, label="NUTS posterior")
    ax[1].axvline(map_["w"][0], color="C1", label="MAP = LogisticRegression(C=τ²)")
    ax[1].axvline(mle["w"][0], color="C2", ls="--", label="MLE = Logit")
    ax[1].set(xlabel="w[0]", title=f"N(0, {a.tau:g}²) prior on the weights")
    ax[1].set_ylim(top=1.4 * ax[1].get_ylim()[1])  # room for the legend
    ax[1].legend(fontsize="small")
    fig.savefig(a.out, dpi=144)
    print(f"figure: {a.out}")


if __name__ == "__main__":
    main()
