"""Bernoulli likelihood with a logit link: binary cross-entropy is the Bernoulli NLL.

Model::

    y_i ~ Bernoulli(p_i),   logit p_i = intercept + x_i . w                 (i = 1..n)
    w_j ~ Flat() (MLE)  or  Normal(0, tau^2) (MAP = L2, C = tau^2)  or  Jeffreys (Firth)
    intercept ~ Flat() (or Normal(0, tau0^2) with --intercept-prior-scale; Jeffreys covers it)

Negative log-likelihood (the loss ledger checks these identities numerically)::

    -log p(y | w, b) = -sum_i [y_i log p_i + (1 - y_i) log(1 - p_i)]
                     = n * log_loss(y, p)                         (sklearn.metrics.log_loss)
                     = sum_i softplus(z_i) - y_i z_i,  z = logits  (BCE from logits, stable)

The Jeffreys prior p(beta) ∝ |A'W(beta)A|^{1/2} (A = [1, X], W = diag(p(1-p))) adds
-1/2 log det(A'WA) to the objective; its mode is Firth's bias-reduced estimate, finite even
when the classes are separated (Firth 1993; Heinze & Schemper 2002).

Reparametrisation, as in the Gaussian family: the model samples/optimises ``phi`` in an
orthonormal basis of the centred, column-scaled design, ``z = z0 + c Q phi`` with
``c = 1/sqrt(ybar (1 - ybar))`` (so that the information about phi is about the identity near
the intercept-only fit), and reports ``beta = m0 + c M phi``
(``models.numerics.linalg.precondition``).
The Jeffreys term is computed in the same basis: log det(Q'WQ) differs from log det(A'WA) by a
constant.
"""

from nll_losses.models.families.bernoulli.family import BernoulliFamily

FAMILY = BernoulliFamily()
