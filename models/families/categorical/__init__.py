"""Categorical likelihood with a softmax link: cross-entropy is the categorical NLL.

Three models share this family, each an object of its own (``variants.py``; ``--hidden H``
picks the second, the Dirichlet prior without features the third)::

    softmax regression   y_i ~ Categorical(softmax(z_i)),  z_ik = b_k + x_i . W_k   (H = 0)
    one-hidden-layer net z_i = W2' relu(W1' x_i + b1) + b2                           (H > 0)
    intercept only       y_i ~ Categorical(q)                                   (no features)

Negative log-likelihood (the loss ledger checks these identities numerically)::

    -log p(y | theta) = -sum_i log softmax(z_i)_{y_i}
                      = sum_i logsumexp(z_i) - z_{i, y_i}     (cross-entropy from logits)
                      = n * log_loss(y, softmax(z))            (sklearn.metrics.log_loss)
    intercept only:   -log p(y | q) / n = H(p_hat, q) = H(p_hat) + KL(p_hat || q)

Identifiability.  The likelihood is unchanged when one vector is added to every class's
logits, so something must pin that shift down, and the two usual choices are different priors:

* flat priors (``flat``): the baseline class's logits are 0 (``--baseline``, default the
  first class in sorted order), as statsmodels ``MNLogit``, Stata ``mlogit`` and Bambi.  The
  K - 1 other classes' (intercept, W) are then log-odds contrasts against the baseline.
* Gaussian prior (``gaussian``): N(0, tau^2) on every one of the K weight vectors, as
  scikit-learn's multinomial L2 (C = tau^2).  The prior identifies all K vectors (its mode has
  sum_k W_k = 0), which is not the same as a N(0, tau^2) prior on K - 1 contrasts.  The
  intercepts stay unpenalised, so they are identified only as contrasts against the baseline.
* Dirichlet(alpha) on q (``dirichlet``, intercept only): conjugate, with closed-form mode and
  posterior.  alpha = 1 is the uniform prior on the simplex, whose mode is the MLE p_hat.

The network has N(0, tau^2) on W1 and W2 (weight decay); its output biases b2 are flat against
the baseline (b2_baseline = 0), like the regression's intercepts.  A flat hidden bias b1 makes
an improper posterior with relu (a unit pushed below zero on every row is dead, and the
likelihood is constant along b1 -> -inf), so NUTS uses a wide proper prior b1 ~ N(0, 10^2)
(``HIDDEN_BIAS_SCALE``), while find_MAP and scikit-learn, which need a mode and not a
posterior, keep b1 flat: they minimise the same weight-decay objective
``NLL + (||W1||^2 + ||W2||^2) / (2 tau^2)`` (MLPClassifier with alpha = 1/tau^2).

Reparametrisation (regression): as the Bernoulli family, the model optimises and samples
``phi`` in an orthonormal basis of the centred, column-scaled design, ``Z = Z0 + Q Phi C`` and
``B = M0 + M Phi C`` with C = diag(1/sqrt(p_k (1 - p_k))) (``models.numerics.linalg.precondition``).
"""

from nll_losses.models.families.categorical.family import CategoricalFamily

FAMILY = CategoricalFamily()
