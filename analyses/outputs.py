"""Writing outputs so that a failed run never leaves a half-written report or overwrites a good
one: everything goes to a temporary sibling first and is swapped in only when complete.

A report folder is replaced only when it is provably one this project wrote: its results.json
parses, carries ``"generator": GENERATOR`` and a ``"manifest"`` of every file written, and the
folder holds nothing else (``report_problem``).  Temporary siblings (``.DIR.tmp-*`` holding
``PARTIAL_MARK``, ``.DIR.old-*`` holding an earlier report) left by a killed run are swept by
the next run writing to the same folder (``sweep_stale``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

from nll_losses.analyses import interrupts

Content = bytes | str | Callable[[Path], None]

GENERATOR = "nll-losses"  # results.json "generator": this project wrote the folder
MANIFEST = "results.json"  # the file that lists every file of a report folder
PARTIAL_MARK = ".nll-losses-partial"  # inside a temporary folder until it is swapped in


def write_dir_atomically(out_dir: Path, files: dict[str, Content]) -> None:
    """Replace ``out_dir`` as a whole by a folder holding exactly ``files``.

    ``files`` maps a relative path to bytes, text, or a callable that writes the given path
    itself (e.g. ``DataTree.to_zarr``; an interrupt waits until it returns); they are written
    in order.  All are written into a fresh
    temporary sibling; only when every one succeeded is the old folder renamed aside, the new
    one renamed into place and the old one deleted (an interrupt arriving meanwhile is raised
    after the swap).  On any error or interrupt before it the temporary folder is removed and
    ``out_dir`` is left untouched.  Files of an earlier ``out_dir`` that are not rewritten are
    not kept: callers check ``report_problem`` first.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = None
    try:
        with interrupts.held():  # no interrupt between making the folder and marking it
            tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.tmp-", dir=out_dir.parent))
            (tmp / PARTIAL_MARK).write_bytes(b"")
        for rel, content in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            if callable(content):
                # held: a callable may write from threads of its own (zarr 3 does) that go on
                # after an interrupt in this thread; deleting the folder meanwhile would let
                # them recreate it without PARTIAL_MARK, where no sweep finds it.  The
                # interrupt is raised when the call has returned.
                with interrupts.held():
                    content(target)
            elif isinstance(content, bytes):
                target.write_bytes(content)
            else:
                target.write_text(content, encoding="utf-8")
        os.chmod(tmp, 0o755)
        interrupts.stage("swap")
        with interrupts.held():  # the swap is never split by an interrupt
            (tmp / PARTIAL_MARK).unlink()
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
        if tmp is not None:
            with interrupts.held():  # a second Ctrl-C does not leave half of it behind
                shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_report_atomically(out_dir: Path, files: dict[str, Content], results: dict) -> None:
    """``write_dir_atomically`` of ``files`` plus results.json, written last: ``results`` with
    the project's mark and the manifest of every file in the folder (``report_problem``)."""
    if MANIFEST in files:
        raise ValueError(f"{MANIFEST} is written from ``results``, not from ``files``")

    def write_results(path: Path) -> None:
        listed = {rel for rel in _entries(path.parent) if rel != PARTIAL_MARK} | {MANIFEST}
        mark = {"generator": GENERATOR, "manifest": sorted(listed)}
        path.write_text(json.dumps(mark | results, indent=2, allow_nan=False), encoding="utf-8")

    write_dir_atomically(out_dir, {**files, MANIFEST: write_results})


def _entries(folder: Path) -> set[str]:
    """Every file under ``folder`` (relative, with /), symbolic links and other non-folders
    included, without following links.  Folders are implied by the files in them; an empty
    folder is listed with a trailing /."""
    out = set()
    for root, dirs, names in os.walk(folder, followlinks=False):
        rel = Path(root).relative_to(folder)
        for d in list(dirs):
            if os.path.islink(os.path.join(root, d)):  # a link is an entry, never entered
                dirs.remove(d)
                names.append(d)
        if not names and not dirs and root != str(folder):
            out.add(rel.as_posix() + "/")
        out.update((rel / n).as_posix() for n in names)
    return out


def report_problem(folder: Path) -> str | None:
    """None when ``folder`` is provably a report this project wrote (and may be replaced);
    otherwise why not, as a phrase that ends a sentence beginning "``folder``: ...".

    An empty folder counts as replaceable (None)."""
    folder = Path(folder)
    if not folder.is_dir() or folder.is_symlink():
        return "exists and is not a folder"
    if not any(folder.iterdir()):
        return None
    results = folder / MANIFEST
    if not results.is_file() or results.is_symlink():
        return "folder exists, is not empty and is not an earlier report (it has no results.json)"
    try:
        meta = json.loads(results.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "folder exists, is not empty and its results.json is not one this project wrote"
    if not isinstance(meta, dict) or meta.get("generator") != GENERATOR:
        return (
            "folder exists, is not empty and its results.json has no "
            f'"generator": "{GENERATOR}" mark (not a report of this project, or one from an '
            "older version)"
        )
    manifest = meta.get("manifest")
    if not isinstance(manifest, list) or not all(isinstance(m, str) for m in manifest):
        return "folder exists and its results.json has no list of the files it wrote"
    extra = sorted(_entries(folder) - set(manifest))
    if extra:
        more = f" and {len(extra) - 1} more" if len(extra) > 1 else ""
        return (
            f"folder holds {extra[0]!r}{more}, which this project did not write "
            "(an earlier report is replaced as a whole)"
        )
    return None


def sweep_stale(out_dir: Path) -> list[Path]:
    """Remove the temporary siblings of ``out_dir`` that a killed run left; return them.

    Only folders named exactly ``.NAME.tmp-XXXXXXXX`` / ``.NAME.old-XXXXXXXX`` (the names
    ``write_dir_atomically`` makes) are candidates, and only these are removed: a ``.tmp-`` one
    that still holds ``PARTIAL_MARK`` or is a complete report, an ``.old-`` one that is a
    complete report (``report_problem`` is None).  An ``.old-`` report whose ``out_dir`` is
    missing (the run was killed between the two renames) is renamed back to ``out_dir``.  Call
    it with the folder's lock held (``interrupts.OutLock``), so no live run owns them.
    """
    out_dir = Path(out_dir)
    parent = out_dir.parent
    if not parent.is_dir():
        return []
    pattern = re.compile(rf"\.{re.escape(out_dir.name)}\.(tmp|old)-[A-Za-z0-9_]{{8}}")
    swept = []
    for entry in sorted(parent.iterdir()):
        m = pattern.fullmatch(entry.name)
        if not m or entry.is_symlink() or not entry.is_dir():
            continue
        kind = m.group(1)
        ours = report_problem(entry) is None and any(entry.iterdir())
        if kind == "tmp":
            ours = ours or (entry / PARTIAL_MARK).is_file()
        if not ours:
            continue
        if kind == "old" and not out_dir.exists():
            os.replace(entry, out_dir)  # the earlier report, back where it was
            continue
        shutil.rmtree(entry, ignore_errors=True)
        swept.append(entry)
    return swept


def sweep_stale_files(folder: Path, name: str) -> None:
    """Remove ``.NAME.tmp-XXXXXXXX`` files that ``write_file_atomically`` left in ``folder``."""
    pattern = re.compile(rf"\.{re.escape(name)}\.tmp-[A-Za-z0-9_]{{8}}")
    for entry in Path(folder).iterdir() if Path(folder).is_dir() else ():
        if pattern.fullmatch(entry.name) and stat.S_ISREG(entry.lstat().st_mode):
            entry.unlink(missing_ok=True)


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
