"""models/numerics/softmax.py against independent references: scikit-learn log_loss, scipy.stats
entropy, statsmodels MNLogit (MLE and standard errors), scikit-learn's multinomial L2
LogisticRegression (MAP, compared on identifiable contrasts), a generic minimiser."""

import numpy as np
import pytest
from scipy import optimize
from scipy.special import softmax
from tolerances import ARITH_RTOL, FIND_MAP_RTOL

from nll_losses.models.numerics import softmax as sm_

# statsmodels' and scikit-learn's own stopping rules are the weak side of these comparisons:
# MNLogit Newton stops at |step| <= 1e-10-ish, lbfgs at gtol 1e-12 on a mean loss; measured
# agreement with our Newton 1e-8..1e-7 relative to max(|coef|, sd).  Standard errors from
# the Hessian at the two (nearly equal) optima: 1e-5 relative, as in test_bernoulli.
SE_RTOL = 1e-5


def _data(seed=0, n=300):
    """Three overlapping classes in 2-D drawn from a softmax model (an MLE exists; iris's
    setosa is separable, so its MLE does not)."""
    rng = np.random.default_rng(seed)
    A = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    B = np.array([[0.0, 0.3, -0.2], [0.0, 1.0, -0.5], [0.0, -0.4, 0.8]])
    P = softmax(A @ B, axis=1)
    y = np.array([rng.choice(3, p=p) for p in P])
    return A, y


def test_two_framework_losses_agree_with_log_loss():
    from sklearn.metrics import log_loss

    rng = np.random.default_rng(3)
    Z = rng.normal(scale=3.0, size=(50, 4))
    y = rng.integers(0, 4, 50)
    ce = sm_.ce_from_logits(y, Z)
    assert abs(ce - sm_.nll_of_log_softmax(y, Z)) <= ARITH_RTOL * 50 * ce
    assert abs(ce - sm_.nll_pmf(y, softmax(Z, axis=1))) <= ARITH_RTOL * 50 * ce
    assert abs(ce - 50 * log_loss(y, softmax(Z, axis=1), labels=range(4))) <= 1e-12 * ce


def test_cross_entropy_stable_at_extreme_logits():
    Z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 0.0]])
    y = np.array([1, 1])  # row 0: the observed class has logit -1000, 2000 below the best
    ce = sm_.ce_from_logits(y, Z)
    assert ce == pytest.approx(2000.0, rel=1e-15)
    assert sm_.nll_of_log_softmax(y, Z) == pytest.approx(2000.0, rel=1e-15)
    # the naive route through probabilities underflows to p = 0 and returns inf
    assert sm_.nll_pmf(y, softmax(Z, axis=1)) == np.inf


def test_information_identity_and_frequencies_are_the_mle():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 200)
    for q in (np.array([0.2, 0.5, 0.3]), np.array([1 / 3] * 3), np.array([0.01, 0.01, 0.98])):
        sides = list(sm_.information_identity(y, q).values())
        assert max(sides) - min(sides) <= 1e-14 * max(sides)
    p_hat = sm_.class_frequencies(y, 3)
    # KL(p_hat || q) >= 0 with equality at q = p_hat: the frequencies minimise the NLL
    res = optimize.minimize(
        lambda a: sm_.cross_entropy(p_hat, softmax(a)), np.zeros(3), method="BFGS", tol=1e-12
    )
    assert np.allclose(softmax(res.x), p_hat, atol=1e-6)


def test_dirichlet_posterior_mode_and_mean():
    from scipy.stats import dirichlet

    y = np.array([0] * 7 + [1] * 2 + [2] * 11)
    alpha = np.array([2.0, 3.0, 1.5])
    mode, mean = sm_.dirichlet_map_and_mean(y, alpha)
    post = alpha + np.bincount(y, minlength=3)
    assert np.allclose(mean, dirichlet.mean(post), rtol=1e-15)

    def neg_log_density(a):  # q = softmax(0, a) is a bijection: same maximiser as over q
        return -dirichlet.logpdf(softmax(np.r_[0.0, a]), post)

    res = optimize.minimize(neg_log_density, np.zeros(2), method="BFGS", tol=1e-12)
    assert np.allclose(softmax(np.r_[0.0, res.x]), mode, atol=1e-7)


