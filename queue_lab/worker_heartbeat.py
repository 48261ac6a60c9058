"""A worker process announcing itself to the API every WORKER_HEARTBEAT_S (the workers panel).

The raw consumer and every Celery pool process run one of these, so both kinds appear the same
way, authenticated with the status token. `stop()` says goodbye so the page shows it offline at once.

Each heartbeat also says how many of the worker's status reports wait to be delivered (`backlog`)
and how many arrived late, after an API outage (`delivered_late`): the reporter announces itself
through this heartbeat before it retries and once it has drained (queue_lab/status_reporter.py).
"""
from __future__ import annotations

import os
import socket
import threading

from queue_lab import api_paths
from queue_lab.status_reporter import StatusReporter


class WorkerHeartbeat:
    def __init__(self, reporter: StatusReporter, kind: str, queue: str, interval_s: float,
                 profile: dict | None = None, broker: str = "rabbitmq", prefetch: int | None = None,
                 refresh=None):
        self.reporter = reporter
        self.refresh = refresh  # () -> dict: facts that change (a Celery node's pool), read before each beat
        self.kind = kind
        self.queue = queue
        self.profile = profile or {}  # the settings that make it behave as it does, as facts the page words
        self.broker, self.prefetch = broker, prefetch  # the same facts as fields, for the page
        self.interval_s = interval_s
        self._stopped = threading.Event()

    def _send(self, leaving: bool = False) -> None:
        if self.refresh is not None:
            facts = self.refresh()
            self.profile = {**self.profile, **facts}
            self.prefetch = facts.get("prefetch_count", self.prefetch)
        self.reporter.post(api_paths.WORKER_HEARTBEAT, {
            "worker_id": self.reporter.worker_id, "kind": self.kind, "hostname": socket.gethostname(),
            "pid": os.getpid(), "queue": self.queue, "profile": self.profile, "leaving": leaving,
            "backlog": self.reporter.backlog, "delivered_late": self.reporter.delivered_late,
            "broker": self.broker, "prefetch": self.prefetch,
        }, f"heartbeat of {self.reporter.worker_id}")

    def start(self) -> "WorkerHeartbeat":
        def beat():
            while not self._stopped.is_set():
                self._send()
                self._stopped.wait(self.interval_s)

        self.reporter.announce = self._send
        threading.Thread(target=beat, name="worker-heartbeat", daemon=True).start()
        return self

    def stop(self) -> None:
        if not self._stopped.is_set():
            self._stopped.set()
            self.reporter.announce = None
            self._send(leaving=True)
