"""Jobs in SQLite: the one place every status lands, safe with several processes writing at once
(api/sqlite_db.py: WAL, busy timeout, BEGIN IMMEDIATE, a connection per process and thread).

Every write transaction takes the next value of one counter, `seq`, and stamps the rows it touched:
  "what changed since seq N" is then one indexed query, which feeds the live table.
"""
from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from typing import Iterable, Iterator

from api.sqlite_db import Database, retry_while_locked
from queue_lab.job_states import (
    DONE, ERROR, FINAL, IN_PROGRESS, LOST, PENDING, RETRYING, SCHEDULED, Decision, Report,
    decide,
)

COLUMNS = (
    "task_num", "method", "seconds", "fail", "task_status", "progress", "worker_id", "run_id",
    "attempt", "celery_id", "error", "created_at", "started_at", "finished_at", "due_at", "updated_at",
    "reruns", "owner", "delivery_count", "counted_by", "queue", "dead_lettered", "result", "result_backend", "result_client", "reply_id",
    "reply", "follows", "released_at", "routing_key", "seq",
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    task_num    INTEGER PRIMARY KEY AUTOINCREMENT,
    method      TEXT    NOT NULL,
    seconds     REAL    NOT NULL,
    fail        INTEGER NOT NULL DEFAULT 0,
    task_status TEXT    NOT NULL,
    progress    REAL    NOT NULL DEFAULT 0,
    worker_id   TEXT,
    run_id      TEXT,
    attempt     INTEGER NOT NULL DEFAULT 0,
    celery_id   TEXT,
    error       TEXT,
    created_at  REAL    NOT NULL,
    started_at  REAL,
    finished_at REAL,
    due_at      REAL,
    updated_at  REAL,
    reruns      INTEGER NOT NULL DEFAULT 0,
    owner       TEXT,
    delivery_count INTEGER,
    counted_by  TEXT,
    queue       TEXT,
    dead_lettered INTEGER NOT NULL DEFAULT 0,
    result      INTEGER,  -- DONE: what the job computed (timed_job.job_answer)
    result_backend TEXT,  -- keep_result: where Celery keeps it too, "rpc://" or "redis"
    result_client  TEXT,  -- rpc:// only: the API process the result goes back to (host:pid)
    reply_id    TEXT,     -- RPC by hand: the correlation_id its message carried
    reply       TEXT,     -- ...and the consumer's reply, as it came back (JSON)
    follows     TEXT,     -- canvas: the jobs whose results it takes, as a JSON list (chain: one)
    released_at REAL,     -- ...by hand: when the API sent it on, its inputs all DONE
    routing_key TEXT,     -- routed by an exchange (its name in queue): the key it was published with
    seq         INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_seq ON jobs (seq);
CREATE TABLE IF NOT EXISTS job_events (
    task_num    INTEGER NOT NULL,
    at          REAL    NOT NULL,
    task_status TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    worker_id   TEXT,
    detail      TEXT
);
CREATE INDEX IF NOT EXISTS job_events_by_task ON job_events (task_num, at);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters (name, value) VALUES ('seq', 0);
INSERT OR IGNORE INTO counters (name, value) VALUES ('epoch', 0);
"""

# The summary table's figures, kept by triggers in the same transaction as every write, so
# /api/summary reads a few dozen rows instead of scanning the history: with 1M jobs the scan took
# 1.4 s of CPU, once a second for every open page (bench --scaling). A job counts under its method
# and current status; on every change it leaves its old (method, status) and joins its new one.
_CONTRIBUTION = """
    INSERT INTO method_totals VALUES ({row}.method, {row}.task_status, {sign},
        {sign} * coalesce({row}.started_at - {row}.created_at, 0), {sign} * ({row}.started_at IS NOT NULL),
        {sign} * coalesce({row}.finished_at - {row}.started_at, 0),
        {sign} * ({row}.finished_at IS NOT NULL AND {row}.started_at IS NOT NULL))
    ON CONFLICT (method, task_status) DO UPDATE SET jobs = jobs + excluded.jobs,
        wait_sum = wait_sum + excluded.wait_sum, wait_n = wait_n + excluded.wait_n,
        run_sum = run_sum + excluded.run_sum, run_n = run_n + excluded.run_n;"""
TOTALS_SCHEMA = (
    """CREATE TABLE method_totals (
        method TEXT NOT NULL, task_status TEXT NOT NULL, jobs INTEGER NOT NULL,
        wait_sum REAL NOT NULL, wait_n INTEGER NOT NULL, run_sum REAL NOT NULL, run_n INTEGER NOT NULL,
        PRIMARY KEY (method, task_status))""",
    """INSERT INTO method_totals
        SELECT method, task_status, COUNT(*), coalesce(SUM(started_at - created_at), 0), COUNT(started_at),
               coalesce(SUM(finished_at - started_at), 0), COUNT(finished_at - started_at)
        FROM jobs GROUP BY method, task_status""",  # a database from before the totals
    "CREATE TRIGGER jobs_totals_insert AFTER INSERT ON jobs BEGIN"
    + _CONTRIBUTION.format(row="new", sign=1) + " END",
    "CREATE TRIGGER jobs_totals_delete AFTER DELETE ON jobs BEGIN"
    + _CONTRIBUTION.format(row="old", sign=-1) + " END",
    "CREATE TRIGGER jobs_totals_update AFTER UPDATE OF method, task_status, created_at, started_at, finished_at"
    " ON jobs WHEN old.method IS NOT new.method OR old.task_status IS NOT new.task_status"
    " OR old.created_at IS NOT new.created_at OR old.started_at IS NOT new.started_at"
    " OR old.finished_at IS NOT new.finished_at BEGIN"
    + _CONTRIBUTION.format(row="old", sign=-1) + _CONTRIBUTION.format(row="new", sign=1) + " END",
)



class UnknownTask(LookupError):
    pass


class TooManyWaiting(Exception):
    """The class's waiting jobs (PENDING + SCHEDULED) would pass MAX_WAITING_JOBS: nothing created."""

    def __init__(self, waiting: int, limit: int, asked: int):
        super().__init__(f"{waiting} jobs wait, the limit is {limit}, {asked} more asked")
        self.waiting, self.limit, self.asked = waiting, limit, asked


def _as_dict(row: sqlite3.Row) -> dict:
    job = dict(zip(COLUMNS, row))
    job["fail"] = bool(job["fail"])
    job["dead_lettered"] = bool(job["dead_lettered"])
    if job["reply"] is not None:
        job["reply"] = json.loads(job["reply"])  # filed only as a JSON object (routes/tasks.py)
    if job["follows"] is not None:
        job["follows"] = json.loads(job["follows"])  # written by create() only: a list of task numbers
    return job


class JobStore:
    def __init__(self, path: str):
        self.db = Database(path, SCHEMA)
        self._connection = self.db.connection
        self._snapshot = self.db.snapshot
        self._add_missing_columns()
        self._keep_method_totals()

    def _add_missing_columns(self) -> None:
        """A database made by an earlier version gains the newer columns (all nullable)."""
        have = {row[1] for row in self._connection().execute("PRAGMA table_info(jobs)")}
        for column, kind in (("due_at", "REAL"), ("updated_at", "REAL"),
                             ("reruns", "INTEGER NOT NULL DEFAULT 0"), ("owner", "TEXT"),
                             ("delivery_count", "INTEGER"), ("counted_by", "TEXT"), ("queue", "TEXT"),
                             ("dead_lettered", "INTEGER NOT NULL DEFAULT 0"), ("result", "INTEGER"),
                             ("result_backend", "TEXT"), ("result_client", "TEXT"), ("reply_id", "TEXT"),
                             ("reply", "TEXT"), ("follows", "TEXT"), ("released_at", "REAL"),
                             ("routing_key", "TEXT")):
            if column not in have:
                try:
                    retry_while_locked(lambda: self._connection().execute(
                        f"ALTER TABLE jobs ADD COLUMN {column} {kind}"))  # noqa: B023 — called at once
                except sqlite3.OperationalError as exc:  # another API process added it a moment ago
                    if "duplicate column" not in str(exc):
                        raise
        # The sweeper's index, and the waiting canvas steps'; created here, after their columns exist.
        self._connection().execute(
            "CREATE INDEX IF NOT EXISTS jobs_by_status ON jobs (task_status, updated_at)")
        self._connection().execute(
            "CREATE INDEX IF NOT EXISTS jobs_following ON jobs (task_status) WHERE follows IS NOT NULL")

    def _keep_method_totals(self) -> None:
        """Create the summary's totals and their triggers once (filled from the jobs already there),
        in one write transaction: API processes starting together do it exactly once."""
        with self.db.write() as conn:
            if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'method_totals'").fetchone() is None:
                for statement in TOTALS_SCHEMA:
                    conn.execute(statement)

    @contextmanager
    def _write(self) -> Iterator[tuple[sqlite3.Connection, int]]:
        """A write transaction holding the write lock from the start, and its new seq."""
        with self.db.write() as conn:
            seq = conn.execute(
                "UPDATE counters SET value = value + 1 WHERE name = 'seq' RETURNING value"
            ).fetchone()[0]
            yield conn, seq

    # -- writes --------------------------------------------------------------------------------

    def create(self, method: str, seconds: float, fail: bool, count: int,
               delay_s: float = 0.0, max_waiting: int | None = None, also_coming: int = 0,
               owner: str | None = None, detail: str | None = None, queue: str | None = None,
               result_backend: str | None = None, result_client: str | None = None,
               canvas: str | None = None, routing_key: str | None = None) -> list[int]:
        """Write `count` jobs before anything is sent: PENDING, or SCHEDULED with a due time;
        `owner` is the name the student gave (shown in the table, and the "mine" filter); `detail`
        the first line of each job's history (default "sent by <method>"); `queue` the work queue
        its message goes to (the flow diagram draws the job there: a fact, never guessed from text);
        `result_backend`/`result_client` where Celery keeps its result, when it was asked to.
        `canvas`: "chain" — each job follows the one before; "chord" — one more job, the callback,
        follows all `count` (api/canvas.py). `routing_key`: the key an exchange routes them by
        (`queue` is then the exchange: the routing lesson).

        With `max_waiting`: TooManyWaiting, and nothing written, if the jobs already waiting plus
        these `count` (and `also_coming` that the caller will create right after) would pass it.
        Counted inside the write transaction, so two submissions at once cannot both slip past."""
        now = time.time()
        status, due = (SCHEDULED, now + delay_s) if delay_s > 0 else (PENDING, None)
        with self._write() as (conn, seq):
            if max_waiting is not None:
                (waiting,) = conn.execute("SELECT COUNT(*) FROM jobs WHERE task_status IN (?, ?)",
                                          (PENDING, SCHEDULED)).fetchone()
                if waiting + count + also_coming > max_waiting:
                    raise TooManyWaiting(waiting, max_waiting, count + also_coming)
            nums: list[int] = []
            for i in range(count + (canvas == "chord")):
                # [canvas: begin]
                follows = (nums[-1:] if canvas == "chain" and i else nums if canvas == "chord" and i == count
                           else None)
                # [canvas: end]
                nums.append(conn.execute(
                    "INSERT INTO jobs (method, seconds, fail, task_status, created_at, due_at, updated_at,"
                    " owner, queue, result_backend, result_client, follows, routing_key, seq)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING task_num",
                    (method, seconds, int(fail), status, now, due, now, owner, queue, result_backend,
                     result_client, None if follows is None else json.dumps(follows), routing_key, seq),
                ).fetchone()[0])
            first_line = {num: detail or f"sent by {method}" for num in nums}
            if canvas is not None:  # a step that waits says for whom: it is not sent yet
                for num, follows in conn.execute("SELECT task_num, follows FROM jobs WHERE task_num IN"
                                                 " (SELECT value FROM json_each(?)) AND follows IS NOT NULL",
                                                 (json.dumps(nums),)).fetchall():
                    first_line[num] = f"waits for {', '.join(f'#{p}' for p in json.loads(follows))} ({canvas})"
            conn.executemany(
                "INSERT INTO job_events (task_num, at, task_status, attempt, detail) VALUES (?, ?, ?, 0, ?)",
                [(num, now, status, first_line[num]) for num in nums])
            return nums

    def set_celery_ids(self, pairs: Iterable[tuple[int, str]]) -> None:
        with self._write() as (conn, seq):
            conn.executemany(
                "UPDATE jobs SET celery_id = ?, seq = ? WHERE task_num = ?",
                [(celery_id, seq, task_num) for task_num, celery_id in pairs],
            )

    # [results: begin] (counted on the page: lines each method needs to get a result back)
    def set_reply_ids(self, pairs: Iterable[tuple[int, str]]) -> None:
        """RPC by hand: each job's correlation_id, written before its message is published."""
        with self._write() as (conn, seq):
            conn.executemany("UPDATE jobs SET reply_id = ?, seq = ? WHERE task_num = ?",
                             [(reply_id, seq, task_num) for task_num, reply_id in pairs])
    # [results: end]

    # [results: begin]
    def file_replies(self, replies: Iterable[tuple[str | None, str]]) -> int:
        """Each collected reply onto the row whose correlation_id it carries (the first one kept:
        a redelivered job may reply twice); returns how many found their row."""
        filed = 0
        with self._write() as (conn, seq):
            for reply_id, body in replies:
                if reply_id is not None:
                    filed += conn.execute("UPDATE jobs SET reply = ?, seq = ? WHERE reply_id = ? AND reply IS NULL",
                                          (body, seq, reply_id)).rowcount
        return filed
    # [results: end]

    def fail_unsent(self, task_nums: Iterable[int], reason: str) -> None:
        """Jobs that never reached the queue: ERROR with the reason, never PENDING forever."""
        now = time.time()
        with self._write() as (conn, seq):
            for num in task_nums:
                changed = conn.execute(
                    "UPDATE jobs SET task_status = ?, error = ?, finished_at = ?, due_at = NULL,"
                    " seq = ? WHERE task_num = ? AND task_status IN (?, ?)",
                    (ERROR, reason, now, seq, num, PENDING, SCHEDULED)).rowcount
                if changed:
                    self._record(conn, num, now, ERROR, 0, None, reason)

    # [canvas: begin] (counted on the page: lines the hand-written chain and chord need)
    def settle_followers(self, parents: Iterable[int] | None = None,
                         release: tuple[str, ...] = ("rabbitmq",)) -> tuple[list[dict], list[int]]:
        """The canvas steps still PENDING that follow `parents` (None: any), decided in one transaction:
        one that follows a job that ended ERROR or LOST ends ERROR too (and so on down a chain); one
        whose jobs are all DONE, of a method in `release` (by hand: nobody else will send it), is
        claimed — released_at set, so two API processes cannot both send it — and returned with the
        inputs it takes. Returns (released [{task_num, seconds, fail, inputs}], failed task numbers)."""
        wanted = None if parents is None else set(parents)
        released, failed = [], []
        if self._connection().execute("SELECT 1 FROM jobs WHERE follows IS NOT NULL AND task_status = ?"
                                      " AND released_at IS NULL LIMIT 1", (PENDING,)).fetchone() is None:
            return released, failed  # no step waits (nearly always): no write, no lock
        now = time.time()
        with self._write() as (conn, seq):
            while True:
                failing = []
                for num, method, seconds, fail, follows in conn.execute(
                        "SELECT task_num, method, seconds, fail, follows FROM jobs"
                        " WHERE follows IS NOT NULL AND task_status = ? AND released_at IS NULL", (PENDING,)).fetchall():
                    follows = json.loads(follows)
                    if wanted is not None and not wanted.intersection(follows):
                        continue
                    ended = dict(conn.execute(
                        "SELECT task_num, task_status FROM jobs WHERE task_num IN (SELECT value FROM json_each(?))",
                        (json.dumps(follows),)).fetchall())
                    broken = next((p for p in follows if ended.get(p, ERROR) in (ERROR, LOST)), None)
                    if broken is not None:
                        failing.append((num, f"never sent: job #{broken}, whose result it takes, ended "
                                             f"{ended.get(broken, 'deleted')}"))
                    elif all(ended.get(p) == DONE for p in follows) and method in release:
                        results = dict(conn.execute(
                            "SELECT task_num, result FROM jobs WHERE task_num IN (SELECT value FROM json_each(?))",
                            (json.dumps(follows),)).fetchall())
                        conn.execute("UPDATE jobs SET released_at = ?, seq = ? WHERE task_num = ?", (now, seq, num))
                        released.append({"task_num": num, "seconds": seconds, "fail": bool(fail),
                                         "inputs": [results[p] or 0 for p in follows]})
                for num, reason in failing:
                    conn.execute("UPDATE jobs SET task_status = ?, error = ?, finished_at = ?, updated_at = ?,"
                                 " seq = ? WHERE task_num = ?", (ERROR, reason, now, now, seq, num))
                    self._record(conn, num, now, ERROR, 0, None, reason)
                failed += [num for num, _ in failing]
                if not failing:
                    return released, failed
                wanted = None if wanted is None else {num for num, _ in failing}
    # [canvas: end]

    def sweep_lost(self, silent_for_s: float, alive: Iterable[str] = ()) -> list[int]:
        """Running jobs not reported on for `silent_for_s`, unless their worker is in `alive`
        (it still sends heartbeats, so its reports are only late): LOST, with the reason.
        A later report from that run, or a redelivery, revives the row (queue_lab/job_states.py)."""
        now = time.time()
        with self._write() as (conn, seq):
            lost = conn.execute(
                "UPDATE jobs SET task_status = ?, seq = ?, error = 'no report from ' || worker_id"
                " || ' for ' || ? || ' s, and no heartbeat: the worker died or lost its connection."
                " Acked early, the message is gone; acked late, RabbitMQ redelivers it and this row"
                " comes back.'"
                " WHERE task_status = ? AND updated_at < ?"
                " AND worker_id NOT IN (SELECT value FROM json_each(?))"
                " RETURNING task_num, attempt, worker_id, error",
                (LOST, seq, f"{silent_for_s:g}", IN_PROGRESS, now - silent_for_s,
                 json.dumps(sorted(alive)))).fetchall()
            for num, attempt, worker, error in lost:
                self._record(conn, num, now, LOST, attempt, worker, error)
            return [num for num, *_ in lost]

    def sweep_redis_restart(self, started_at: float, margin_s: float = 2.0) -> list[int]:
        """Celery · Redis jobs still waiting in Redis (PENDING, SCHEDULED, RETRYING) that were sent
        before Redis last started, on a Redis that keeps nothing on disk: their message is gone. LOST,
        with the reason — and if one shows up after all (an RDB snapshot), its start revives the row."""
        now = time.time()
        reason = ("Redis restarted after this job was sent, and it keeps nothing on disk: the message "
                  "waiting in it is gone (with appendonly yes it would have survived)")
        with self._write() as (conn, seq):
            lost = conn.execute(
                "UPDATE jobs SET task_status = ?, seq = ?, error = ?, updated_at = ?"
                " WHERE method = 'celery_redis' AND task_status IN (?, ?, ?) AND created_at < ?"
                " RETURNING task_num, attempt",
                (LOST, seq, reason, now, PENDING, SCHEDULED, RETRYING, started_at - margin_s)).fetchall()
            for num, attempt in lost:
                self._record(conn, num, now, LOST, attempt, None, reason)
            return [num for num, _ in lost]

    def prune(self, older_than_s: float) -> int:
        """Forget finished jobs older than `older_than_s` (history must not grow for ever)."""
        with self._write() as (conn, _seq):
            cutoff = time.time() - older_than_s
            conn.execute("DELETE FROM job_events WHERE task_num IN (SELECT task_num FROM jobs"
                         " WHERE task_status IN (?, ?, ?) AND created_at < ?)", (DONE, ERROR, LOST, cutoff))
            return conn.execute(
                "DELETE FROM jobs WHERE task_status IN (?, ?, ?) AND created_at < ?",
                (DONE, ERROR, LOST, cutoff)).rowcount

    def reset(self) -> int:
        """The instructor's class reset: delete every job and start a new epoch, so every open page
        (which only ever receives changes) knows to clear its table. seq keeps counting up."""
        with self._write() as (conn, _seq):
            deleted = conn.execute("DELETE FROM jobs").rowcount
            conn.execute("DELETE FROM job_events")
            conn.execute("UPDATE counters SET value = value + 1 WHERE name = 'epoch'")
        return deleted

    def advance(self, task_num: int, report: Report) -> tuple[Decision, dict]:
        """Apply one worker report through the state machine; returns the decision and the row."""
        with self._write() as (conn, seq):
            return self._advance(conn, seq, task_num, report)

    def advance_many(self, reports: list[tuple[int, Report]]) -> list[tuple[Decision, dict] | UnknownTask]:
        """A batch of reports, in order, in one transaction: one lock and one commit for all."""
        results: list = []
        with self._write() as (conn, seq):
            for task_num, report in reports:
                try:
                    results.append(self._advance(conn, seq, task_num, report))
                except UnknownTask as exc:
                    results.append(exc)
        return results

    def _advance(self, conn, seq: int, task_num: int, report: Report) -> tuple[Decision, dict]:
        found = conn.execute(
            f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE task_num = ?", (task_num,)
        ).fetchone()
        if found is None:
            raise UnknownTask(task_num)
        row = _as_dict(found)
        decision = decide(row, report, time.time())
        if decision.changes:
            changes = {**decision.changes, "seq": seq}
            assignments = ", ".join(f"{column} = ?" for column in changes)
            conn.execute(
                f"UPDATE jobs SET {assignments} WHERE task_num = ?",
                (*changes.values(), task_num),
            )
            before = (row["task_status"], row["attempt"])
            row.update(changes)
            if (row["task_status"], row["attempt"]) != before:  # a step in the job's story
                self._record(conn, task_num, time.time(), row["task_status"], row["attempt"],
                             report.worker_id, decision.reason if row["error"] is None else row["error"])
        elif report.starting and row["task_status"] in FINAL:
            # The job started again after it finished: a duplicate delivery (at-least-once,
            # e.g. an ack lost with its connection). The row keeps its result; we count it.
            row["reruns"], row["seq"] = row["reruns"] + 1, seq
            conn.execute("UPDATE jobs SET reruns = ?, seq = ? WHERE task_num = ?",
                         (row["reruns"], seq, task_num))
            self._record(conn, task_num, time.time(), row["task_status"], row["attempt"],
                         report.worker_id, f"ran again after {row['task_status']} (rerun "
                         f"{row['reruns']}): a duplicate delivery, e.g. an ack lost with its connection")
        return decision, row

    @staticmethod
    def _record(conn, task_num, at, status, attempt, worker_id, detail) -> None:
        conn.execute("INSERT INTO job_events (task_num, at, task_status, attempt, worker_id, detail)"
                     " VALUES (?, ?, ?, ?, ?, ?)", (task_num, at, status, attempt, worker_id, detail))

    def history(self, task_num: int) -> list[dict]:
        """Every status change of one job, oldest first: its story, attempt by attempt."""
        self.get(task_num)  # UnknownTask for a number we never had
        return [dict(zip(("at", "task_status", "attempt", "worker_id", "detail"), r))
                for r in self._connection().execute(
                    "SELECT at, task_status, attempt, worker_id, detail FROM job_events"
                    " WHERE task_num = ? ORDER BY at, rowid", (task_num,))]

    # -- reads ---------------------------------------------------------------------------------

    def get(self, task_num: int) -> dict:
        found = self._connection().execute(
            f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE task_num = ?", (task_num,)
        ).fetchone()
        if found is None:
            raise UnknownTask(task_num)
        return _as_dict(found)

    def kept_results(self, backend: str, client: str | None = None, most: int = 5000) -> list[str]:
        """The Celery ids of the newest jobs that kept their result in `backend` (and, for rpc://,
        were sent by `client`): the results lesson counts which of them a backend still holds."""
        where, args = "result_backend = ? AND celery_id IS NOT NULL", [backend]
        if client is not None:
            where, args = f"{where} AND result_client = ?", [*args, client]
        return [r[0] for r in self._connection().execute(
            f"SELECT celery_id FROM jobs WHERE {where} ORDER BY task_num DESC LIMIT ?", (*args, most))]

    def data_version(self) -> int:
        """Changes whenever another connection commits: a cheap "anything new?" check."""
        return self._connection().execute("PRAGMA data_version").fetchone()[0]

    def epoch(self) -> int:
        return self._connection().execute(
            "SELECT value FROM counters WHERE name = 'epoch'"
        ).fetchone()[0]

    def current_seq(self) -> int:
        return self._connection().execute(
            "SELECT value FROM counters WHERE name = 'seq'"
        ).fetchone()[0]

    def changed_since(self, since: int, limit: int) -> tuple[list[dict], int]:
        """Rows changed after `since` (oldest change first) and the seq to ask from next time.

        If more than `limit` rows changed, the answer stops after a whole seq (one write may stamp
        up to 500 rows with the same seq) and the returned seq is that one, so nothing is missed.
        """
        select = f"SELECT {', '.join(COLUMNS)} FROM jobs"
        with self._snapshot() as conn:
            rows = [_as_dict(r) for r in conn.execute(
                f"{select} WHERE seq > ? ORDER BY seq LIMIT ?", (since, limit))]
            latest = conn.execute("SELECT value FROM counters WHERE name = 'seq'").fetchone()[0]
            if len(rows) == limit:
                latest = rows[-1]["seq"]
                rows = [r for r in rows if r["seq"] < latest] + [
                    _as_dict(r) for r in conn.execute(f"{select} WHERE seq = ?", (latest,))]
        return rows, latest

    def some(self, task_nums: list[int]) -> tuple[list[dict], int]:
        """These jobs (unknown numbers are left out), in the order asked, and the current seq."""
        with self._snapshot() as conn:
            found = {row[0]: _as_dict(row) for row in conn.execute(
                f"SELECT {', '.join(COLUMNS)} FROM jobs WHERE task_num IN"
                f" (SELECT value FROM json_each(?))", (json.dumps(task_nums),))}
            latest = conn.execute("SELECT value FROM counters WHERE name = 'seq'").fetchone()[0]
        return [found[num] for num in task_nums if num in found], latest

    def newest(self, limit: int) -> tuple[list[dict], int]:
        with self._snapshot() as conn:
            rows = [
                _as_dict(r)
                for r in conn.execute(
                    f"SELECT {', '.join(COLUMNS)} FROM jobs ORDER BY task_num DESC LIMIT ?",
                    (limit,),
                )
            ]
            latest = conn.execute("SELECT value FROM counters WHERE name = 'seq'").fetchone()[0]
        return rows, latest

    def summary(self) -> dict:
        """Per method: sent, done, failed, active, mean wait in the queue, mean run time (of the
        jobs DONE), from the totals the triggers keep (TOTALS_SCHEMA)."""
        result = {}
        for method, sent, done, failed, active, mean_wait, mean_run in self._connection().execute(
            """
            SELECT method, SUM(jobs),
                   SUM(jobs * (task_status = ?)), SUM(jobs * (task_status IN (?, ?))),
                   SUM(jobs * (task_status IN (?, ?, ?, ?))),
                   SUM(wait_sum) / NULLIF(SUM(wait_n), 0),
                   SUM(CASE WHEN task_status = ? THEN run_sum END) / NULLIF(SUM(CASE WHEN task_status = ? THEN run_n END), 0)
            FROM method_totals GROUP BY method HAVING SUM(jobs) > 0
            """,
            (DONE, ERROR, LOST, PENDING, SCHEDULED, IN_PROGRESS, RETRYING, DONE, DONE),
        ):
            result[method] = {
                "sent": sent, "done": done, "failed": failed, "active": active,
                "mean_wait": mean_wait, "mean_run": mean_run,
            }
        return result

    def starts_since(self, since: float) -> dict[str, dict[str, int]]:
        """Per method, per worker: the jobs whose (latest) start was at or after `since` — the
        rate-limits lesson's measure of what a limit lets through."""
        starts: dict[str, dict[str, int]] = {}
        for method, worker, count in self._connection().execute(
                "SELECT method, COALESCE(worker_id, '?'), COUNT(*) FROM jobs WHERE started_at >= ? "
                "GROUP BY method, worker_id", (since,)):
            starts.setdefault(method, {})[worker] = count
        return starts
