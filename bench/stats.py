"""Percentiles, rates and ratios: the arithmetic of the bench, kept apart so it is unit-tested."""
from __future__ import annotations

import math


def percentile(values: list[float], p: float) -> float | None:
    """The p-th percentile (0–100) by linear interpolation between closest ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * p / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: list[float], points=(50, 95, 99)) -> dict:
    """p50/p95/p99 (and count) of durations given in seconds, reported in milliseconds."""
    result = {f"p{p}_ms": None if (v := percentile(seconds, p)) is None else v * 1000 for p in points}
    result["n"] = len(seconds)
    return result


def rate(count: int, seconds: float) -> float | None:
    """Events per second; None when nothing was timed."""
    return count / seconds if seconds > 0 else None


def ratio(measured: float | None, floor: float | None) -> float | None:
    """measured ÷ floor (e.g. our status API's req/s over the bare endpoint's); None if unknown."""
    if measured is None or not floor:
        return None
    return measured / floor
