"""The web app's parts, built once per app and reached as named attributes: `lab().store`.

A dataclass rather than a dictionary looked up by string, so go-to-definition works and a part
that is missing or misnamed fails when the app is built, not in the middle of a request.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from flask import Flask, current_app

from api.celery_results import CeleryResults
from api.change_feed import ChangeFeed
from api.job_store import JobStore
from api.queue_stats import QueueStats
from api.raw_publisher import RawPublisher
from api.worker_registry import WorkerRegistry
from queue_lab.settings import Settings

EXTENSION = "queue_lab"


@dataclass(frozen=True, slots=True)
class LabState:
    settings: Settings
    store: JobStore
    publisher: RawPublisher
    feed: ChangeFeed
    workers: WorkerRegistry
    queue_stats: QueueStats
    celery_results: CeleryResults  # keep_result: the thread that owns this process's rpc:// replies
    # SSE streams each hold a web thread: cap them per process so other requests always get one.
    stream_slots: threading.BoundedSemaphore
    started_at: float  # time.monotonic() when this API process built its app (the sweeper's grace)

    @classmethod
    def build(cls, settings: Settings) -> "LabState":
        store = JobStore(settings.database_path)
        return cls(
            settings=settings,
            store=store,
            publisher=RawPublisher(settings),
            feed=ChangeFeed(store),
            workers=WorkerRegistry(store.db, settings.worker_offline_s, settings.worker_forget_s),
            queue_stats=QueueStats(settings),
            celery_results=CeleryResults(),
            stream_slots=threading.BoundedSemaphore(settings.sse_max_streams),
            started_at=time.monotonic(),
        )

    def init_app(self, app: Flask) -> None:
        app.extensions[EXTENSION] = self

    def close(self) -> None:
        """Stop what this app's parts run in the background (the change feed's poller, the results thread)."""
        self.feed.stop()
        self.celery_results.close()


def lab() -> LabState:
    """This app's parts, inside a request or an app context."""
    return current_app.extensions[EXTENSION]
