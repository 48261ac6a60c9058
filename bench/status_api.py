"""Our status API against the bare endpoint, with the same client and the same gunicorn config.

Each status request is a real progress report that the state machine applies (progress climbs a
little each time on one of `tasks` running jobs), so it pays for validation, BEGIN IMMEDIATE, the
read-modify-write and the seq bump — everything a worker's report costs.
"""
from __future__ import annotations

import itertools

from bench.http_load import hammer
from bench.probe import PROBE_JOB
from bench.stats import rate, summary_ms
from queue_lab import api_paths


def prepare_status_api(stack, token: str, tasks: int = 200) -> list[int]:
    """`tasks` probe jobs, each "started" on a bench worker: afterwards only their progress moves."""
    nums = stack.session.post(stack.base_url + "/api/tasks", timeout=60, json={
        **PROBE_JOB, "count": min(tasks, 500)}).json()["task_nums"]
    auth = {"Authorization": f"Bearer {token}"}
    for num in nums:
        stack.session.post(stack.base_url + api_paths.STATUS_REPORTS, headers=auth, timeout=30, json={
            "task_num": num, "task_status": "IN_PROGRESS", "worker_id": "bench", "progress": 0,
            "starting": True, "run_id": f"bench-{num}"})
    return nums


_steps = itertools.count(1)  # progress climbs across rounds: a report never goes back (a 409)


def measure_status_api(stack, token: str, requests_total: int, concurrency: int, nums: list[int]) -> dict:
    auth = {"Authorization": f"Bearer {token}"}

    def report(i):
        return {"task_num": nums[i % len(nums)], "task_status": "IN_PROGRESS", "worker_id": "bench",
                "run_id": f"bench-{nums[i % len(nums)]}", "progress": min(99.0, next(_steps) * 1e-4)}

    seconds, latencies, failures = hammer(stack.base_url + api_paths.STATUS_REPORTS, report,
                                          requests_total, concurrency, auth)
    return {"requests_per_s": rate(requests_total - failures, seconds), "latency": summary_ms(latencies),
            "failures": failures, "requests": requests_total}


def measure_bare(base_url: str, requests_total: int, concurrency: int) -> dict:
    seconds, latencies, failures = hammer(base_url + "/bare", lambda i: {"n": i, "status": "IN_PROGRESS"},
                                          requests_total, concurrency)
    return {"requests_per_s": rate(requests_total - failures, seconds), "latency": summary_ms(latencies),
            "failures": failures, "requests": requests_total}
