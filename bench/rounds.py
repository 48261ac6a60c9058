"""Figures you can trust: a ratio measured in rounds that alternate the floor and our path.

One round of each gave the status API 1.19× and 0.72× its floor in two runs, and the raw path's
confirm-bound floor itself moved 6×: on a small shared machine the load of the moment (the other
core, the disk) swings both. So each ratio is measured round by round — floor A, then our path B,
then A, B … — and each round's ratio pairs two measurements taken seconds apart, under the same
conditions. The median of those ratios is the figure; the spread (min–max) says how far to trust it.
"""
from __future__ import annotations

import statistics
from typing import Callable


def summarize(floors: list[float | None], paths: list[float | None]) -> dict:
    """Per-round ratios path ÷ floor; their median, min–max spread and count. Rounds where either
    side measured nothing are left out (and counted as `dropped`)."""
    pairs = [(f, p) for f, p in zip(floors, paths) if f and p is not None]
    ratios = [p / f for f, p in pairs]
    if not ratios:
        return {"median": None, "min": None, "max": None, "spread_pct": None, "rounds": 0,
                "dropped": len(floors), "ratios": [], "floor_median": None, "path_median": None}
    median = statistics.median(ratios)
    return {
        "median": median, "min": min(ratios), "max": max(ratios),
        "spread_pct": 100 * (max(ratios) - min(ratios)) / median if median else None,
        "rounds": len(ratios), "dropped": len(floors) - len(ratios), "ratios": ratios,
        "floor_median": statistics.median(f for f, _ in pairs),
        "path_median": statistics.median(p for _, p in pairs),
    }


def interleaved(pairs: dict[str, tuple[Callable[[], float | None], Callable[[], float | None]]],
                rounds: int, on_round: Callable[[int], None] = lambda r: None) -> dict[str, dict]:
    """For each named (floor, path) pair, `rounds` rounds of floor-then-path, the pairs taking turns
    within a round (so every ratio sees the same stretch of the run). Returns summarize() per name."""
    measured = {name: ([], []) for name in pairs}
    for round_number in range(rounds):
        on_round(round_number)
        for name, (floor, path) in pairs.items():
            measured[name][0].append(floor())
            measured[name][1].append(path())
    return {name: summarize(floors, paths) for name, (floors, paths) in measured.items()}


def run_to_run(runs: list[dict], tolerance: float = 0.15) -> dict[str, dict]:
    """Several runs' headline ratios side by side (`python -m bench --compare N`): each run's
    median, the median of those, the largest deviation from it, and whether every run lies within
    ±tolerance of it — the stability the README's figures claim (three runs of `make bench`)."""
    names = [name for name in runs[0].get("ratios", {}) if all(name in r.get("ratios", {}) for r in runs)]
    result = {}
    for name in names:
        medians = [r["ratios"][name]["median"] for r in runs]
        if None in medians:
            result[name] = {"medians": medians, "center": None, "worst_pct": None, "stable": False}
            continue
        center = statistics.median(medians)
        worst = max(abs(m - center) for m in medians) / center if center else float("inf")
        result[name] = {"medians": medians, "center": center, "worst_pct": 100 * worst,
                        "stable": worst <= tolerance}
    return result
