"""`GET /healthz`: can this API do its job? Broker reachable and database writable → 200, else 503.

Workers are reported but do not make the API unhealthy: compose starts the API before them.
"""
from __future__ import annotations

import pika
import pika.exceptions

from api.job_store import JobStore
from api.raw_publisher import connection_parameters
from api.settings import Settings, redact_url
from api.worker_registry import WorkerRegistry


def check_broker(settings: Settings) -> dict:
    try:
        pika.BlockingConnection(connection_parameters(settings)).close()
        return {"ok": True, "detail": f"connected to {redact_url(settings.rabbitmq_url)}"}
    except (pika.exceptions.AMQPError, OSError):
        return {"ok": False, "detail": settings.broker_hint}


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
