"""One SQLite file shared by several processes and threads, used safely.

- WAL lets readers read while a writer writes; a busy timeout makes writers queue, not fail.
- `write()` is `BEGIN IMMEDIATE`: it takes the write lock first, so a read-modify-write cannot
  interleave with another process's.
- One connection per process *and* thread: a connection opened before gunicorn or Celery forks
  is never used by the child.
- Processes opening a new file together (gunicorn's workers on compose's fresh volume) each turn it
  to WAL and create the schema at once. That switch needs an exclusive lock, and SQLite answers
  "database is locked" at once instead of waiting (the busy timeout does not cover it), so those
  steps are retried until BUSY_TIMEOUT_S.
"""
from __future__ import annotations

import os
import sqlite3
import threading
import time
from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

BUSY_TIMEOUT_S = 10.0
T = TypeVar("T")


def retry_while_locked(step: Callable[[], T]) -> T:
    """Run `step` again while another process holds the lock it needs, for up to BUSY_TIMEOUT_S."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


class Database:
    def __init__(self, path: str, schema: str):
        self.path = path
        self._local = threading.local()
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        retry_while_locked(lambda: self.connection().executescript(schema))

    def connection(self) -> sqlite3.Connection:
        """This thread's connection; a new one after a fork."""
        conn = getattr(self._local, "conn", None)
        if conn is None or self._local.pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            retry_while_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
            conn.execute("PRAGMA synchronous=NORMAL")  # durable at each WAL checkpoint; safe with WAL
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        conn = self.connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: everything read inside it is from one consistent state."""
        conn = self.connection()
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")
