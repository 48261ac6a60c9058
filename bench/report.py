"""The bench's output: a table on the terminal and a JSON file per run in bench/results/."""
from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path

from bench.rounds import run_to_run

RESULTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")

# The headline ratios: our path over its floor, measured round by round (README "Performance").
HEADLINES = {
    "status_api_vs_bare_endpoint": "status API / bare Flask+SQLite endpoint (req/s)",
    "rabbitmq_vs_bare_pika": "RabbitMQ path / pika confirm→consume→ack (jobs/s)",
    "celery_vs_bare_celery": "Celery path / bare Celery no-op (jobs/s)",
    "celery_redis_vs_bare_celery_redis": "Celery·Redis path / bare Celery no-op on Redis (jobs/s)",
    "delay_cost_vs_pika_publish": "one delay() costs N bare pika publishes",
}


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


def compare(runs: int, directory: str) -> int:
    """The last `runs` result files with headline ratios, side by side: are the figures stable?"""
    documents = [json.loads(path.read_text()) for path in sorted(Path(directory).glob("*.json"))]
    documents = [d for d in documents if d.get("ratios")][-runs:]
    if len(documents) < 2:
        print(f"need at least 2 runs with headline ratios in {directory}; found {len(documents)}")
        return 1
    rows = []
    order = list(HEADLINES)
    compared = run_to_run(documents)
    for name in sorted(compared, key=lambda n: order.index(n) if n in order else len(order)):
        c = compared[name]
        medians = " · ".join("—" if m is None else f"{m:.2f}" for m in c["medians"])
        verdict = "no figure" if c["center"] is None else (
            f"{'stable' if c['stable'] else 'NOT stable'}: worst {c['worst_pct']:.0f} % from {c['center']:.2f}")
        rows.append((HEADLINES.get(name, name), medians, "", verdict))
    print(f"runs: {', '.join(d['when'] for d in documents)}")
    print(table(rows))
    return 0
