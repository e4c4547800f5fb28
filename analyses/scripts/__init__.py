"""One short script per claim, to read, run and change; each uses only the public APIs of PyMC
(and PyTensor), scikit-learn, statsmodels, SciPy and matplotlib (none of this project's
internals), so it can be copied out:

    python -m nll_losses.analyses.scripts.mse_is_gaussian_nll
    python -m nll_losses.analyses.scripts.bce_is_bernoulli_nll
    python -m nll_losses.analyses.scripts.cross_entropy_is_categorical_nll

Each builds the PyMC model, finds its mode with flat priors (maximum likelihood) and with a
N(0, τ²) prior on the weights (MAP), samples the latter with NUTS, compares them with the
closed form or the library fit the claim names, prints the comparison and saves a figure.
"""
