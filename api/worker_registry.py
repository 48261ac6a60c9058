"""Which worker processes are alive: each announces itself every few seconds (WorkerHeartbeat).

Flower's users complain that departed workers linger; here a silent worker is shown offline after
`offline_s` and is dropped after `forget_s`, and one that stops cleanly says goodbye and is offline
at once. Jobs done and the current job come from the jobs table, so they cannot disagree with it.

A heartbeat also carries the worker's report backlog: `backlog` (waiting now), `backlog_peak` (the
most that ever waited at once) and `delivered_late` (reports that reached us only after an outage),
so a student sees why rows were stale and that nothing was lost.
"""
from __future__ import annotations

import json
import time

from api.sqlite_db import Database
from queue_lab.job_states import DONE, IN_PROGRESS

SCHEMA = """
CREATE TABLE IF NOT EXISTS workers (
    worker_id  TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    hostname   TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    queue      TEXT,
    profile    TEXT NOT NULL DEFAULT '{}',  -- JSON: the facts of validation.PROFILE_FACTS
    first_seen REAL NOT NULL,
    last_seen  REAL NOT NULL,
    left_at    REAL,
    backlog    INTEGER NOT NULL DEFAULT 0,
    backlog_peak   INTEGER NOT NULL DEFAULT 0,
    delivered_late INTEGER NOT NULL DEFAULT 0,
    broker     TEXT NOT NULL DEFAULT 'rabbitmq',
    prefetch   INTEGER
);
CREATE INDEX IF NOT EXISTS jobs_by_worker ON jobs (worker_id, task_status);
"""


LISTED = ("worker_id", "kind", "hostname", "pid", "queue", "profile", "first_seen", "last_seen",
          "left_at", "backlog", "backlog_peak", "delivered_late", "broker", "prefetch")


class WorkerRegistry:
    def __init__(self, db: Database, offline_s: float, forget_s: float):
        self.db = db
        self.offline_s = offline_s
        self.forget_s = forget_s
        db.connection().executescript(SCHEMA)
        columns = {row[1] for row in db.connection().execute("PRAGMA table_info(workers)")}
        for column, kind in (("profile", "TEXT NOT NULL DEFAULT ''"), *(
                (name, "INTEGER NOT NULL DEFAULT 0") for name in ("backlog", "backlog_peak", "delivered_late")),
                ("broker", "TEXT NOT NULL DEFAULT 'rabbitmq'"), ("prefetch", "INTEGER")):
            if column not in columns:  # made by an earlier version
                db.connection().execute(f"ALTER TABLE workers ADD COLUMN {column} {kind}")

    def heartbeat(self, worker_id: str, kind: str, hostname: str, pid: int, queue: str | None,
                  profile: dict | None = None, leaving: bool = False, backlog: int = 0,
                  delivered_late: int = 0, broker: str = "rabbitmq", prefetch: int | None = None) -> None:
        now = time.time()
        with self.db.write() as conn:
            conn.execute(
                """INSERT INTO workers (worker_id, kind, hostname, pid, queue, profile, first_seen,
                                        last_seen, left_at, backlog, backlog_peak, delivered_late,
                                        broker, prefetch)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (worker_id) DO UPDATE SET kind = excluded.kind,
                       hostname = excluded.hostname, pid = excluded.pid, queue = excluded.queue,
                       profile = excluded.profile, last_seen = excluded.last_seen,
                       left_at = excluded.left_at, backlog = excluded.backlog,
                       backlog_peak = MAX(backlog_peak, excluded.backlog),
                       delivered_late = excluded.delivered_late, broker = excluded.broker,
                       prefetch = excluded.prefetch""",
                (worker_id, kind, hostname, pid, queue, json.dumps(profile or {}), now, now, now if leaving else None,
                 backlog, backlog, delivered_late, broker, prefetch),
            )
            conn.execute("DELETE FROM workers WHERE last_seen < ?", (now - self.forget_s,))

    def listing(self) -> list[dict]:
        """Workers seen within `forget_s`, with jobs done, current job and online/offline."""
        now = time.time()
        with self.db.snapshot() as conn:
            workers = [
                dict(zip(LISTED, row))
                for row in conn.execute(
                    f"SELECT {', '.join(LISTED)} FROM workers WHERE last_seen >= ? ORDER BY kind, first_seen",
                    (now - self.forget_s,),
                )
            ]
            for worker in workers:
                worker["jobs_done"] = conn.execute(
                    "SELECT COUNT(*) FROM jobs WHERE worker_id = ? AND task_status = ?",
                    (worker["worker_id"], DONE),
                ).fetchone()[0]
                worker["current_job"] = conn.execute(
                    "SELECT MAX(task_num) FROM jobs WHERE worker_id = ? AND task_status = ?",
                    (worker["worker_id"], IN_PROGRESS),
                ).fetchone()[0]
                worker["online"] = worker["left_at"] is None and worker["last_seen"] >= now - self.offline_s
                worker["profile"] = _facts(worker["profile"])
        return workers

    def heard_from_within(self, seconds: float) -> set[str]:
        """Workers that sent a heartbeat in the last `seconds` and did not say goodbye."""
        with self.db.snapshot() as conn:
            return {worker_id for (worker_id,) in conn.execute(
                "SELECT worker_id FROM workers WHERE left_at IS NULL AND last_seen >= ?",
                (time.time() - seconds,))}

    def online_count(self) -> int:
        return sum(1 for worker in self.listing() if worker["online"])

    def clear(self) -> None:
        with self.db.write() as conn:
            conn.execute("DELETE FROM workers WHERE left_at IS NOT NULL")


def _facts(stored: str) -> dict:
    """The profile's facts as stored (JSON); an earlier version's sentence is no facts."""
    try:
        facts = json.loads(stored)
    except ValueError:
        return {}
    return facts if isinstance(facts, dict) else {}
