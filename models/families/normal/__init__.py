"""Gaussian likelihood: minimising MSE is maximum likelihood; a Gaussian prior is ridge.

Model::

    y_i ~ Normal(mu_i, sigma),   mu_i = intercept + x_i . w            (i = 1..n)
    w_j ~ Flat()  or  Normal(0, tau^2)          intercept ~ Flat() (or Normal(0, tau0^2) if asked)
    sigma: known, or ~ HalfFlat() or HalfNormal(S)

Negative log-likelihood (the loss ledger checks this identity numerically)::

    -log p(y | w, b, sigma) = n/2 log(2 pi sigma^2) + n * MSE / (2 sigma^2)

so for fixed sigma the MLE minimises the MSE, and with a N(0, tau^2) prior the MAP minimises
``||y - b - X w||^2 + alpha ||w||^2`` with ``alpha = sigma^2 / tau^2`` (scikit-learn ``Ridge``).

Reparametrisation: the PyMC model samples/optimises ``phi`` in an orthonormal basis of the
(centred, column-scaled) design, ``mu = offset + s_y Q phi``, and reports ``(intercept, w)`` as
deterministics on the original scale, ``beta = m0 + s_y M phi``
(``models.numerics.linalg.precondition``).
The posterior and the MAP are those of the model above (the map is affine, so its Jacobian is a
constant); only what the optimiser and sampler see changes: a problem whose curvature in ``phi``
is isotropic however badly conditioned ``X`` is (e.g. polynomial and near-collinear designs).
Priors on the original-scale coefficients enter as ``pm.Potential`` terms
``-1/2 sum_j beta_j^2 / tau_j^2`` (precision 0 = flat), so flat and Gaussian priors share one
compiled graph; sigma is ``s_y * sigma_std`` with a HalfFlat ``sigma_std`` and a HalfNormal
potential ``-sigma^2 / (2 S^2)`` (1/S^2 = 0 = HalfFlat).
"""

from nll_losses.models.families.normal.family import NormalFamily

FAMILY = NormalFamily()
