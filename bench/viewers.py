"""K live viewers (SSE clients) while updates flow, and what a student submitting meanwhile waits.

Each viewer is a thread reading `/api/events`; a sender posts `rate` progress updates per second
for `seconds`; every viewer must converge on the final state. "Converge" = from the last update
sent to the moment the slowest viewer has seen it.
"""
from __future__ import annotations

import http.client
import json
import threading
import time
from urllib.parse import urlsplit

import requests

from bench.probe import PROBE_JOB
from bench.stats import summary_ms
from queue_lab import api_paths


class Viewer(threading.Thread):
    def __init__(self, base_url: str, since: int, watch: set[int]):
        super().__init__(daemon=True)
        self.base_url, self.since, self.watch = base_url, since, watch
        self.latest: dict[int, float] = {}  # task → newest progress seen
        self.final_seen_at: float | None = None
        self.target: dict[int, float] | None = None
        self.connected = threading.Event()
        self.fell_back = False
        self.stop = threading.Event()

    def run(self):
        parts = urlsplit(self.base_url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        conn.request("GET", f"/api/events?since={self.since}")
        response = conn.getresponse()
        if response.status != 200:  # over the server's stream cap: poll, as the page would
            self.fell_back = True
            self.connected.set()
            return self._poll()
        self.connected.set()
        while not self.stop.is_set():
            line = response.readline()
            if not line:
                break
            if line.startswith(b"data: "):
                self._take(json.loads(line[6:])["tasks"])

    def _poll(self):
        session, since = requests.Session(), self.since
        while not self.stop.is_set():
            answer = session.get(f"{self.base_url}/api/tasks?since={since}", timeout=30).json()
            self._take(answer["tasks"])
            since = answer["seq"]
            time.sleep(1.0)

    def _take(self, rows):
        for row in rows:
            if row["task_num"] in self.watch:
                self.latest[row["task_num"]] = row["progress"]
        if self.final_seen_at is None and self.target and all(
                self.latest.get(k) == v for k, v in self.target.items()):
            self.final_seen_at = time.time()


def measure_viewers(stack, token: str, viewers: int, updates_per_s: int, seconds: float) -> dict:
    nums = stack.session.post(stack.base_url + "/api/tasks", timeout=30, json={
        **PROBE_JOB, "count": 20}).json()["task_nums"]
    auth = {"Authorization": f"Bearer {token}"}
    url = stack.base_url + api_paths.STATUS_REPORTS
    for num in nums:
        stack.session.post(url, headers=auth, timeout=30, json={
            "task_num": num, "task_status": "IN_PROGRESS", "worker_id": "bench", "progress": 0, "starting": True})
    since = stack.session.get(stack.base_url + "/api/tasks?limit=1", timeout=30).json()["seq"]
    clients = [Viewer(stack.base_url, since, set(nums)) for _ in range(viewers)]
    for client in clients:
        client.start()
    for client in clients:
        client.connected.wait(30)

    submit_latencies: list[float] = []
    stop_submitting = threading.Event()

    def submitter():  # a student sending jobs while the class watches
        session = requests.Session()
        while not stop_submitting.is_set():
            started = time.perf_counter()
            session.post(stack.base_url + "/api/tasks", json={"method": "rabbitmq", "seconds": 0}, timeout=30)
            submit_latencies.append(time.perf_counter() - started)
            time.sleep(0.05)

    student = threading.Thread(target=submitter, daemon=True)
    student.start()
    session, progress = requests.Session(), {num: 0.0 for num in nums}
    total = int(updates_per_s * seconds)
    started = time.perf_counter()
    for i in range(total):
        num = nums[i % len(nums)]
        progress[num] = min(99.0, progress[num] + 0.1)
        session.post(url, headers=auth, timeout=30, json={
            "task_num": num, "task_status": "IN_PROGRESS", "worker_id": "bench", "progress": progress[num]})
        lag = started + (i + 1) / updates_per_s - time.perf_counter()
        if lag > 0:
            time.sleep(lag)
    sent_rate = total / (time.perf_counter() - started)
    last_sent = time.time()
    for client in clients:
        client.target = dict(progress)
        client._take([])  # it may already be there
    deadline = time.time() + 15
    while time.time() < deadline and any(c.final_seen_at is None for c in clients):
        time.sleep(0.01)
    stop_submitting.set()
    for client in clients:
        client.stop.set()
    converged = [c.final_seen_at - last_sent for c in clients if c.final_seen_at is not None]
    return {
        "viewers": viewers, "updates_per_s_sent": sent_rate,
        "converged": len(converged), "fell_back_to_polling": sum(c.fell_back for c in clients),
        "all_converged_s": max(converged) if len(converged) == viewers else None,
        "convergence": summary_ms(converged),
        "submit_latency": summary_ms(submit_latencies),
    }
