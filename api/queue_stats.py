"""Queue depths from RabbitMQ's management HTTP API (`GET /api/queues/<vhost>`), and from Redis for
Celery on Redis: the list's length (LLEN) is what waits, and the hash of delivered, unacked
messages Celery keeps beside it (HLEN) what the workers hold — Redis has no idea of consumers.

The broker recomputes these numbers every 5 s (collect_statistics_interval), so a sample can be up
to 5 s old whatever we do; we keep ours for 1 s so a classroom of pages polling costs the broker
a couple of requests a second, not one per student. (One sample per language: an `error` line is
written in the reader's language.)
"""
from __future__ import annotations

import threading
import time
import redis
from flask_babel import get_locale, gettext

from queue_lab.management_api import ManagementAPI, ManagementError
from queue_lab.settings import Settings, redact_url

CACHE_S = 1.0
STATS_INTERVAL_S = 5
# The queues a worker should be consuming: one that holds ready jobs and has no consumer says so
# ("no consumer on queue X") — the routes lesson's lane with its worker paused or never started.
# (.wait, .delay, .dead and .parked have no consumer on purpose.)
CONSUMED_ROLES = {"work", "early", "long"}


def redis_unreachable(settings: Settings) -> str:
    """Settings.redis_hint in the reader's language: the queues panel and the API's 503 both say it."""
    return gettext("Redis is not reachable at %(url)s — start it (`redis-server`, or `docker compose "
                   "--profile redis up -d`), or set REDIS_URL", url=redact_url(settings.redis_url))


def management_failure(error: ManagementError) -> str:
    """What went wrong asking the management API, in the reader's language, with what to do."""
    if error.kind == "unreachable":
        return gettext("RabbitMQ management API not reachable at %(url)s — enable it with `rabbitmq-plugins "
                       "enable rabbitmq_management` (the compose image has it), or set RABBITMQ_MANAGEMENT_URL",
                       url=error.url)
    if error.kind == "refused":
        return gettext("the management API at %(url)s refused user %(user)s: set "
                       "RABBITMQ_MANAGEMENT_USER/_PASSWORD", url=error.url, user=repr(error.user))
    return gettext("management API answered %(status)s", status=error.status)


