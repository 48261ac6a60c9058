"""Celery's way of getting a result back (keep_result): sent and read without a web thread waiting.

rpc:// (RabbitMQ) keeps no state: the worker sends each result as a message to a reply queue named
after the *thread* that sent the task (Celery's `thread_oid`), and only a reader on that queue sees
it. So this API process sends every job that keeps its result from one thread of its own, and reads
`AsyncResult` in that same thread — a poll (`basic_get`), never a wait. A job that another API
process sent has its result in that process's reply queue: asked here, Celery answers PENDING,
which is the lesson ("only the client that sent the task", README: Results). Redis keeps each result
as a key until `result_expires`: any process reads it.

Nothing here blocks on a result: `.get()` is never called; a read is one poll, answered within
READ_TIMEOUT_S or not at all.
"""
from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, TypeVar

from queue_lab.settings import worker_id

READ_TIMEOUT_S = 5.0
T = TypeVar("T")


class CeleryResults:
    """One thread per API process that owns Celery's rpc:// reply queue: sends and reads run in it."""

    def __init__(self):
        self._lock = threading.Lock()
        self._executor: ThreadPoolExecutor | None = None
        self._pid: int | None = None

    @property
    def client(self) -> str:
        """This process, as the rows name it: the API process a rpc:// result goes back to."""
        return worker_id("api-")

    def run(self, call: Callable[[], T], timeout: float = READ_TIMEOUT_S) -> T:
        """`call()` in the results thread (made on first use in each process: gunicorn forks)."""
        with self._lock:
            if self._executor is None or self._pid != os.getpid():
                self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="celery-results")
                self._pid = os.getpid()
            executor = self._executor
        return executor.submit(call).result(timeout=timeout)

    def read(self, celery_id: str, on_redis: bool) -> dict:
        """What Celery's backend says of a task now: {state, result} (result only when it succeeded)."""
        def poll() -> dict:
            from celery.result import AsyncResult

            from api.job_dispatch import celery_app
            found = AsyncResult(celery_id, app=celery_app(on_redis))
            state = found.state  # one poll of the backend (rpc:// basic_get, Redis GET)
            return {"state": state, "result": found.result if state == "SUCCESS" else None}

        return self.run(poll)

    def close(self) -> None:
        with self._lock:
            if self._executor is not None and self._pid == os.getpid():
                self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
