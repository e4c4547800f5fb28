"""environment.yml (conda route) and pyproject.toml list the same packages and bounds."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _split(spec: str) -> tuple[str, str]:
    m = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)$", spec)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_same_packages():
    """environment.yml is one environment for running and developing: the dependencies and
    the ``dev`` extra."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    py = dict(_split(d) for d in project["dependencies"] + project["optional-dependencies"]["dev"])
    conda = {}
    text = (ROOT / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"\s+-\s+([^\s#:][^#]*)$", line)
        if m and not m.group(1).startswith(("-e", "pip")) and ":" not in m.group(1):
            name, bound = _split(m.group(1))
            if name != "python":
                conda[name] = bound
    assert conda == py


def test_python_version_pinned():
    assert (ROOT / ".python-version").read_text().strip() == "3.12"
    assert "python=3.12" in (ROOT / "environment.yml").read_text()
