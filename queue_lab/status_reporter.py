"""How a worker tells the API what its job is doing: `POST /update_task_status_api/` over HTTP.

One kept-alive `requests.Session` per process (made lazily, so a forked Celery pool process makes
its own), a short timeout, and bounded retries by urllib3's `Retry` for refused connections and
gateway errors. A report that still cannot be delivered is logged: the job itself never fails
because the status table could not be told.

Batched (what the workers use): a report goes into this process's outbox and the job carries on;
one sender thread posts everything waiting as one JSON array, in order. The bench showed why: two
synchronous round trips per job were what held a worker back, not the broker. The price: a
worker killed in the instant after its ack may take its last report with it — the sweeper then
names that row LOST.
"""
from __future__ import annotations

import atexit
import logging
import os
import queue
import threading
import time

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from queue_lab import api_paths
from queue_lab.settings import Settings

log = logging.getLogger("queue_lab.report")

MAX_BATCH = 200


class StatusReporter:
    """Callable as `report(task_num, task_status, progress=..., message=..., starting=...)`."""

    def __init__(self, settings: Settings, worker_id: str, batched: bool = False):
        self.worker_id = worker_id
        self.batched = batched
        self._settings = settings
        self._session: requests.Session | None = None
        self._session_pid = 0
        self._lock = threading.Lock()
        self._outbox: queue.Queue | None = None
        self._outbox_pid = 0

    def _session_for_this_process(self) -> requests.Session:
        with self._lock:
            if self._session is None or self._session_pid != os.getpid():
                retry = Retry(
                    total=self._settings.report_retries,
                    read=0,  # the API may have applied a report whose answer timed out
                    backoff_factor=0.2,
                    status_forcelist=(429, 502, 503, 504),
                    allowed_methods=frozenset({"POST"}),
                    raise_on_status=False,
                )
                session = requests.Session()
                session.mount("http://", HTTPAdapter(max_retries=retry))
                session.mount("https://", HTTPAdapter(max_retries=retry))
                session.headers["Authorization"] = f"Bearer {self._settings.status_api_token}"
                self._session, self._session_pid = session, os.getpid()
            return self._session

    def __call__(self, task_num, task_status, *, progress=None, message=None, starting=False,
                 run_id=None, retry_in_s=None) -> dict | None:
        payload = {"task_num": task_num, "task_status": task_status, "worker_id": self.worker_id}
        if progress is not None:
            payload["progress"] = progress
        if message is not None:
            payload["message"] = message[:2000]
        if starting:
            payload["starting"] = True
        if run_id:
            payload["run_id"] = run_id
        if retry_in_s is not None:
            payload["retry_in_s"] = round(retry_in_s, 3)
        if self.batched:
            self._outbox_for_this_process().put(payload)
            return None
        return self.post(api_paths.STATUS_REPORTS, payload, f"{task_status} of task {task_num}")

    def _outbox_for_this_process(self) -> queue.Queue:
        with self._lock:
            if self._outbox is None or self._outbox_pid != os.getpid():
                self._outbox, self._outbox_pid = queue.Queue(), os.getpid()
                threading.Thread(target=self._send_forever, args=(self._outbox,), name="report-sender",
                                 daemon=True).start()
                atexit.register(self.flush)
            return self._outbox

    def _send_forever(self, outbox: queue.Queue) -> None:
        while True:
            batch = [outbox.get()]
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(outbox.get_nowait())
                except queue.Empty:
                    break
            try:
                answer = self.post(api_paths.STATUS_REPORTS, batch, f"{len(batch)} report(s)")
                for payload, result in zip(batch, (answer or {}).get("results", [])):
                    if result.get("status", 200) >= 400:
                        level = logging.INFO if result["status"] == 409 else logging.WARNING
                        log.log(level, "%s of task %s answered %s: %s", payload["task_status"],
                                payload["task_num"], result["status"],
                                result.get("reason") or result.get("error"))
            finally:
                for _ in batch:
                    outbox.task_done()

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued report was sent (or given up); True if the outbox emptied."""
        outbox = self._outbox if self._outbox_pid == os.getpid() else None
        deadline = time.monotonic() + timeout
        while outbox is not None and outbox.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return outbox is None or not outbox.unfinished_tasks

    def post(self, path: str, payload: dict | list, what: str) -> dict | None:
        """POST JSON to the API with the token; log, never raise. Returns the JSON answer or None."""
        url = self._settings.status_api_url + path
        try:
            response = self._session_for_this_process().post(
                url, json=payload, timeout=self._settings.report_timeout
            )
        except requests.RequestException as exc:
            log.warning("could not send %s to %s: %s", what, url, exc)
            return None
        if response.status_code == 409:  # refused by the state machine: expected, not an error
            log.info("%s not applied: %s", what, response.text[:200])
        elif response.status_code >= 400:
            log.warning("%s answered %s: %s", what, response.status_code, response.text[:200])
        try:
            return response.json()
        except ValueError:
            return None
