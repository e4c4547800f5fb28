"""The folders models/ and analyses/ installed as the subpackages nll_losses.models and
nll_losses.analyses, so that they never clash with a user's own `models` or `analyses`
(README "Python API").  Everything else is in pyproject.toml; this file only computes the
package list, which pyproject's static find cannot prefix (a new family folder needs no
line here)."""

from setuptools import find_packages, setup

FOLDERS = find_packages(include=["models", "models.*", "analyses", "analyses.*"])

setup(
    packages=[f"nll_losses.{name}" for name in FOLDERS],
    package_dir={"nll_losses": "."},  # nll_losses.models -> models/, and so on
    package_data={"nll_losses.analyses.templates": ["*.html"]},
)
