"""Our own paths, end to end, through the real stack: enqueue latency, created→DONE latency,
throughput of N jobs with W workers, and the status reports that carried them."""
from __future__ import annotations

import threading
import time

from bench.stats import rate, summary_ms

REPORTS_PER_ZERO_SECOND_JOB = 2  # IN_PROGRESS (start) and DONE: the job has no steps between


def _submit_all(stack, method: str, jobs: int, clients: int) -> tuple[list[float], list[int]]:
    """POST one job per request from `clients` threads (a class of students); request latencies,
    and the jobs' numbers."""
    latencies: list[float] = []
    nums: list[int] = []
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
                nums.extend(answer.json()["task_nums"])
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, nums


FINISHED = {"DONE", "ERROR", "LOST"}


def follow(stack, nums, timeout: float, every_s: float = 0.25) -> dict[int, dict]:
    """The newest row of each of `nums`, read as the page reads them (changes since a seq), until
    every one has finished or `timeout` passed. Polled gently: the figures come from the rows' own
    times, and a bench that polls hard takes the CPU it measures away from the API."""
    wanted, rows = set(nums), {}
    since = stack.session.get(f"{stack.base_url}/api/tasks?limit=1", timeout=30).json()["seq"]
    for chunk in range(0, len(nums), 400):  # where they stand now (a URL stays under 4 kB)
        query = ",".join(map(str, nums[chunk:chunk + 400]))
        for row in stack.session.get(f"{stack.base_url}/api/tasks?nums={query}", timeout=30).json()["tasks"]:
            rows[row["task_num"]] = row
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not all(rows.get(n, {}).get("task_status") in FINISHED for n in wanted):
        answer = stack.session.get(f"{stack.base_url}/api/tasks?since={since}&limit=2000", timeout=30).json()
        for row in answer["tasks"]:
            if row["task_num"] in wanted:
                rows[row["task_num"]] = row
        since = answer["seq"]
        if len(answer["tasks"]) < 2000:
            time.sleep(every_s)
    return rows


def measure_enqueue(stack, method: str, samples: int, clients: int = 4, timeout: float = 600) -> dict:
    """What one request costs: `samples` one-job requests from `clients` threads (students)."""
    latencies, nums = _submit_all(stack, method, samples, clients)
    follow(stack, nums, timeout)
    return summary_ms(latencies)


def measure_throughput(stack, method: str, jobs: int, timeout: float = 600, seconds: float = 0, **options) -> dict:
    """`jobs` jobs of `seconds` (zero: the cost of the path itself) sent in batches of 500 — like
    the floors, which publish in a loop — then drained: jobs/s from the first created to the last
    DONE, created→DONE latency, and how long the sending took (the API publishes with a confirm
    each, so on a busy machine it sends hardly faster than the workers drain). `options`: what else
    each job asks for (keep_result, reply: bench/result_cost.py)."""
    nums = []
    started = time.perf_counter()
    for start in range(0, jobs, 500):
        answer = stack.session.post(stack.base_url + "/api/tasks", timeout=120, json={
            "method": method, "seconds": seconds, "count": min(500, jobs - start), **options})
        answer.raise_for_status()
        nums += answer.json()["task_nums"]
    send_s = time.perf_counter() - started
    rows = [r for r in follow(stack, nums, timeout).values() if r["task_status"] == "DONE"]
    if not rows:
        return {"jobs": jobs, "done": 0, "jobs_per_s": None, "end_to_end": summary_ms([]), "window_s": None,
                "send_s": send_s}
    first = min(r["created_at"] for r in rows)
    last = max(r["finished_at"] for r in rows)
    return {
        "jobs": jobs, "done": len(rows),
        "end_to_end": summary_ms([r["finished_at"] - r["created_at"] for r in rows]),
        "jobs_per_s": rate(len(rows), last - first),
        "status_reports_per_s": rate(REPORTS_PER_ZERO_SECOND_JOB * len(rows), last - first),
        "window_s": last - first, "send_s": send_s,
    }