class QueueStats:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.management = ManagementAPI.from_settings(settings)
        self._lock = threading.Lock()
        self._cached: dict[str, tuple[float, dict]] = {}
        self._version: str | None = None
        self._redis = redis.Redis.from_url(settings.redis_url, socket_timeout=1, socket_connect_timeout=1)

    def snapshot(self) -> dict:
        return self._kept("queues", self._read)

    def routing(self) -> dict:
        """The routing lesson's picture: our exchanges and every binding from them, as the broker has
        them now (`GET /api/bindings/<vhost>`), with each bound queue's depth and consumers."""
        return self._kept("routing", self._read_routing)

    def _kept(self, what: str, read) -> dict:
        """`read()`'s answer, kept CACHE_S per language: a class of pages polling asks the broker once."""
        key = (what, str(get_locale()))
        with self._lock:
            cached = self._cached.get(key)
            if cached and time.monotonic() - cached[0] < CACHE_S:
                return cached[1]
            answer = read()
            self._cached[key] = (time.monotonic(), answer)
            return answer

    def exchanges(self) -> list[dict]:
        """The exchanges drawn, in order: the routing lesson's direct and topic ones (tutorials 4 and 5),
        and the control exchange the rate limit fans out on (tutorial 3)."""
        q = self.settings.queues
        return [{"name": name, "type": kind, "role": "routing"} for kind, name in q.exchanges.items()] + [
            {"name": q.control, "type": "fanout", "role": "control"}]

    def _read_routing(self) -> dict:
        answer = {"exchanges": self.exchanges(), "bindings": [], "queues": {}, "error": None,
                  "management_ui": f"{self.settings.management_public_url}/#/exchanges", "sampled_at": time.time()}
        ours = {exchange["name"] for exchange in answer["exchanges"]}
        try:
            bindings = [b for b in self.management.bindings() if b.get("source") in ours]
            listed = {row["name"]: row for row in self.management.queues(
                ("name", "messages_ready", "messages_unacknowledged", "consumers", "exclusive"))}
        except ManagementError as error:
            answer["error"] = management_failure(error)
            return answer
        own = {}  # each consumer's exclusive, server-named queue on the control exchange: drawn as one
        for binding in sorted(bindings, key=lambda b: (b["source"], b["destination"], b.get("routing_key", ""))):
            queue = listed.get(binding["destination"], {})
            if queue.get("exclusive"):
                own.setdefault(binding["source"], []).append(queue)
                continue
            answer["bindings"].append({"exchange": binding["source"], "queue": binding["destination"],
                                       "key": binding.get("routing_key", "")})
            answer["queues"][binding["destination"]] = self._depth(queue)
        for exchange, queues in own.items():
            label = gettext("consumers' own queues (×%(count)s)", count=len(queues))
            answer["bindings"].append({"exchange": exchange, "queue": label, "key": "", "exclusive": len(queues)})
            answer["queues"][label] = {"messages_ready": sum(q.get("messages_ready", 0) for q in queues),
                                       "messages_unacknowledged": sum(q.get("messages_unacknowledged", 0) for q in queues),
                                       "consumers": sum(q.get("consumers", 0) for q in queues)}
        return answer

    @staticmethod
    def _depth(queue: dict) -> dict:
        return {name: queue.get(name, 0) for name in ("messages_ready", "messages_unacknowledged", "consumers")}

    def layout(self) -> list[dict]:
        """Our queues in the order the page draws them: lane (the path), role, family (classic or
        quorum), a short label, and `path` for the ones the queues panel lists."""
        q = self.settings.queues
        return [
            {"lane": "celery", "role": "work", "family": "classic", "name": q.celery, "short": q.celery, "path": "celery"},
            {"lane": "celery", "role": "early", "family": "classic", "name": q.celery_early, "short": ".early", "path": None},
            {"lane": "celery", "role": "long", "family": "classic", "name": q.celery_long, "short": ".long", "path": "celery_long"},
            {"lane": "rabbitmq", "role": "work", "family": "classic", "name": q.raw.work, "short": q.raw.work, "path": "rabbitmq"},
            {"lane": "rabbitmq", "role": "wait", "family": "classic", "name": q.raw.wait, "short": ".wait", "path": None},
            {"lane": "rabbitmq", "role": "delay", "family": "classic", "name": q.raw.delay, "short": ".delay", "path": None},
            {"lane": "rabbitmq", "role": "dead", "family": "classic", "name": q.raw.dead, "short": ".dead", "path": None},
            {"lane": "rabbitmq", "role": "work", "family": "quorum", "name": q.quorum.work, "short": ".quorum", "path": "quorum"},
            {"lane": "rabbitmq", "role": "dead", "family": "quorum", "name": q.quorum.dead, "short": ".q.dead", "path": None},
            {"lane": "rabbitmq", "role": "parked", "family": "quorum", "name": q.quorum.parked, "short": ".q.parked", "path": None},
        ]

    def _read(self) -> dict:
        """One request for every queue of our vhost, then ours picked out of it (the broker may be shared)."""
        answer = {
            "queues": [],
            "management_ui": f"{self.settings.management_public_url}/#/queues",
            "sampled_at": time.time(),
            "stats_interval_s": STATS_INTERVAL_S,
            "rabbitmq_version": None,
            "error": None,
        }
        listed, failure = {}, None
        try:
            listed = {row["name"]: row for row in self.management.queues(
                ("name", "type", "messages_ready", "messages_unacknowledged", "consumers"))}
        except ManagementError as error:
            if error.kind != "status":
                answer["error"] = management_failure(error)
                return answer
            failure = (gettext("the management API has no vhost %(vhost)s (404): check the vhost at the end "
                               "of RABBITMQ_URL", vhost=repr(self.management.vhost))
                       if error.status == 404 else management_failure(error))
        for queue in self.layout():
            row = {**queue, "messages_ready": None, "messages_unacknowledged": None, "consumers": None,
                   "error": None}
            found = listed.get(queue["name"])
            if failure:
                row["error"] = failure
            elif found is None:
                row["error"] = gettext("not declared yet (no worker has started and nothing was sent)")
            else:
                row.update(messages_ready=found.get("messages_ready", 0),
                           messages_unacknowledged=found.get("messages_unacknowledged", 0),
                           consumers=found.get("consumers", 0), type=found.get("type"))
                if queue["role"] in CONSUMED_ROLES and row["consumers"] == 0 and row["messages_ready"]:
                    row["no_consumer"] = gettext("no consumer on queue %(queue)s: its jobs wait for a worker",
                                                 queue=queue["name"])
            answer["queues"].append(row)
        answer["queues"].append(self._redis_row())
        answer["rabbitmq_version"] = self.version()
        return answer

    def _redis_row(self) -> dict:
        queue = self.settings.queues.celery
        row = {"lane": "celery_redis", "role": "work", "family": "redis", "name": queue, "short": queue,
               "path": "celery_redis", "messages_ready": None, "messages_unacknowledged": None,
               "consumers": None, "error": None,
               "visibility_timeout_s": self.settings.redis_visibility_timeout_s}
        try:
            with self._redis.pipeline() as pipe:
                ready, unacked = pipe.llen(queue).hlen(f"{queue}.unacked").execute()
        except redis.RedisError:
            row["error"] = redis_unreachable(self.settings)
            return row
        row.update(messages_ready=ready, messages_unacknowledged=unacked)
        return row

    def redis_started_at(self) -> float | None:
        """When Redis last started, if it keeps nothing on disk (no append-only file): everything that
        waited in it before then is gone. None when it persists, or cannot be asked."""
        try:
            info = self._redis.info()  # every section in one round trip: server and persistence
        except redis.RedisError:
            return None
        if info.get("aof_enabled"):
            return None
        return time.time() - float(info["uptime_in_seconds"])

    def version(self) -> str | None:
        """The broker's version, as the management API tells it (the quorum lesson says what
        changed in which version): asked once, then kept."""
        if self._version is None:
            try:
                self._version = self.management.overview().get("rabbitmq_version")
            except ManagementError:
                return None
        return self._version
