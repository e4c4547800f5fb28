"""Writing outputs so that a failed run never leaves a half-written report or overwrites a good
one: everything goes to a temporary sibling first and is swapped in only when complete."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

Content = bytes | str | Callable[[Path], None]


def write_dir_atomically(out_dir: Path, files: dict[str, Content]) -> None:
    """Replace ``out_dir`` as a whole by a folder holding exactly ``files``.

    ``files`` maps a relative path to bytes, text, or a callable that writes the given path
    itself (e.g. ``DataTree.to_zarr``).  All are written into a fresh temporary sibling; only
    when every one succeeded is the old folder renamed aside, the new one renamed into place and
    the old one deleted.  On any error the temporary folder is removed and ``out_dir`` is left
    untouched.  Files of an earlier ``out_dir`` that are not rewritten are not kept.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
    try:
        for rel, content in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if callable(content):
                content(target)
            elif isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        os.chmod(tmp, 0o755)
        backup = None
        if out_dir.exists():
            backup = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old-", dir=out_dir.parent))
            backup.rmdir()
            os.replace(out_dir, backup)
        try:
            os.replace(tmp, out_dir)
        except OSError:
            if backup is not None:
                os.replace(backup, out_dir)
            raise
        if backup is not None:
            shutil.rmtree(backup, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_file_atomically(path: Path, content: str | bytes) -> None:
    """Write one file via a temporary sibling and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content.encode("utf-8") if isinstance(content, str) else content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