def test_newton_mle_matches_statsmodels_mnlogit():
    import statsmodels.api as sm

    A, y = _data()
    fit = sm_.newton(A, y, 3, baseline=0)
    assert fit.converged
    res = sm.MNLogit(y, A).fit(method="newton", maxiter=200, tol=1e-14, disp=0)
    # statsmodels: params (p x K-1), class 0 the baseline
    ours = fit.B[:, 1:]
    sd = fit.sd()[:, 1:]
    assert np.all(np.abs(ours - res.params) <= FIND_MAP_RTOL * np.maximum(np.abs(ours), sd))
    assert np.allclose(sd, res.bse, rtol=SE_RTOL)


@pytest.mark.parametrize("baseline", [0, 2])
def test_newton_map_matches_sklearn_on_contrasts(baseline):
    from sklearn.linear_model import LogisticRegression

    A, y = _data()
    tau = 0.7
    prec = np.r_[0.0, np.full(A.shape[1] - 1, 1 / tau**2)]
    fit = sm_.newton(A, y, 3, baseline=baseline, precision=prec)
    assert fit.converged
    # the L2 optimum over all K weight vectors has sum_k W_k = 0 (stationarity in W + c)
    assert np.all(np.abs(fit.B[1:].sum(axis=1)) <= 1e-10 * np.abs(fit.B[1:]).max())
    # sklearn: mean log-loss + 1/(2 C n) ||W||^2, intercepts unpenalised -> C = tau^2
    clf = LogisticRegression(C=tau**2, tol=1e-12, max_iter=10000).fit(A[:, 1:], y)
    theirs = np.vstack([clf.intercept_, clf.coef_.T])  # (p, K)
    contrast = lambda B: B - B[:, [baseline]]  # noqa: E731  identifiable whatever the shift
    sd = np.sqrt(np.diag(fit.cov)).max()
    assert np.all(np.abs(contrast(fit.B) - contrast(theirs)) <= FIND_MAP_RTOL * max(sd, 1.0))
    # and the same predicted probabilities
    P_ours = softmax(A @ fit.B, axis=1)
    assert np.abs(P_ours - clf.predict_proba(A[:, 1:])).max() <= FIND_MAP_RTOL


def test_newton_matches_a_generic_minimiser():
    A, y = _data()
    prec = np.r_[0.0, 0.5, 0.5]
    fit = sm_.newton(A, y, 3, baseline=1, precision=prec)
    rows = [j for j, _ in fit.free]
    cols = [k for _, k in fit.free]

    def f(theta):
        B = np.zeros((3, 3))
        B[rows, cols] = theta
        return sm_.objective(A, y, B, prec)

    res = optimize.minimize(f, np.zeros(len(rows)), method="BFGS", tol=1e-12)
    sd = np.sqrt(np.diag(fit.cov))
    theta = fit.B[rows, cols]
    assert np.all(np.abs(theta - res.x) <= FIND_MAP_RTOL * np.maximum(np.abs(theta), sd))
    assert fit.objective <= res.fun + 1e-10 * abs(res.fun)


def test_mlp_classifier_minimises_our_network_objective_over_n():
    """n * MLPClassifier.loss_ is our objective at its weights (alpha = 1/tau^2): the mapping
    weight decay <-> Gaussian prior, biases unpenalised."""
    from sklearn.neural_network import MLPClassifier

    A, y = _data(seed=2, n=120)
    X, n, tau = A[:, 1:], len(y), 1.0
    clf = MLPClassifier(
        hidden_layer_sizes=(3,),
        activation="relu",
        solver="lbfgs",
        alpha=1 / tau**2,
        tol=1e-12,
        max_iter=20000,
        max_fun=100000,
        random_state=0,
    ).fit(X, y)
    (W1, W2), (b1, b2) = clf.coefs_, clf.intercepts_
    ours = sm_.network_objective(X, y, W1, b1, W2, b2, tau)
    # the same sum of n terms evaluated two ways (sklearn clips p to [eps, 1 - eps], inactive
    # here: the smallest predicted probability is far above eps)
    assert clf.predict_proba(X).min() > 1e-6
    assert abs(ours - n * clf.loss_) <= ARITH_RTOL * n * ours
    # and the probabilities our network gives at its weights are sklearn's
    P = softmax(sm_.network_logits(X, W1, b1, W2, b2), axis=1)
    assert np.abs(P - clf.predict_proba(X)).max() <= 1e-12
    # (not asserted: stationarity.  lbfgs as sklearn calls it stops on scipy's ftol before its
    # gtol; measured here max |d objective / d theta| = 0.7 at its answer, so a tighter
    # optimum exists -- the Categorical issue's multi-start find_MAP is compared on objective)
