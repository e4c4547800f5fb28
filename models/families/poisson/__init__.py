"""Poisson likelihood with a log link: the mean Poisson deviance is the Poisson NLL.

Model::

    y_i ~ Poisson(mu_i),   log mu_i = offset_i + intercept + x_i . w          (i = 1..n)
    w_j ~ Flat() (MLE)  or  Normal(0, tau^2) (MAP = L2: PoissonRegressor(alpha = 1/(n tau^2)))
    intercept ~ Flat() (or Normal(0, tau0^2) with --intercept-prior-scale)
    intercept only: rate = exp(intercept) ~ Gamma(a, b), conjugate: Gamma(a + Σy, b + Σe)

Negative log-likelihood (the loss ledger checks these identities numerically)::

    -log p(y | w, b) = sum_i mu_i - y_i log mu_i + log y_i!
                     = n * PoissonNLLLoss(log_input=True) (mean) + sum_i log y_i!
                     = n/2 * mean_poisson_deviance(y, mu) + sum_i (y_i - y_i log y_i + log y_i!)

The MLE does not exist when zero counts can be fitted exactly along a direction that leaves
every other mean unchanged (Santos Silva & Tenreyro 2010); the shared linear program
(``models.numerics.recession``) finds it before any flat-prior fit.

Reparametrisation: ``beta = m0 + M phi`` with ``(sqrt(w) A) M`` orthonormal, w = y + 1/2 (each
row's information near the data), and m0 the weighted least-squares fit of log(y + 1/2) -
offset (``model.model_data``; ``models.linear_predictor``).
"""

from nll_losses.models.families.poisson.family import PoissonFamily

FAMILY = PoissonFamily()
