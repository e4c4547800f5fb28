"""The categorical family's prior <-> penalty translations: the report's text rows and the library
settings with their fits."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from scipy.special import logsumexp, softmax

from nll_losses.models.families.categorical.network import network_params
from nll_losses.models.families.categorical.params import class_codes, classes_and_baseline
from nll_losses.models.families.categorical.references import sklearn_mlp
from nll_losses.models.families.categorical.regression import regression_params
from nll_losses.models.family import (
    Problem,
)
from nll_losses.models.libraries import SKLEARN_TOL, sklearn_logistic
from nll_losses.models.numerics import linalg as la
from nll_losses.models.translation import (
    LBFGS_OPTIONS,
    SGD,
    SKLEARN,
    STATSMODELS,
    Fitted,
    Translation,
    lambda_vector,
    lbfgs,
    weight_decay_groups,
)


def penalty_text(tau: float | None, n: int, library: str) -> list[dict]:
    """The report's prior <-> penalty rows; ``library``: the Gaussian prior's library setting
    (the variant's ``penalty_library``)."""
    rows = [{"prior": "flat (baseline logits 0)", "penalty": "none: LogisticRegression(C=np.inf)"}]
    if tau:
        rows.append(
            {
                "prior": f"W ~ Normal(0, {tau:g}²)",
                "penalty": f"+ Σ w²/(2τ²): {library}; weight decay on the mean cross-entropy "
                f"λ = 1/(nτ²) = {1 / (n * tau**2):.6g}",
            }
        )
    return rows


# ----------------------------------------------------------------------------- library rows
def softmax_rows(problem: Problem) -> list[Translation]:
    """Softmax regression under the Gaussian prior on all K weight vectors."""
    spec = problem.spec
    classes, base = classes_and_baseline(problem)
    K = len(classes)
    n = problem.n
    tau = spec.tau
    X = np.asarray(problem.X, float)
    y = class_codes(problem)
    A = la.design(X, spec.intercept)
    p = A.shape[1]
    C = tau**2
    lam = 1.0 / (n * tau**2)

    def logreg() -> Fitted:
        return Fitted(regression_params(problem, sklearn_logistic(X, y, C, spec.intercept)[0]))

    lam_rows = lambda_vector(p, spec.intercept, lam, 0.0)
    Y = np.eye(K)[y]

    def sgd() -> Fitted:
        def f(theta):
            B = theta.reshape(p, K)
            Z = A @ B
            val = np.mean(logsumexp(Z, axis=1) - Z[np.arange(n), y])
            val += 0.5 * np.sum(lam_rows[:, None] * B**2)
            G = A.T @ (softmax(Z, axis=1) - Y) / n + lam_rows[:, None] * B
            return val, G.ravel()

        theta, note = lbfgs(f, np.zeros(p * K))
        return Fitted(regression_params(problem, theta.reshape(p, K)), note=note)

    two = K == 2
    return [
        Translation(
            id="categorical:sklearn-logistic",
            library=SKLEARN,
            call=f"LogisticRegression(C={C:.6g}, solver='newton-cholesky', tol={SKLEARN_TOL:g})"
            " (multinomial)",
            parameter="C",
            formula="τ²",
            value=C,
            objective="C·Σ log-loss + ½Σₖ‖Wₖ‖² over all K weight vectors, intercepts "
            "unpenalised (sklearn/linear_model/_logistic.py: mean log-loss + "
            "‖W‖²/(2·C·n); multinomial for K ≥ 3 with every solver but liblinear) = τ² × our "
            "−log posterior + const",
            check="LogisticRegression fitted at this C; its weights (all K classes) and "
            "intercept contrasts compared with find_MAP's",
            fit=None if two else logreg,
            unavailable="scikit-learn fits two classes with one weight vector (a different prior)"
            if two
            else "",
        ),
        Translation(
            id="categorical:statsmodels",
            library=STATSMODELS,
            call="not available in statsmodels",
            parameter="alpha",
            formula="1/(nτ²) (its elastic-net convention, were there one)",
            value=lam,
            objective="−loglike/n + alpha·‖W‖²/2 would be the convention (as GLM."
            "fit_regularized); statsmodels has no multinomial L2 fit",
            check="not fitted: no such fit exists",
            fit=None,
            unavailable="not available in statsmodels: MNLogit.fit_regularized is L1 only "
            "(method 'l1' or 'l1_cvxopt_cp', statsmodels/discrete/discrete_model.py), and its "
            "K − 1 contrast parametrisation would put the prior on contrasts (a different "
            "prior); GLM has no multinomial family",
        ),
        Translation(
            id="categorical:sgd-ce",
            library=SGD,
            call="torch.optim.SGD("
            f"weight_decay={lam:.6g}{weight_decay_groups(None, spec.intercept)}) on "
            "CrossEntropyLoss() (mean)",
            parameter="weight_decay",
            formula="1/(nτ²)",
            value=lam,
            objective="mean CE + (λ/2)Σₖ‖Wₖ‖² (coupled decay: gradient += λ·W, all K weight "
            "vectors, biases excluded) = 1/n × our −log posterior + const",
            check="the mean cross-entropy with this decay, written in NumPy with its gradient "
            "and minimised by scipy L-BFGS-B from zero; its weights and intercept contrasts "
            "compared with find_MAP's",
            fit=sgd,
        ),
    ]


def network_rows(problem: Problem, seed: int) -> list[Translation]:
    """``seed``: MLPClassifier's random_state, and (spawned from it) the NumPy network's start."""

    spec = problem.spec
    classes, base = classes_and_baseline(problem)
    K, H = len(classes), spec.hidden
    n = problem.n
    tau = spec.tau
    X = np.asarray(problem.X, float)
    d = X.shape[1]
    y = class_codes(problem)
    Y = np.eye(K)[y]
    alpha = 1.0 / tau**2
    lam = 1.0 / (n * tau**2)

    def mlp() -> Fitted:
        clf = sklearn_mlp(problem, alpha, seed)
        W1, W2 = clf.coefs_
        b1, b2 = clf.intercepts_
        return Fitted(
            network_params(problem, W1, b1, W2, b2),
            objective=float(n * clf.loss_),
            note=f"n·loss_ at its answer ({clf.n_iter_} L-BFGS iterations)",
        )

    sizes = [(d, H), (H,), (H, K), (K,)]
    cuts = np.cumsum([int(np.prod(s)) for s in sizes])[:-1]

    def unpack(theta):
        return [part.reshape(s) for part, s in zip(np.split(theta, cuts), sizes, strict=True)]

    def sgd() -> Fitted:
        def f(theta):
            W1, b1, W2, b2 = unpack(theta)
            pre = X @ W1 + b1
            h = np.maximum(pre, 0.0)
            Z = h @ W2 + b2
            val = np.mean(logsumexp(Z, axis=1) - Z[np.arange(n), y])
            val += 0.5 * lam * (np.sum(W1**2) + np.sum(W2**2))
            G = (softmax(Z, axis=1) - Y) / n
            dh = (G @ W2.T) * (pre > 0)
            grad = [X.T @ dh + lam * W1, dh.sum(0), h.T @ G + lam * W2, G.sum(0)]
            return val, np.concatenate([g.ravel() for g in grad])

        # not zero: all-zero weights are a stationary point of the network (no gradient
        # reaches W1 through W2 = 0, nor W2 through relu(0) = 0); a seeded Glorot-scale start
        rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
        theta0 = np.concatenate(
            [
                rng.normal(scale=np.sqrt(2.0 / (d + H)), size=d * H),
                np.zeros(H),
                rng.normal(scale=np.sqrt(2.0 / (H + K)), size=H * K),
                np.zeros(K),
            ]
        )
        res = minimize(f, theta0, jac=True, method="L-BFGS-B", options=LBFGS_OPTIONS)
        W1, b1, W2, b2 = unpack(res.x)
        return Fitted(
            network_params(problem, W1, b1, W2, b2),
            objective=float(n * res.fun),
            note=f"n × mean objective at its answer (L-BFGS-B, {res.nit} iterations)",
        )

    two = K == 2
    const = (
        "the constant is 0: both sides drop the Gaussian normalisers, and b1 is flat in "
        "find_MAP's objective (Support.spec hidden_bias_scale=None), as in MLPClassifier"
    )
    return [
        Translation(
            id="categorical:sklearn-mlp",
            library=SKLEARN,
            call=f"MLPClassifier(hidden_layer_sizes=({H},), activation='relu', solver='lbfgs', "
            f"alpha={alpha:.6g}, tol={SKLEARN_TOL:g})",
            parameter="alpha",
            formula="1/τ²",
            value=alpha,
            objective="mean log-loss + alpha/(2n)·(‖W1‖² + ‖W2‖²), biases unpenalised "
            "(sklearn/neural_network/_multilayer_perceptron.py, _backprop: loss += (0.5 * "
            f"alpha) * Σ‖W‖² / n; loss_ = opt_res.fun) = 1/n × our −log posterior; {const}",
            check="MLPClassifier fitted (random_state from the run's seed); n × its loss_ "
            "compared with our "
            "negative log posterior (the family's find_MAP objective) at its answer",
            fit=None if two else mlp,
            compare="objective",
            unavailable="MLPClassifier fits two classes with one logistic output unit (a "
            "different model)"
            if two
            else "",
        ),
        Translation(
            id="categorical:sgd-network",
            library=SGD,
            call=f"torch.optim.SGD(weight_decay={lam:.6g}{weight_decay_groups(None)}) on "
            "CrossEntropyLoss() (mean)",
            parameter="weight_decay",
            formula="1/(nτ²)",
            value=lam,
            objective="mean CE + (λ/2)(‖W1‖² + ‖W2‖²) (coupled decay, biases excluded) = 1/n "
            f"× our −log posterior; {const}",
            check="the network's mean cross-entropy with this decay, written in NumPy with its "
            "gradient and minimised by scipy L-BFGS-B from a seeded random start; n × its "
            "objective compared with our negative log posterior at its answer",
            fit=sgd,
            compare="objective",
        ),
    ]


def dirichlet_rows(problem: Problem) -> list[Translation]:
    """Label smoothing: with T = (1 - e) onehot(y) + e/K the mean CE against T is minimised
    at q = mean T = (1 - e) c/n + e/K, which is the Dirichlet(alpha) mode
    (c + alpha - 1)/(n + K(alpha - 1)) exactly when e = K(alpha - 1)/(n + K(alpha - 1))."""

    classes, _ = classes_and_baseline(problem)
    K = len(classes)
    n = problem.n
    a = problem.spec.alpha
    eps = K * (a - 1) / (n + K * (a - 1))
    y = class_codes(problem)
    T = (1 - eps) * np.eye(K)[y] + eps / K

    def smoothed() -> Fitted:
        tbar = T.mean(axis=0)

        def f(z):
            return logsumexp(z) - tbar @ z, softmax(z) - tbar

        z, note = lbfgs(f, np.zeros(K))
        q = softmax(z)
        return Fitted({f"P({c})": float(v) for c, v in zip(classes, q, strict=True)}, note=note)

    bad = "" if a >= 1 else f"α = {a:g} < 1 would need a negative label smoothing"
    return [
        Translation(
            id="categorical:label-smoothing",
            library=SGD,
            call=f"CrossEntropyLoss(label_smoothing={eps:.6g}) (PyTorch; Keras "
            "CategoricalCrossentropy(label_smoothing=…) is the same)",
            parameter="label_smoothing",
            formula="K(α−1)/(n+K(α−1))",
            value=eps,
            objective="mean CE against the targets (1 − ε)·onehot(y) + ε/K (PyTorch docs: a "
            "mixture of the ground truth and a uniform distribution) = [−Σₖ(cₖ + α − 1) log qₖ]"
            " × (1 − ε)/n exactly: (1 − ε)/n × the Dirichlet(α) MAP objective",
            check="the mean cross-entropy against smoothed targets, minimised over the K logits "
            "by scipy L-BFGS-B from zero; its class probabilities compared with find_MAP's",
            fit=None if bad else smoothed,
            unavailable=bad,
        )
    ]
