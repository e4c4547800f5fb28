"""The folders models/ and analyses/ are installed as ``nll_losses.models`` and
``nll_losses.analyses`` (setup.py), so a user's own packages named ``models`` and ``analyses``
neither shadow this project nor are shadowed by it (README "Python API")."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str, cwd: Path) -> list[str]:
    """The lines ``code`` prints, run by this interpreter in ``cwd`` (first on its path, as a
    notebook's folder is) without this session's PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_nothing_is_installed_under_the_folder_names(tmp_path):
    """Outside the repository the names ``models`` and ``analyses`` are free: the project is
    ``nll_losses.models`` and ``nll_losses.analyses`` only."""
    code = (
        "import importlib.metadata, importlib.util\n"
        "print(importlib.util.find_spec('models'), importlib.util.find_spec('analyses'))\n"
        "print(importlib.metadata.distribution('nll-losses').read_text('top_level.txt').split())\n"
        "print(importlib.util.find_spec('nll_losses.models').origin)\n"
    )
    free, top, origin = _python(code, tmp_path)
    assert free == "None None"
    assert top == "['nll_losses']"
    assert Path(origin) == ROOT / "models" / "__init__.py"


def test_a_users_own_models_and_analyses_beside_the_project(tmp_path):
    """A notebook's folder with its own ``models`` and ``analyses`` packages (first on the
    path, as the current folder is) imports both them and the project's API."""
    for name in ("models", "analyses"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text(f"OWNER = 'the user: {name}'\n")
    code = (
        "import analyses, models\n"
        "from nll_losses.analyses import Result, fit, run\n"
        "from nll_losses.models.family import new_problem\n"
        "import nll_losses.analyses.api as api\n"
        "print(analyses.OWNER, models.OWNER, sep='|')\n"
        "print(fit is api.fit, run is api.run, Result is api.Result, sep='|')\n"
        "print(api.__file__, new_problem.__module__, sep='|')\n"
    )
    owners, same, where = _python(code, tmp_path)
    assert owners == "the user: analyses|the user: models"
    assert same == "True|True|True"
    api_file, module = where.split("|")
    assert Path(api_file) == ROOT / "analyses" / "api.py"
    assert module == "nll_losses.models.family"
