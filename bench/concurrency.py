"""Concurrency vs replicas vs prefetch (`python -m bench --only concurrency`, the concurrency lesson):
the same mix of long and short Celery jobs, sent in the same order, to four slots arranged four ways:

    1 × 4, prefetch ×1    one worker, --concurrency 4: one connection, prefetch_count 4
    4 × 1, prefetch ×1    four replicas of one process each: four connections, prefetch 1 each
    4 × 1, prefetch ×4    four replicas, each reserving 4 messages: a busy one keeps jobs an idle one could run
    1 × 4, prefetch ×4    one worker reserving 16, handing each to whichever of its processes frees first

For each: the makespan against its floor (the work ÷ 4 slots, measured against nothing else: a
ratio, not a timing), how long the short jobs waited (mean and worst), and how evenly the slots
worked (Jain's index of each process's busy seconds: 1 = even, 1/4 = one did everything).
"""
from __future__ import annotations

import statistics

LONG_S, SHORT_S, ROUNDS = 3.0, 0.3, 4  # each round: a long job, then three short ones
SLOTS = 4
SHAPES = {  # name → (workers, processes each, prefetch multiplier)
    "1 × 4, prefetch ×1": (1, 4, 1),
    "4 × 1, prefetch ×1": (4, 1, 1),
    "4 × 1, prefetch ×4": (4, 1, 4),
    "1 × 4, prefetch ×4": (1, 4, 4),
}


def mix() -> list[float]:
    return [seconds for _ in range(ROUNDS) for seconds in (LONG_S, SHORT_S, SHORT_S, SHORT_S)]


def jain(values: list[float]) -> float | None:
    """Jain's fairness index: (Σx)² / (n · Σx²), from 1/n (one did all) to 1 (all the same)."""
    if not values or not any(values):
        return None
    return sum(values) ** 2 / (len(values) * sum(v * v for v in values))


def shape_figures(rows: list[dict], slots: int = SLOTS) -> dict:
    """What one shape's rows say: makespan and its floor, the short jobs' waits, the slots' evenness."""
    created = min(r["created_at"] for r in rows)
    makespan = max(r["finished_at"] for r in rows) - created
    work = sum(r["seconds"] for r in rows)
    busy: dict[str, float] = {}
    for r in rows:
        busy[r["worker_id"]] = busy.get(r["worker_id"], 0.0) + (r["finished_at"] - r["started_at"])
    waits = [r["started_at"] - r["created_at"] for r in rows if r["seconds"] == SHORT_S]
    return {"makespan_s": round(makespan, 2), "floor_s": round(work / slots, 2),
            "floor_over_makespan": round(work / slots / makespan, 2) if makespan else None,
            "short_wait_mean_s": round(statistics.fmean(waits), 2) if waits else None,
            "short_wait_max_s": round(max(waits), 2) if waits else None,
            "slots_used": len(busy), "jain": round(jain([*busy.values(), *[0.0] * (slots - len(busy))]) or 0, 2)}


def measure_concurrency(new_stack, step) -> dict:
    results = {}
    for name, (workers, processes, multiplier) in SHAPES.items():
        step(f"concurrency: {name} — {len(mix())} jobs")
        stack = new_stack(f"concurrency-{workers}x{processes}-p{multiplier}")
        try:
            stack.start_api()
            for i in range(workers):
                stack.start_celery_worker(f"celery{i}", CELERY_CONCURRENCY=str(processes),
                                          CELERY_PREFETCH_MULTIPLIER=str(multiplier))
            nums = [n for seconds in mix() for n in stack.submit("celery", seconds=seconds).json()["task_nums"]]
            rows = list(stack.wait_finished(nums, 300).values())
            results[name] = shape_figures(rows)
        finally:
            stack.stop()
    return results


def concurrency_rows(results: dict) -> list[tuple]:
    return [(f"Celery {name}: floor / makespan", r["floor_over_makespan"], "×",
             f"makespan {r['makespan_s']:.2f} s (floor {r['floor_s']:.2f} s); short jobs waited "
             f"{r['short_wait_mean_s']:.2f} s on average, {r['short_wait_max_s']:.2f} s at worst; "
             f"{r['slots_used']} of {SLOTS} slots worked, Jain {r['jain']:.2f}")
            for name, r in results.items()]
