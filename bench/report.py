"""The bench's output: a table on the terminal and a JSON file per run in bench/results/."""
from __future__ import annotations

import datetime
import json
import os
import platform

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def write_results(results: dict, directory: str = RESULTS_DIR) -> str:
    """Write one run as bench/results/<UTC time>.json (git-ignored) and return its path."""
    os.makedirs(directory, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = os.path.join(directory, f"{stamp}.json")
    document = {"when": stamp, "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                                           "system": platform.platform()}, **results}
    with open(path, "w") as f:
        json.dump(document, f, indent=2, sort_keys=True)
    return path


def _fmt(value, unit: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        value = f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return f"{value}{unit}"


def table(rows: list[tuple[str, object, str, object]]) -> str:
    """Rows of (what, value, unit, goal-or-ratio note) as aligned text."""
    width = max(len(r[0]) for r in rows) + 2
    lines = [f"{'measure'.ljust(width)}{'value':>14}  note", "-" * (width + 40)]
    for what, value, unit, note in rows:
        lines.append(f"{what.ljust(width)}{_fmt(value, unit):>14}  {note or ''}")
    return "\n".join(lines)
