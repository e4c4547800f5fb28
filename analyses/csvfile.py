"""Reading a user's CSV file: its header, its cells as text columns, file line numbers, and a
memory bound checked before reading.

The header is read with the ``csv`` module, so duplicate or empty column names are refused as
written (pandas would rename ``x,x`` to ``x, x.1``).  The data are read by Apache Arrow's
multithreaded CSV reader into compact text columns (one buffer per column, not one Python
object per cell); ``numeric_column`` converts one with Arrow's string-to-double cast, which is
correctly rounded (fast_float), so a value written with 17 significant digits reads back to
the same double.  Only the columns a fit uses are read.

Line numbers in messages are file lines, header = line 1, counting blank lines (Arrow skips
empty lines; ``file_lines`` maps data rows back to lines with the ``csv`` module, only when a
message needs them).
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nll_losses.analyses.errors import InputError

# Cells read as missing, compared after stripping spaces and lower-casing (models.family).
from nll_losses.models.targets import MISSING

# The memory a file needs, estimated before reading it: BYTES_PER_CELL for the numbers
# (benchmarks/bench_csv.py measures about 24 bytes a cell for load_csv on all-numeric files,
# three float64 copies; the fit makes its own copies of the design, so twice that) plus
# BYTES_PER_FILE_BYTE of the file's size for the text pass of a column that is not all
# numbers (Arrow's text and its stripped copy).  An estimate, erring on the large side.
BYTES_PER_FILE_BYTE = 2.0
BYTES_PER_CELL = 48.0


@dataclass(frozen=True)
class Table:
    """The columns read from a CSV file: float64 arrays, or Arrow text arrays (null: missing).

    ``columns`` are the header's names (stripped) in file order; ``cells`` holds those read."""

    path: Path
    columns: list[str]
    cells: dict  # name -> float64 ndarray, or pyarrow strings (stripped; null: missing)
    n_rows: int


def read_header(path: Path) -> list[str]:
    """The column names of the first non-empty line, stripped; refuses empty and duplicate
    names as written in the file."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header = next((rec for rec in reader if rec), None)
    except UnicodeDecodeError:
        raise InputError(f"{path}: is not UTF-8 text; save it as UTF-8 CSV") from None
    except csv.Error as exc:
        raise InputError(f"{path}: cannot be read as CSV ({exc})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if header is None:
        raise InputError(f"{path}: file is empty")
    names = [h.strip() for h in header]
    if len(names) == 1:  # another separator: the whole header is one name
        for sep, what in ((";", "semicolon"), ("\t", "tab"), ("|", "bar")):
            if sep in names[0]:
                raise InputError(
                    f"{path}: the header is one column {names[0][:60]!r}; the file looks "
                    f"{what}-separated and is read as comma-separated: save it as "
                    "comma-separated CSV (e.g. from a spreadsheet: CSV UTF-8, comma)"
                )
    blank = [i + 1 for i, h in enumerate(names) if not h]
    if blank:
        raise InputError(
            f"{path}: column {blank[0]} has no name in the header; give every column a name"
        )
    dupes = list(dict.fromkeys(h for h in names if names.count(h) > 1))
    if dupes:
        raise InputError(
            f"{path}: duplicate column name(s) {', '.join(map(repr, dupes))} in the header; "
            "rename them so that each column has its own name"
        )
    return names


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux MemAvailable, else free pages)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def memory_needed(path: Path, n_columns: int, n_read: int) -> tuple[int, int]:
    """(estimated bytes needed to read and fit ``n_read`` of the file's ``n_columns`` columns,
    estimated number of cells read), from the file size and the mean width of a cell in the
    file's first 1 MiB."""
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    lines = max(head.count(b"\n"), 1)
    width = max(len(head) / (lines * max(n_columns, 1)), 1.0)  # bytes per cell in the file
    cells = int(size / width * n_read / max(n_columns, 1))
    need = int(BYTES_PER_FILE_BYTE * size * n_read / max(n_columns, 1) + BYTES_PER_CELL * cells)
    return need, cells


def size_text(b: float) -> str:
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if b < 1000 or unit == "TB":
            return f"{b:.0f} {unit}" if unit == "bytes" else f"{b:.1f} {unit}"
        b /= 1000
    return f"{b:.1f} TB"  # pragma: no cover


def check_memory(path: Path, n_columns: int, n_read: int) -> None:
    """Refuse, before reading, a file whose columns would not fit in the memory available."""
    free = available_memory()
    if free is None:
        return
    need, cells = memory_needed(path, n_columns, n_read)
    if need > free:
        raise InputError(
            f"{path}: {size_text(path.stat().st_size)} with about {cells:,} cells to read would "
            f"need about {size_text(need)} of memory and {size_text(free)} is available; fit a "
            "sample of the rows, or fewer columns with --features"
        )


