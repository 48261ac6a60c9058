"""A class at once: 30 students each send a batch of 50 one-second jobs by a random method within the
same 10 seconds, while 30 browsers' worth of SSE viewers watch the table.

Reported: the time until every job is DONE against the ideal (the work of each method divided by its
workers; a synchronous batch is its own worker, 50 s), the submit p95 of the queued methods (a
synchronous batch holds its request for 50 s by design: reported apart), the slowest viewer's lag
(from a row's DONE on the API's clock to the moment the viewer read it), and every error or 5xx.
"""
from __future__ import annotations

import http.client
import json
import random
import threading
import time
from urllib.parse import urlsplit

from bench.pipeline import follow
from bench.report import table
from bench.stats import percentile, summary_ms

METHODS = ("celery", "celery_redis", "rabbitmq", "sync")
QUEUED = ("celery", "celery_redis", "rabbitmq")


class Watcher(threading.Thread):
    """One browser's live feed (SSE): when it saw each job DONE, on this machine's clock."""

    def __init__(self, base_url: str, since: int):
        super().__init__(daemon=True)
        self.base_url, self.since = base_url, since
        self.done_seen: dict[int, float] = {}
        self.stop = threading.Event()
        self.connected = threading.Event()
        self.status = None

    def run(self):
        parts = urlsplit(self.base_url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        conn.request("GET", f"/api/events?since={self.since}")
        response = conn.getresponse()
        self.status = response.status
        self.connected.set()
        while not self.stop.is_set() and response.status == 200:
            line = response.readline()
            if not line:
                break
            if line.startswith(b"data: "):
                now = time.time()
                for row in json.loads(line[6:])["tasks"]:
                    if row["task_status"] == "DONE":
                        self.done_seen.setdefault(row["task_num"], now)


def measure_class_at_once(stack, token: str, start_workers, students: int = 30, jobs_each: int = 50,
                          seconds: float = 1.0, window_s: float = 10.0, viewers: int = 30,
                          workers: int = 4, seed: int = 7) -> dict:
    stack.start_api()
    start_workers(stack, workers)
    since = stack.session.get(stack.base_url + "/api/tasks?limit=1", timeout=30).json()["seq"]
    watchers = [Watcher(stack.base_url, since) for _ in range(viewers)]
    for watcher in watchers:
        watcher.start()
    for watcher in watchers:
        watcher.connected.wait(30)
    chooser = random.Random(seed)
    plan = [(chooser.uniform(0, window_s), chooser.choice(METHODS)) for _ in range(students)]
    answers: list[dict] = []
    lock = threading.Lock()
    began = time.perf_counter()

    def student(number: int, at: float, method: str):
        session = stack.new_session()
        time.sleep(max(0.0, at - (time.perf_counter() - began)))
        started = time.perf_counter()
        response = session.post(stack.base_url + "/api/tasks", timeout=600, json={
            "method": method, "seconds": seconds, "count": jobs_each, "owner": f"student {number + 1}"})
        took = time.perf_counter() - started
        with lock:
            answers.append({"method": method, "status": response.status_code, "took_s": took,
                            "nums": response.json().get("task_nums", []) if response.status_code < 500 else []})

    threads = [threading.Thread(target=student, args=(i, at, method)) for i, (at, method) in enumerate(plan)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    nums = [num for answer in answers for num in answer["nums"]]
    rows = follow(stack, nums, timeout=900)
    time.sleep(1)  # the watchers' last events
    for watcher in watchers:
        watcher.stop.set()
    done = [r for r in rows.values() if r["task_status"] == "DONE"]
    by_method = {m: sum(1 for a in answers if a["method"] == m) * jobs_each for m in METHODS}
    ideal = max([by_method[m] * seconds / workers for m in QUEUED] + ([jobs_each * seconds] if by_method["sync"] else []))
    first_created = min(r["created_at"] for r in rows.values())
    last_done = max((r["finished_at"] for r in done), default=first_created)
    lags = []
    for watcher in watchers:
        mine = [watcher.done_seen[num] - rows[num]["finished_at"] for num in watcher.done_seen if num in rows
                and rows[num]["finished_at"]]
        lags.append(max(mine) if mine else None)
    queued_submits = [a["took_s"] for a in answers if a["method"] in QUEUED]
    return {
        "students": students, "jobs_each": jobs_each, "job_seconds": seconds, "window_s": window_s,
        "viewers": viewers, "workers_per_kind": workers, "jobs": len(nums), "jobs_by_method": by_method,
        "done": len(done), "not_done": len(rows) - len(done),
        "all_done_s": last_done - first_created, "ideal_s": ideal,
        "vs_ideal": (last_done - first_created) / ideal if ideal else None,
        "submit_queued": summary_ms(queued_submits),
        "submit_sync_s": [round(a["took_s"], 1) for a in answers if a["method"] == "sync"],
        "viewer_lag_max_s": max((lag for lag in lags if lag is not None), default=None),
        "viewer_lag_p95_of_maxima_s": percentile([lag for lag in lags if lag is not None], 95),
        "viewers_saw_every_done": sum(1 for w in watchers if len(w.done_seen.keys() & set(nums)) == len(done)),
        "errors": sum(1 for a in answers if a["status"] >= 400),
        "server_errors": sum(1 for a in answers if a["status"] >= 500),
        "viewer_refusals": sum(1 for w in watchers if w.status != 200),
    }


def class_table(r: dict) -> str:
    return table([
        ("class: jobs sent / DONE", f"{r['jobs']} / {r['done']}", "", f"{r['students']} students × {r['jobs_each']} "
         f"× {r['job_seconds']:g} s within {r['window_s']:g} s; by method {r['jobs_by_method']}"),
        ("class: until every job DONE", r["all_done_s"], " s", f"ideal {r['ideal_s']:.0f} s (work ÷ "
         f"{r['workers_per_kind']} workers a kind) → {r['vs_ideal']:.2f}× ideal"),
        ("class: submit p95 (queued methods)", r["submit_queued"]["p95_ms"], " ms",
         f"p50 {r['submit_queued']['p50_ms']:.0f} ms; sync batches held their request {r['submit_sync_s']} s"),
        ("class: slowest viewer's lag", None if r["viewer_lag_max_s"] is None else r["viewer_lag_max_s"] * 1000, " ms",
         f"{r['viewers']} viewers; {r['viewers_saw_every_done']} saw every DONE"),
        ("class: errors / 5xx", f"{r['errors']} / {r['server_errors']}", "", f"{r['viewer_refusals']} viewers refused"),
    ])
