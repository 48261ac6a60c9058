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
# Where a Celery job that keeps its result has it (celery_app.RESULT_BACKENDS), as the rows name it.
RESULT_BACKEND_NAMES = {"celery": "rpc://", "celery_redis": "redis"}
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

    # [results: begin] (counted on the page: lines each method needs to get a result back)
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
            return {"state": state, "result": found.result if state == "SUCCESS" else None,
                    "expires_in_s": _seconds_to_live(found.backend, celery_id) if on_redis else None}

        return self.run(poll)
    # [results: end]

    def unread(self, rpc_sent: list[str], redis_kept: list[str]) -> dict:
        """Results nobody has read, where they wait: rpc:// — messages in this process's reply queue
        (named after the results thread's oid; deleted with what it holds once unused for
        result_expires); Redis — which of `redis_kept` (Celery ids) still have their key."""
        def count() -> dict:
            from api.job_dispatch import celery_app
            answer = {"client": self.client, "rpc": None, "redis": None}
            if rpc_sent:
                backend = celery_app(False).backend  # this thread's: Celery keeps one per thread
                answer["rpc"] = {"queue": backend.oid, "ready": _ready_in(backend), "sent": len(rpc_sent),
                                 "expires_after_s": backend.expires}
            if redis_kept:
                backend = celery_app(True).backend
                with backend.client.pipeline() as pipe:
                    for celery_id in redis_kept:
                        pipe.exists(backend.get_key_for_task(celery_id))
                    held = sum(pipe.execute())
                answer["redis"] = {"keys": held, "kept": len(redis_kept),
                                   "pattern": backend.get_key_for_task("*").decode()}
            return answer

        return self.run(count)

    def close(self) -> None:
        with self._lock:
            if self._executor is not None and self._pid == os.getpid():
                self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _seconds_to_live(backend, celery_id: str) -> int | None:
    """How long Redis keeps this result's key (its TTL, set from result_expires); None if there is none."""
    ttl = backend.client.ttl(backend.get_key_for_task(celery_id))
    return ttl if ttl >= 0 else None


def _ready_in(backend) -> int:
    """Messages waiting in the rpc:// reply queue: a passive declare on a connection of its own (a
    queue that is not there — nothing sent yet, or it expired — holds none)."""
    from amqp.exceptions import NotFound

    with backend.app.connection_for_read() as connection:
        try:
            return connection.default_channel.queue_declare(queue=backend.oid, passive=True).message_count
        except NotFound:
            return 0
