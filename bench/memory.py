"""API memory with a long history: fill the database with finished jobs, start the API on it,
use it as a page would, and add up the resident memory of gunicorn's processes."""
from __future__ import annotations

import time

from api.job_store import JobStore
from bench.cpu import group_pids
from queue_lab.job_states import DONE


def fill_history(database_path: str, jobs: int) -> None:
    store = JobStore(database_path)
    for start in range(0, jobs, 500):
        store.create("celery", 0, False, min(500, jobs - start))
    # Finished, as history is: one bulk update, not 100 000 trips through the state machine.
    store.db.connection().execute(
        "UPDATE jobs SET task_status = ?, progress = 100, started_at = created_at, finished_at = created_at,"
        " worker_id = 'bench', attempt = 1 WHERE task_status = 'PENDING'", (DONE,))


def rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def api_rss_mb(master_pid: int) -> dict:
    children = group_pids(master_pid)[1:]  # gunicorn's workers
    workers = {pid: rss_kb(pid) / 1024 for pid in children}
    return {"total_mb": rss_kb(master_pid) / 1024 + sum(workers.values()),
            "largest_worker_mb": max(workers.values(), default=0.0), "processes": 1 + len(children)}


def measure_memory(stack, jobs: int) -> dict:
    started = time.perf_counter()
    fill_history(stack.env["DATABASE_PATH"], jobs)
    fill_s = time.perf_counter() - started
    api = stack.start_api()
    for _ in range(20):  # a few page loads: newest rows, summary, deltas, workers
        for path in ("/api/tasks", "/api/summary", "/api/tasks?since=0&limit=2000", "/api/workers", "/"):
            stack.session.get(stack.base_url + path, timeout=60)
    return {"history_jobs": jobs, "fill_s": fill_s, **api_rss_mb(api.pid)}

