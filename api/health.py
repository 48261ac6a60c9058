"""`GET /healthz`: can this API do its job? Broker reachable and database writable → 200, else 503.

Workers are reported but do not make the API unhealthy: compose starts the API before them.
`GET /livez` is the container's health check: the API answers and its database takes a write. It
leaves the broker out on purpose: the broker has its own check, and an API marked unhealthy for the
broker's outage stays so until its next probe after the broker is back — `docker compose up` of any
worker in that moment refuses to start ("dependency failed to start: container api is unhealthy").
"""
from __future__ import annotations

import time

import pika
import pika.exceptions

from api.job_store import JobStore
from api.worker_registry import WorkerRegistry
from queue_lab.broker_connection import connection_parameters
from queue_lab.settings import Settings, redact_url

BROKER_CHECK_CACHE_S = 10.0
_last_broker_check: dict = {}


def check_broker(settings: Settings) -> dict:
    """Open (and close) a connection — at most every 10 s per process, so the Connections tab does
    not flicker with one probe connection per docker healthcheck."""
    cached = _last_broker_check.get(settings.rabbitmq_url)
    if cached and time.monotonic() - cached[0] < BROKER_CHECK_CACHE_S:
        return cached[1]
    try:
        pika.BlockingConnection(connection_parameters(settings, name="queue-lab healthz")).close()
        result = {"ok": True, "detail": f"connected to {redact_url(settings.rabbitmq_url)}"}
    except (pika.exceptions.AMQPError, OSError):
        result = {"ok": False, "detail": settings.broker_hint}
    _last_broker_check[settings.rabbitmq_url] = (time.monotonic(), result)
    return result


def check_database(store: JobStore) -> dict:
    """A real write, rolled back: proves the file is writable and the write lock obtainable."""
    conn = store.db.connection()
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("UPDATE counters SET value = value WHERE name = 'seq'")
        conn.execute("ROLLBACK")
        return {"ok": True, "detail": f"{store.db.path} is writable"}
    except Exception as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        return {"ok": False, "detail": f"cannot write {store.db.path}: {exc}"}


def health(settings: Settings, store: JobStore, registry: WorkerRegistry) -> dict:
    online = registry.online_count()
    report = {
        "broker": check_broker(settings),
        "database": check_database(store),
        "workers": {"online": online, "detail": f"{online} worker(s) announced themselves recently"},
    }
    report["ok"] = report["broker"]["ok"] and report["database"]["ok"]
    return report
