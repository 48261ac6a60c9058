"""Queue depths from RabbitMQ's management HTTP API: `GET /api/queues/<vhost>/<name>`.

The broker recomputes these numbers every 5 s (collect_statistics_interval), so a sample can be up
to 5 s old whatever we do; we keep ours for 1 s so a classroom of pages polling costs the broker
a couple of requests a second, not one per student. (One sample per language: an `error` line is
written in the reader's language.)
"""
from __future__ import annotations

import threading
import time
from urllib.parse import quote, urlsplit

import requests
from flask_babel import get_locale, gettext

from queue_lab.settings import Settings

CACHE_S = 1.0
STATS_INTERVAL_S = 5


class QueueStats:
    def __init__(self, settings: Settings):
        self.settings = settings
        path = urlsplit(settings.rabbitmq_url).path
        self.vhost = quote(path[1:] if len(path) > 1 else "/", safe="")
        self._lock = threading.Lock()
        self._cached: dict[str, tuple[float, dict]] = {}

    def snapshot(self) -> dict:
        language = str(get_locale())
        with self._lock:
            cached = self._cached.get(language)
            if cached and time.monotonic() - cached[0] < CACHE_S:
                return cached[1]
            answer = self._read()
            self._cached[language] = (time.monotonic(), answer)
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
                answer["error"] = gettext(
                    "RabbitMQ management API not reachable at %(url)s — enable it with `rabbitmq-plugins "
                    "enable rabbitmq_management` (the compose image has it), or set RABBITMQ_MANAGEMENT_URL",
                    url=self.settings.management_url)
                answer["queues"] = []
                return answer
            if response.status_code == 401:
                answer["error"] = gettext("the management API at %(url)s refused user %(user)s: set "
                                          "RABBITMQ_MANAGEMENT_USER/_PASSWORD", url=self.settings.management_url,
                                          user=repr(self.settings.management_user))
                return answer
            if response.status_code == 404:
                row["error"] = gettext("not declared yet (no worker has started and nothing was sent)")
            elif not response.ok:
                row["error"] = gettext("management API answered %(status)s", status=response.status_code)
            else:
                data = response.json()
                row.update(messages_ready=data.get("messages_ready", 0),
                           messages_unacknowledged=data.get("messages_unacknowledged", 0),
                           consumers=data.get("consumers", 0))
            answer["queues"].append(row)
        return answer
