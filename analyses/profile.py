"""``run --profile``: seconds per case and stage as a Markdown table (the README's profile is
generated from it by benchmarks/bench_profile.py).

A case's stages come from its own records: ``result.provenance["timings (s)"]`` (run_case),
the parts of writing its report (``pipeline.write_case``) and the wall seconds of fitting and
writing it.  "compile" is nutpie's compilation of the NUTS log density (``ModelCache``);
find_MAP's compiled functions are built inside its own stage, so a cold run's extra
find_MAP seconds are its compilation.  "other" is the rest of the case's wall time: the
agreement table, loss ledger, translation checks and the picture's data.
"""

from __future__ import annotations

# column -> the timing keys it sums
COLUMNS = {
    "compile": ("nuts compile", "sweeps nuts compile"),
    "find_MAP": ("find_map",),
    "NUTS": ("nuts",),
    "references": ("references",),
    "sweeps": ("sweeps",),
    "figures": ("figures and page", "thumbnail"),
    "report": ("zarr", "results.json", "write"),
}


def row(stages: dict[str, float]) -> dict[str, float]:
    """One case's seconds per column, "other" and "total" (its wall seconds)."""
    out = {col: sum(stages.get(k, 0.0) for k in keys) for col, keys in COLUMNS.items()}
    total = stages.get("total", sum(out.values()))
    out["other"] = max(0.0, total - sum(out.values()))
    out["total"] = total
    return out


def table(cases: dict[str, dict[str, float]], clock: tuple[float, float], workers: int) -> str:
    """A Markdown table: one row per case, the sum over cases, then the run's wall and CPU."""
    rows = {name: row(stages) for name, stages in cases.items()}
    cols = [*COLUMNS, "other", "total"]
    rows["**all cases**"] = {c: sum(r[c] for r in rows.values()) for c in cols}
    lines = [
        "| case | " + " | ".join(cols) + " |",
        "|---|" + "---:|" * len(cols),
    ]
    for name, r in rows.items():
        lines.append(f"| {name} | " + " | ".join(f"{r[c]:.1f}" for c in cols) + " |")
    wall, cpu = clock
    lines.append("")
    lines.append(
        f"Whole run: {wall:.1f} s wall, {cpu:.1f} s CPU (this process and its workers), "
        f"{workers} worker{'s' if workers > 1 else ''} (seconds; per-case columns are "
        f"wall seconds inside each case)."
    )
    return "\n".join(lines)
