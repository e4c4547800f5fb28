"""Cross-entropy is the categorical negative log-likelihood (softmax regression), and minimising
it is minimising KL(data ‖ model).

    python -m nll_losses.analyses.scripts.cross_entropy_is_categorical_nll [--n 300] [--tau 1]
        [--draws 1000]

Flat priors fix the baseline class's logits at 0: find_MAP is the MLE (statsmodels MNLogit).
N(0, τ²) on all K weight vectors: find_MAP is LogisticRegression(C = τ²).  At any logits:
NLL = n · log_loss, and without features NLL/n = H(p̂, q) = H(p̂) + KL(p̂ ‖ q)."""

import argparse

import matplotlib.pyplot as plt
import numpy as np
import pymc as pm
import pytensor.tensor as pt
import statsmodels.api as sm
from scipy import stats
from scipy.special import log_softmax, softmax
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import log_loss


def fit(X, y, K, tau=None, draws=None, seed=0):
    """find_MAP of softmax regression, flat with class 0's logits at 0 (tau None: the K - 1
    contrasts) or all K weight vectors ~ N(0, τ²) (scikit-learn's multinomial L2); NUTS of W."""
    d = X.shape[1]
    with pm.Model():
        b = pt.concatenate([pt.zeros(1), pm.Flat("b", shape=K - 1)])  # log-odds against class 0
        if tau is None:
            W = pt.concatenate([pt.zeros((d, 1)), pm.Flat("W", shape=(d, K - 1))], 1)
        else:
            W = pm.Normal("W", 0, tau, shape=(d, K))
        pm.Categorical("y", logit_p=b + pm.math.dot(X, W), observed=y)
        mp = pm.find_MAP(jitter=False, progressbar=False, tol=1e-12, return_inferencedata=True)
        mode = mp.posterior["W"].values[0, 0]
        if draws is None:
            return mode, None
        idata = pm.sample(draws, tune=draws, chains=2, random_seed=seed, progressbar=False)
    return mode, idata.posterior["W"].values.reshape(-1, d, K)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for flag, default in (("--n", 300), ("--tau", 1.0), ("--draws", 1000), ("--seed", 0)):
        p.add_argument(flag, type=type(default), default=default)
    p.add_argument("--out", default="cross_entropy_is_categorical_nll.png")
    a = p.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    X, K = rng.normal(size=(a.n, 2)), 3
    y = np.array([rng.choice(K, p=q) for q in softmax(X @ [[0, 1.5, -1], [0, -1, 2]], axis=1)])

    (mle, _), (map_, post) = fit(X, y, K), fit(X, y, K, a.tau, a.draws, a.seed)
    mn = sm.MNLogit(y, sm.add_constant(X)).fit(method="newton", tol=1e-12, disp=0).params[1:]
    lr = LogisticRegression(C=a.tau**2, solver="newton-cholesky", tol=1e-12).fit(X, y).coef_.T
    print("weight  MNLogit  MLE (find_MAP)  LogisticRegression(C=τ²)  MAP  posterior")
    for (j, k), m in zip(np.ndindex(2, K), post.reshape(-1, 2 * K).T, strict=True):
        flat = f"{mn[j, k - 1]:9.6f}  {mle[j, k - 1]:14.6f}" if k else " " * 25  # contrasts
        print(f"W[{j},{k}]  {flat}  {lr[j, k]:24.6f}  {map_[j, k]:.6f}  ", end="")
        print(f"{m.mean():.3f} ± {m.std():.3f}")

    # NLL = n · log_loss at 50 arbitrary logits; without features NLL/n = H(p̂) + KL(p̂ ‖ q)
    Zs = [rng.normal(scale=2, size=(a.n, K)) for _ in range(50)]
    nll = np.array([-log_softmax(Z, axis=1)[np.arange(a.n), y].sum() for Z in Zs])
    ce = np.array([a.n * log_loss(y, softmax(Z, axis=1), labels=range(K)) for Z in Zs])
    print(f"max |NLL − n·log_loss| at 50 random logits: {np.abs(nll - ce).max():.1e}")
    phat = np.bincount(y, minlength=K) / a.n
    qs = rng.dirichlet(np.ones(K), size=50)
    gap = max(abs(-np.log(q)[y].mean() - stats.entropy(phat) - stats.entropy(phat, q)) for q in qs)
    print(f"max |NLL/n − (H(p̂) + KL(p̂‖q))| at 50 random q: {gap:.1e}")

    fig, ax = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
    ax[0].scatter(ce, nll, s=12)
    ax[0].axline((nll.min(), nll.min()), slope=1, color="k", lw=0.8)
    ax[0].set(xlabel="n · cross-entropy", ylabel="categorical NLL", title="CE is the NLL")
    contrast = post[:, 0, 1] - post[:, 0, 0]
    ax[1].hist(contrast, bins=40, density=True, alpha=0.5, label="NUTS posterior")
    ax[1].axvline(map_[0, 1] - map_[0, 0], color="C1", label="MAP = LogisticRegression(C=τ²)")
    ax[1].axvline(mle[0, 0], color="C2", ls="--", label="MLE = MNLogit")
    top = 1.4 * ax[1].get_ylim()[1]  # room for the legend
    title = f"N(0, {a.tau:g}²) prior on all K weight vectors"
    ax[1].set(xlabel="W[0,1] − W[0,0]", title=title, ylim=(0, top))
    ax[1].legend(fontsize="small")
    fig.savefig(a.out, dpi=144)
    print(f"figure: {a.out}")


if __name__ == "__main__":
    main()
