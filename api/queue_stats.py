"""Queue depths from RabbitMQ's management HTTP API: `GET /api/queues/<vhost>/<name>`.

The broker recomputes these numbers every 5 s (collect_statistics_interval), so a sample can be up
to 5 s old whatever we do; we keep ours for 1 s so a classroom of pages polling costs the broker
a couple of requests a second, not one per student.
"""
from __future__ import annotations

import threading
import time
from urllib.parse import quote, urlsplit

import requests

from queue_lab.settings import Settings

CACHE_S = 1.0
STATS_INTERVAL_S = 5


class QueueStats:
    def __init__(self, settings: Settings):
        self.settings = settings
        path = urlsplit(settings.rabbitmq_url).path
        self.vhost = quote(path[1:] if len(path) > 1 else "/", safe="")
        self._lock = threading.Lock()
        self._cached: tuple[float, dict] | None = None

    def snapshot(self) -> dict:
        with self._lock:
            if self._cached and time.monotonic() - self._cached[0] < CACHE_S:
                return self._cached[1]
            answer = self._read()
            self._cached = (time.monotonic(), answer)
            return answer

    def _read(self) -> dict:
        queues = [("rabbitmq", self.settings.queues.raw.work), ("celery", self.settings.queues.celery)]
        answer = {
            "queues": [],
            "management_ui": f"{self.settings.management_public_url}/#/queues",
            "sampled_at": time.time(),
            "stats_interval_s": STATS_INTERVAL_S,
            "error": None,
        }
        auth = (self.settings.management_user, self.settings.management_password)
        for path, name in queues:
            row = {"name": name, "path": path, "messages_ready": None,
                   "messages_unacknowledged": None, "consumers": None, "error": None}
            url = f"{self.settings.management_url}/api/queues/{self.vhost}/{quote(name, safe='')}"
            try:
                response = requests.get(url, auth=auth, timeout=2)
            except requests.RequestException:
                answer["error"] = (
                    f"RabbitMQ management API not reachable at {self.settings.management_url} — enable "
                    "it with `rabbitmq-plugins enable rabbitmq_management` (the compose image has it), "
                    "or set RABBITMQ_MANAGEMENT_URL"
                )
                answer["queues"] = []
                return answer
            if response.status_code == 401:
                answer["error"] = (f"the management API at {self.settings.management_url} refused user "
                                   f"{self.settings.management_user!r}: set RABBITMQ_MANAGEMENT_USER/_PASSWORD")
                return answer
            if response.status_code == 404:
                row["error"] = "not declared yet (no worker has started and nothing was sent)"
            elif not response.ok:
                row["error"] = f"management API answered {response.status_code}"
            else:
                data = response.json()
                row.update(messages_ready=data.get("messages_ready", 0),
                           messages_unacknowledged=data.get("messages_unacknowledged", 0),
                           consumers=data.get("consumers", 0))
            answer["queues"].append(row)
        return answer
