"""Run settings in one place (the CLI only parses into these) and seed fan-out."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace

import numpy as np

from nll_losses.models.family import Settings


@dataclass(frozen=True)
class RunConfig:
    """Sampler and estimator settings shared by every case of a run.

    ``estimators`` / ``priors``: None means every one the case's family offers.
    """

    seed: int = 0
    draws: int = 1000
    tune: int = 1000
    chains: int = 4
    estimators: tuple[str, ...] | None = None
    priors: tuple[str, ...] | None = None
    sweeps: bool = False  # also the prior-strength and sample-size sweeps (analyses/sweeps.py)
    is_quick: bool = False  # set by quick(): the sweeps then use their coarse grids too

    def quick(self) -> RunConfig:
        """Fewer draws for smoke runs; MCSE tolerances widen accordingly (they are per-run)."""
        return replace(
            self,
            draws=min(self.draws, 400),
            tune=min(self.tune, 400),
            chains=min(self.chains, 2),
            is_quick=True,
        )


@dataclass(frozen=True)
class CaseConfig:
    """What to fit: a name, the family and the user's settings for it."""

    name: str
    family: str  # a name in models.FAMILIES (or "auto" for fit: chosen from the target)
    settings: Settings = field(default_factory=Settings)
    priors: tuple[str, ...] | None = None  # None: the family's default_priors(settings)


def child_seed(master: int, *labels: str) -> int:
    """A 32-bit seed for one consumer, derived from the master seed and a stable label.

    Order-independent: adding a consumer never changes the seeds of the others.
    """
    key = tuple(zlib.crc32(label.encode()) for label in labels)
    return int(np.random.SeedSequence(master, spawn_key=key).generate_state(1)[0])
