"""Fan-out of job changes to every live page in this process, with one database poller.

Workers report to whichever gunicorn process the OS hands the request to, so a process cannot rely
on seeing the writes itself. Instead one thread per process watches SQLite's `PRAGMA data_version`
(which moves when any other connection commits), reads what changed since the last seq in one
indexed query, and keeps the latest changes in a bounded buffer. Each SSE stream waits on a
condition and takes its delta from that buffer — one query per change, however many viewers.
"""
from __future__ import annotations

import collections
import os
import threading

from api.job_store import JobStore

POLL_S = 0.05
BUFFER_ROWS = 5000


def latest_per_task(rows: list[dict]) -> list[dict]:
    """Several changes to one task in a batch: the page only needs the newest."""
    return list({row["task_num"]: row for row in rows}.values())


class ChangeFeed:
    def __init__(self, store: JobStore, poll_s: float = POLL_S, buffer_rows: int = BUFFER_ROWS):
        self.store = store
        self.poll_s = poll_s
        self._buffer: collections.deque[dict] = collections.deque()
        self._buffer_rows = buffer_rows
        self._changed = threading.Condition()
        self._seq = 0
        self._floor = 0  # the buffer holds every change with seq > floor
        self._epoch = 0  # bumped by a class reset: the pages must clear their tables
        self._pid = 0
        self._stopped = threading.Event()
        self._poller: threading.Thread | None = None

    def _ensure_running(self) -> None:
        """Start the poller in this process (after gunicorn's fork, never before it)."""
        if self._pid == os.getpid():
            return
        with self._changed:
            if self._pid == os.getpid():
                return
            self._buffer.clear()
            self._seq = self._floor = self.store.current_seq()
            self._epoch = self.store.epoch()
            self._pid = os.getpid()
            self._stopped.clear()
            self._poller = threading.Thread(target=self._poll_forever, name="change-feed", daemon=True)
            self._poller.start()

    def stop(self) -> None:
        """End this process's poller (an app that is done with, as in the tests); the next
        `wait()` would start it again."""
        self._stopped.set()
        if self._poller is not None and self._pid == os.getpid():
            self._poller.join(5)
        self._pid, self._poller = 0, None

    def _poll_forever(self) -> None:
        conn_version = None
        while not self._stopped.is_set():
            version = self.store.data_version()
            if version != conn_version:
                conn_version = version
                self._pull()
            self._stopped.wait(self.poll_s)

    def _pull(self) -> None:
        rows, seq = self.store.changed_since(self._seq, self._buffer_rows)
        if seq == self._seq:
            return
        epoch = self.store.epoch()
        with self._changed:
            if epoch != self._epoch:  # a reset deleted every job: nothing buffered is true any more
                self._buffer.clear()
                self._floor, self._epoch = self._seq, epoch
            self._buffer.extend(rows)
            while len(self._buffer) > self._buffer_rows:
                self._floor = self._buffer.popleft()["seq"]
            self._seq = seq
            self._changed.notify_all()
        if len(rows) >= self._buffer_rows:  # a burst bigger than one read: keep reading now
            self._pull()

    @property
    def seq(self) -> int:
        self._ensure_running()
        return self._seq

    @property
    def epoch(self) -> int:
        self._ensure_running()
        return self._epoch

    def wait(self, since: int, timeout: float) -> tuple[list[dict], int]:
        """Changes after `since`, waiting up to `timeout` for the first; ([], since) on timeout."""
        self._ensure_running()
        with self._changed:
            if since >= self._seq:
                self._changed.wait(timeout)
            if since >= self._seq:
                return [], min(since, self._seq)
            if since >= self._floor:
                rows = [row for row in self._buffer if row["seq"] > since]
                return latest_per_task(rows), self._seq
        # This viewer is further behind than the buffer reaches: read from the database.
        rows, seq = self.store.changed_since(since, self._buffer_rows)
        return latest_per_task(rows), seq
