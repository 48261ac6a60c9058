"""Our own paths, end to end, through the real stack: enqueue latency, created→DONE latency,
throughput of N zero-second jobs with W workers, and the status reports that carried them."""
from __future__ import annotations

import threading
import time

from bench.stats import rate, summary_ms

REPORTS_PER_ZERO_SECOND_JOB = 2  # IN_PROGRESS (start) and DONE: the job has no steps between


def _submit_all(stack, method: str, jobs: int, clients: int) -> list[float]:
    """POST one job per request from `clients` threads (a class of students); request latencies."""
    latencies: list[float] = []
    lock = threading.Lock()
    remaining = iter(range(jobs))

    def client():
        session = stack.new_session()
        mine = []
        while True:
            with lock:
                if next(remaining, None) is None:
                    break
            started = time.perf_counter()
            answer = session.post(stack.base_url + "/api/tasks", json={"method": method, "seconds": 0},
                                  timeout=60)
            mine.append(time.perf_counter() - started)
            answer.raise_for_status()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def rows_of(stack, method: str) -> list[dict]:
    """Every row of one method, paging through the delta endpoint."""
    rows, since = {}, 0
    while True:
        answer = stack.session.get(f"{stack.base_url}/api/tasks?since={since}&limit=2000", timeout=30).json()
        for row in answer["tasks"]:
            rows[row["task_num"]] = row
        if not answer["tasks"] or answer["seq"] == since:
            break
        since = answer["seq"]
    return [r for r in rows.values() if r["method"] == method]


def _wait_finished(stack, method: str, total: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done = stack.session.get(stack.base_url + "/api/summary", timeout=30).json()["methods"][method]
        if done["done"] + done["failed"] >= total:
            return
        time.sleep(0.1)


def measure_method(stack, method: str, jobs: int, enqueue_samples: int = 200, clients: int = 4,
                   timeout: float = 600) -> dict:
    """Two runs: `enqueue_samples` one-job requests from `clients` threads (what one request costs),
    then `jobs` sent in batches of 500 — like the floors, which publish in a loop — for
    throughput and created→DONE latency under that load."""
    latencies = _submit_all(stack, method, enqueue_samples, clients)
    _wait_finished(stack, method, enqueue_samples, timeout)
    before = {r["task_num"] for r in rows_of(stack, method)}
    for start in range(0, jobs, 500):
        answer = stack.session.post(stack.base_url + "/api/tasks", timeout=120, json={
            "method": method, "seconds": 0, "count": min(500, jobs - start)})
        answer.raise_for_status()
    _wait_finished(stack, method, enqueue_samples + jobs, timeout)
    rows = [r for r in rows_of(stack, method) if r["task_num"] not in before and r["task_status"] == "DONE"]
    first = min(r["created_at"] for r in rows)
    last = max(r["finished_at"] for r in rows)
    return {
        "jobs": jobs, "done": len(rows),
        "enqueue": summary_ms(latencies),
        "end_to_end": summary_ms([r["finished_at"] - r["created_at"] for r in rows]),
        "jobs_per_s": rate(len(rows), last - first),
        "status_reports_per_s": rate(REPORTS_PER_ZERO_SECOND_JOB * len(rows), last - first),
        "window_s": last - first,
    }
