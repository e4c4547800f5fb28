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


def fit(X, y, tau=None, draws=None, seed=0):
    """find_MAP of y ~ Bernoulli(sigmoid(b + Xw)), w flat (tau None) or ~ N(0, τ²); NUTS of w."""
    d = X.shape[1]
    with pm.Model():
        w = pm.Flat("w", shape=d) if tau is None else pm.Normal("w", 0, tau, shape=d)
        pm.Bernoulli("y", logit_p=pm.Flat("b") + pm.math.dot(X, w), observed=y)
        mp = pm.find_MAP(jitter=False, progressbar=False, tol=1e-12, return_inferencedata=True)
        mode = mp.posterior["w"].values[0, 0]
        if draws is None:
            return mode, None
        idata = pm.sample(draws, tune=draws, chains=2, random_seed=seed, progressbar=False)
    return mode, idata.posterior["w"].values.reshape(-1, d)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, default in (("--n", 200), ("--tau", 0.5), ("--draws", 1000), ("--seed", 0)):
        p.add_argument(flag, type=type(default), default=default)
    p.add_argument("--out", default="bce_is_bernoulli_nll.png")
    a = p.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    X = rng.normal(size=(a.n, 2))
    y = rng.binomial(1, expit(-0.5 + X @ np.array([1.5, -1.0])))

    (mle, _), (map_, post) = fit(X, y), fit(X, y, a.tau, a.draws, a.seed)
    logit = sm.Logit(y, sm.add_constant(X)).fit(disp=0, tol=1e-12).params[1:]
    lr = LogisticRegression(C=a.tau**2, solver="newton-cholesky", tol=1e-12).fit(X, y).coef_[0]
    print("weight  statsmodels Logit  MLE (find_MAP)  LogisticRegression(C=τ²)  MAP  posterior")
    for j, m in enumerate(post.T):
        print(f"w[{j}]  {logit[j]:17.6f}  {mle[j]:14.6f}  {lr[j]:24.6f}  ", end="")
        print(f"{map_[j]:.6f}  {m.mean():.3f} ± {m.std():.3f}")

    # the identity at 50 arbitrary (b, w): the Bernoulli NLL from scipy against n · log_loss
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
    ax[1].axvline(map_[0], color="C1", label="MAP = LogisticRegression(C=τ²)")
    ax[1].axvline(mle[0], color="C2", ls="--", label="MLE = Logit")
    top = 1.4 * ax[1].get_ylim()[1]  # room for the legend
    ax[1].set(xlabel="w[0]", title=f"N(0, {a.tau:g}²) prior on the weights", ylim=(0, top))
    ax[1].legend(fontsize="small")
    fig.savefig(a.out, dpi=144)
    print(f"figure: {a.out}")


if __name__ == "__main__":
    main()