def read_table(path: Path, columns: list[str], names: list[str], text=()) -> Table:
    """``names`` (a subset of the header ``columns``): a column whose every cell is a finite
    number as float64, any other as its text, stripped, with missing cells as nulls; the
    columns in ``text`` always as text.  First one pass parsing the numbers directly (no text
    kept: the common all-numeric file); if a cell is not a number, a second pass as text.
    Ragged rows and unreadable text are one ``InputError`` line each."""
    import pyarrow as pa

    raw = _raw_names(path, columns, names)
    types = {r: pa.string() if n in text else pa.float64() for r, n in zip(raw, names, strict=True)}
    try:
        table = _arrow_read(path, columns, raw, types)
    except _NotNumbers:
        table = None
    cells = {}
    if table is not None:
        for name in names:  # each column's Arrow buffers freed once copied
            col = table.column(0)
            table = table.remove_column(0)
            if name in text:
                cells[name] = _clean(col)
                continue
            values = np.asarray(col.to_numpy(), dtype=np.float64)
            if col.null_count or not np.all(np.isfinite(values)):
                cells = None  # nan, inf or an overflow: read as text for the messages
                break
            cells[name] = values
            del col
        del table
        pa.default_memory_pool().release_unused()
    if cells is None or not cells:
        table = _arrow_read(path, columns, raw, dict.fromkeys(raw, pa.string()))
        cells = {}
        for i, name in enumerate(names):
            col = table.column(i)
            values = None if name in text else _finite_numbers(col)
            cells[name] = values if values is not None else _clean(col)
        del table
    n_rows = len(next(iter(cells.values()))) if cells else 0
    return Table(path, columns, cells, n_rows)


class _NotNumbers(Exception):
    """A cell of a column read as numbers is not one (read it as text)."""


# Arrow parses a file in blocks of this many bytes (its default, 1 MiB) and cannot parse a
# row longer than a block: on such a row the block grows eightfold each try.
BLOCK_SIZE = 1 << 20
BLOCK_GROWTH = 8


def _arrow_read(
    path: Path,
    columns: list[str],
    raw: list[str],
    types: dict,
    newlines: bool = False,
    block_size: int = BLOCK_SIZE,
):
    """Arrow's CSV reader on ``raw`` columns with ``types``; ``_NotNumbers`` when a cell does
    not convert to float64, ``InputError`` for a ragged row or unreadable text.  First without
    line breaks inside quoted cells (faster: blocks parse in parallel); a ragged row then
    means a second try with them.  A row longer than ``block_size`` means another try with
    larger blocks."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    bad_rows: list = []

    def on_invalid(row):
        bad_rows.append(row)
        return "error"

    try:
        table = pcsv.read_csv(
            path,
            read_options=pcsv.ReadOptions(use_threads=True, block_size=block_size),
            parse_options=pcsv.ParseOptions(
                newlines_in_values=newlines,
                ignore_empty_lines=True,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pcsv.ConvertOptions(
                column_types=types,
                include_columns=raw,
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        message = str(exc)
        if "straddl" in message and block_size <= path.stat().st_size:  # a row > a block
            bigger = min(block_size * BLOCK_GROWTH, 2**31 - 1)
            return _arrow_read(path, columns, raw, types, newlines, bigger)
        if bad_rows or "Expected" in message and "columns" in message:
            if not newlines:
                return _arrow_read(path, columns, raw, types, True, block_size)
            line, got = first_ragged_line(path, len(columns))
            where = f"line {line} has {got} cell(s)" if line else "a row has another number"
            raise InputError(
                f"{path}: {where} and the header has {len(columns)}; every row needs one cell "
                "per column (quote cells that contain commas)"
            ) from None
        if "UTF8" in message or "UTF-8" in message:
            raise InputError(f"{path}: is not UTF-8 text; save it as UTF-8 CSV") from None
        if "conversion error to double" in message or "conversion error to null" in message:
            raise _NotNumbers from None
        first = message.strip().splitlines()[0][:160] if message.strip() else "unreadable"
        raise InputError(f"{path}: cannot be read as CSV ({first})") from None
    except (OSError, pa.ArrowException) as exc:
        raise InputError(f"{path}: cannot be read ({str(exc).splitlines()[0][:160]})") from None
    if table.num_columns != len(raw):
        raise InputError(f"{path}: the header could not be matched to the columns; check quoting")
    return table


def _raw_names(path: Path, columns: list[str], names: list[str]) -> list[str]:
    """The header's names as Arrow reads them (unstripped), for ``names``."""
    with open(path, newline="", encoding="utf-8-sig") as fh:
        raw = next(rec for rec in csv.reader(fh) if rec)
    index = {c: i for i, c in enumerate(columns)}
    return [raw[index[n]] for n in names]


