"""The likelihood families, one folder each, with the same slots in every folder:

- ``spec.py``: the family's options and spec (what a user chooses) and its parameter names;
- ``model.py``: the PyMC model(s);
- ``references.py``: every non-PyMC estimator it is compared with (closed forms, our own
  solvers, statsmodels, scikit-learn ...), each independent;
- ``theory.py``: what theory promises: the agreement pairs (and the NLL written as a loss);
- ``translations.py``: the prior <-> penalty translations (report text, library settings);
- ``family.py``: the family object through the contract (``models.family.Family``);
- ``existence.py`` where the MLE can fail to exist (separation);
- ``__init__.py``: ``FAMILY``, the one object ``models.FAMILIES`` registers.

Shared numerics (``models.numerics``) sit below the families; ``models.family`` is the
contract they all satisfy.  No family imports another."""
