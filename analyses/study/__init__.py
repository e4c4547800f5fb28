"""Simulation studies (``python -m nll_losses.analyses study``): many data sets from a case's
generator with the truth drawn from a proper prior, each fitted by the case's estimators.

- ``design``: which cases a study takes, the proper prior the truth is drawn from, and one
  simulated data set;
- ``replicate``: one replicate of a study (coverage, risk or SBC), a JSON-ready dict;
- ``store``: the per-replicate files that let an interrupted study resume;
- ``execute``: replicates serially, in local worker processes, or on a Dask cluster;
- ``summary``: a study's numbers from its replicates (coverage with binomial bands, bias,
  variance and RMSE with Monte Carlo errors, SBC ranks);
- ``figures`` and ``page``: the study's report page.
"""