def _finite_numbers(col) -> np.ndarray | None:
    """The column as float64 if every cell is a finite number as written (no spaces, no
    missing cell), else None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        values = pc.cast(col, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    out = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)
    return out if np.all(np.isfinite(out)) else None


def _clean(col):
    """Cells stripped of surrounding spaces; the missing-value words (``MISSING``) as nulls."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_trim_whitespace(col)
    missing = pc.is_in(pc.utf8_lower(text), value_set=pa.array(list(MISSING)))
    return pc.if_else(missing, pa.scalar(None, pa.string()), text)


def missing_mask(cells) -> np.ndarray:
    """True where a cell is missing (a column read as numbers has none)."""
    import pyarrow.compute as pc

    if isinstance(cells, np.ndarray):
        return np.zeros(len(cells), dtype=bool)
    return np.asarray(pc.is_null(cells).to_numpy(zero_copy_only=False), dtype=bool)


@dataclass(frozen=True)
class Column:
    """One column's reading: numbers (float64, NaN where missing) or text (None)."""

    values: np.ndarray | None
    n_text: int = 0  # cells that are not numbers (missing excluded)
    n_numbers: int = 0
    first_text: int = -1  # data row of the first text cell (-1: none)
    first_text_value: str = ""


def numeric_column(cells) -> Column:
    """The column as float64 (NaN where missing) if every present cell is a number; otherwise
    how many cells are numbers and which is the first that is not."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(cells, np.ndarray):
        return Column(values=cells, n_numbers=len(cells))
    try:
        values = pc.cast(cells, pa.float64())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    else:
        out = values.to_numpy(zero_copy_only=False)
        out = np.asarray(out, dtype=np.float64)
        return Column(values=out, n_numbers=int(len(out) - values.null_count))
    looks = pc.match_substring_regex(cells, _NUMBER, ignore_case=True)
    looks = np.asarray(pc.fill_null(looks, True).to_numpy(zero_copy_only=False), dtype=bool)
    present = ~missing_mask(cells)
    text = present & ~looks
    rows = np.flatnonzero(text)
    first = int(rows[0]) if rows.size else -1
    return Column(
        values=None,
        n_text=int(text.sum()),
        n_numbers=int((present & looks).sum()),
        first_text=first,
        first_text_value=str(cells[first].as_py()) if first >= 0 else "",
    )


_NUMBER = r"^[+-]?((\d+\.?\d*|\.\d+)(e[+-]?\d+)?|inf|infinity|nan)$"


def take(cells, rows: np.ndarray):
    """The cells of the data rows ``rows``."""
    import pyarrow as pa

    return cells[rows] if isinstance(cells, np.ndarray) else cells.take(pa.array(rows))


def _data_records(path: Path):
    """``(file line, cells)`` of every non-empty record after the header, as the ``csv``
    module reads them (a quoted cell may span lines: the record's first line)."""
    csv.field_size_limit(max(csv.field_size_limit(), 2**31 - 1))  # Arrow read longer cells
    with open(path, newline="", encoding="utf-8-sig", errors="replace") as fh:
        reader = csv.reader(fh)
        header_seen = False
        start = 1
        for rec in reader:
            line = start
            start = reader.line_num + 1
            if not rec:
                continue
            if not header_seen:
                header_seen = True
                continue
            yield line, rec


def file_lines(path: Path, rows) -> list[int]:
    """File line numbers (header = line 1, blank lines counted) of the 0-based data rows
    ``rows``, as Arrow numbers them (empty lines skipped; a quoted cell may span lines: the
    record's first line)."""
    wanted = sorted(set(int(r) for r in rows))
    found: dict[int, int] = {}
    if not wanted:
        return []
    for k, (line, _) in enumerate(_data_records(path)):
        if k == wanted[len(found)]:
            found[k] = line
            if len(found) == len(wanted):
                break
    return [found.get(int(r), 0) for r in rows]


def first_ragged_line(path: Path, n_columns: int) -> tuple[int, int]:
    """(file line, number of cells) of the first non-empty record whose number of cells
    differs from the header's; (0, 0) if the ``csv`` module finds none."""
    for line, rec in _data_records(path):
        if len(rec) != n_columns:
            return line, len(rec)
    return 0, 0
