"""A small HTTP load generator: `concurrency` threads, each with one kept-alive connection.

The same generator drives the bare endpoint and our status API, so their ratio compares the
servers, not the clients (on 2 cores the client takes its share of CPU from both alike).
"""
from __future__ import annotations

import http.client
import json
import threading
import time
from urllib.parse import urlsplit


def hammer(url: str, body_for, total: int, concurrency: int = 16, headers: dict | None = None):
    """POST `total` JSON bodies (`body_for(i)`) to `url`. Returns (seconds, latencies, failures)."""
    parts = urlsplit(url)
    latencies: list[float] = []
    failures = [0]
    counter = iter(range(total))
    lock = threading.Lock()
    send_headers = {"Content-Type": "application/json", **(headers or {})}

    def worker():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        mine = []
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            started = time.perf_counter()
            try:
                conn.request("POST", parts.path, json.dumps(body_for(i)), send_headers)
                response = conn.getresponse()
                response.read()
                ok = response.status < 400
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                ok = False
            mine.append(time.perf_counter() - started)
            if not ok:
                with lock:
                    failures[0] += 1
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, latencies, failures[0]
