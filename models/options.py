"""A family's command-line flags, declared by its options dataclass.

Each family's ``Options`` class lists its flags in ``FLAGS`` and builds itself from their
parsed values with ``from_flags``; ``analyses/cli.py`` turns every ``Flag`` into an argparse
argument (``--name`` with ``-`` for ``_``, default None: not given), so ``models/`` never
imports argparse and a new family's flags need no line outside its folder.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Flag:
    """One flag: ``name`` is the key of its value in ``from_flags``; ``kind`` converts the text
    (str, int or float); ``positive`` asks for a positive finite number; ``choices`` lists the
    accepted texts."""

    name: str
    help: str
    kind: type = str
    metavar: str | None = None
    choices: tuple[str, ...] | None = None
    positive: bool = False

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")
