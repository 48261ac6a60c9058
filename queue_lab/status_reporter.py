"""How a worker tells the API what its job is doing: `POST /update_task_status_api/` over HTTP.

Reports are delivered, not attempted. A report goes into this process's outbox and the job carries
on; one sender thread posts everything waiting as one JSON array, in order, and keeps it until the
API has *answered* — any answer but a refused connection, a timeout or a 5xx. Until then it tries
again with capped exponential backoff (0.25 s, 0.5 s … 10 s), for as long as the process lives.
So an API that is restarted or briefly away (`docker compose up -d` recreating it) costs the table
nothing: the reports arrive late, in order, and the rows end as the jobs really ended.

Why the answer that timed out is safe to send again: the API may have applied it before the answer
was lost, so every report must be safe to apply twice — run ids make a repeated start or progress a
duplicate, and a repeated DONE/ERROR/RETRYING is a duplicate of itself (tests/test_job_states.py).

Memory stays bounded. Progress reports of one run collapse to the newest while they wait (a job
that ran through a 60 s outage leaves one progress report, not 120). Past REPORT_BACKLOG_MAX
waiting reports the *job* pauses at its next report until the API takes some: its message stays
unacked in RabbitMQ meanwhile, so the queue holds the work instead of this process's memory.

The workers panel shows the backlog. A worker's heartbeat carries it (queue_lab/worker_heartbeat.py),
and after a failed post the sender announces the backlog *before* it delivers again, then once more
when the outbox has drained: the API learns "12 reports waiting", then "0", in that order, whatever
the timing. Any answer to a heartbeat also wakes the sender, so an API that is back gets the
waiting reports at once instead of after the current backoff.

What can still be lost: reports still in the outbox when the process dies without a graceful
stop (SIGKILL, OOM, power). A graceful stop flushes for REPORT_FLUSH_S and logs what it could not
deliver; the sweeper names such rows LOST (a late-acked job is redelivered and runs again).
"""
from __future__ import annotations

import atexit
import collections
import itertools
import logging
import os
import threading
import time

import requests

from typing import Callable

from queue_lab import api_paths
from queue_lab.job_states import IN_PROGRESS, Report
from queue_lab.settings import Settings
from queue_lab.timed_job import Refusal

log = logging.getLogger("queue_lab.report")

MAX_BATCH = 200
REMEMBERED_RUNS = 1000  # runs whose answers are kept for refusal(): far more than run at once
LINGER_S = 0.005
LEAN = {"lean": "1"}
FIRST_BACKOFF_S, MAX_BACKOFF_S = 0.25, 10.0


class Undelivered(Exception):
    """No answer from the API (refused, timed out, or a 5xx): the reports stay in the outbox."""


class StatusReporter:
    """Callable as `report(task_num, task_status, progress=..., message=..., starting=...)`."""

    def __init__(self, settings: Settings, worker_id: str):
        self.worker_id = worker_id
        self._settings = settings
        self._lock = threading.Condition()
        self._outbox: collections.deque[dict] = collections.deque()  # oldest first, in send order
        self._progress_of_run: dict[tuple, dict] = {}  # (task_num, run_id) → its waiting progress report
        self._pid = 0  # the sender thread and HTTP session belong to one process (Celery forks)
        self._session: requests.Session | None = None
        self._api_answered = threading.Event()  # a heartbeat got through: stop backing off
        self._sender: threading.Thread | None = None
        self._closed = False
        # What the API answered about runs: start reports answered, and runs it refused (a job the
        # table does not hold, or one that has ended) — what `refusal()` tells the job.
        self._starts_answered: dict[tuple, None] = {}
        self._refused: dict[tuple, Refusal] = {}
        # Reports that reached the API only after at least one failed try (the workers panel).
        self.delivered_late = 0
        # Tells the API how many reports wait (the worker's heartbeat); None for a process without one.
        self.announce: Callable[[], None] | None = None

    # -- what a job calls ----------------------------------------------------------------------

    def __call__(self, task_num: int, task_status: str, *, worker_id: str | None = None, **fields) -> None:
        """Queue one report and return at once; `fields` are job_states.Report's, and `worker_id`
        reports in another process's name."""
        payload = Report(task_status, worker_id or self.worker_id, **fields).to_json(task_num)
        self._start_sender_in_this_process()
        with self._lock:
            if self._collapse(payload):
                return
            while len(self._outbox) >= self._settings.report_backlog_max and not self._closed:
                log.warning("%d reports wait for the API: the job pauses until it answers", len(self._outbox))
                self._lock.wait(5)
            self._outbox.append(payload)
            if self._is_progress(payload):
                self._progress_of_run[(task_num, payload.get("run_id"))] = payload
            self._lock.notify_all()

    @staticmethod
    def _is_progress(payload: dict) -> bool:
        return payload["task_status"] == IN_PROGRESS and not payload.get("starting") and "run_id" in payload

    def _collapse(self, payload: dict) -> bool:
        """A newer progress of a run replaces its older one still waiting (not one being posted)."""
        if not self._is_progress(payload):
            self._progress_of_run.pop((payload["task_num"], payload.get("run_id")), None)
            return False
        waiting = self._progress_of_run.get((payload["task_num"], payload["run_id"]))
        if waiting is None:
            return False
        waiting.update(payload)
        return True

    def _collapse_outbox(self) -> None:
        """After a failed post everything waits again, the batch that was in flight too: each run
        keeps one progress report — the newest values, in the place of the oldest — and progress is
        never merged across another report of the same run (a start, a RETRYING, a DONE)."""
        kept: collections.deque[dict] = collections.deque()
        waiting: dict[tuple, dict] = {}
        for payload in self._outbox:
            key = (payload["task_num"], payload.get("run_id"))
            if not self._is_progress(payload):
                waiting.pop(key, None)
                kept.append(payload)
            elif key in waiting:
                waiting[key].update(payload)
            else:
                waiting[key] = payload
                kept.append(payload)
        self._outbox, self._progress_of_run = kept, waiting

    @property
    def backlog(self) -> int:
        """Reports waiting to be delivered (the workers panel shows it, sent with the heartbeat)."""
        with self._lock:
            return len(self._outbox)

    # -- the sender thread ---------------------------------------------------------------------

    def _start_sender_in_this_process(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            # A forked child inherits the parent's outbox: those reports are the parent's to send.
            self._outbox.clear()
            self._progress_of_run.clear()
            self._starts_answered.clear()
            self._refused.clear()
            self._session, self._pid = None, os.getpid()
            self._api_answered, self.delivered_late = threading.Event(), 0
            self._closed = False
            self._sender = threading.Thread(target=self._send_forever, name="report-sender", daemon=True)
            self._sender.start()
            atexit.register(self.flush)

    def close(self, timeout: float | None = None) -> bool:
        """Flush (for `timeout`, default REPORT_FLUSH_S), then stop the sender thread; True if
        nothing was left undelivered. For a worker's graceful stop, and for every test that made one."""
        delivered = self.flush(timeout)
        with self._lock:
            sender, self._closed = self._sender, True
            self._lock.notify_all()
        self._api_answered.set()  # cut a backoff short
        if sender is not None and sender is not threading.current_thread() and self._pid == os.getpid():
            sender.join(5)
        atexit.unregister(self.flush)
        return delivered

    def _send_forever(self) -> None:
        backoff = FIRST_BACKOFF_S
        failing = False  # the last post was not answered: the backlog is news for the workers panel
        while True:
            with self._lock:
                while not self._outbox and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                # A moment's patience (LINGER_S) lets the reports of a quick job — its start and its
                # DONE — and its neighbours' travel in one post: fewer posts, less CPU per job on
                # both sides, for a few milliseconds of delay the page cannot see.
                # A start report is answered at once: its job waits for the answer before it runs.
                if len(self._outbox) < MAX_BATCH and not any(
                        p.get("starting") for p in itertools.islice(self._outbox, MAX_BATCH)):
                    self._lock.wait(LINGER_S)
                batch = list(itertools.islice(self._outbox, MAX_BATCH))
                for payload in batch:  # being posted: a newer progress must queue behind it
                    if self._progress_of_run.get((payload["task_num"], payload.get("run_id"))) is payload:
                        del self._progress_of_run[(payload["task_num"], payload.get("run_id"))]
            if failing:
                self._announce()  # "N reports waiting", before they start to arrive
            try:
                answer = self._deliver(batch)
            except Undelivered as exc:
                with self._lock:
                    self._collapse_outbox()
                    self._lock.notify_all()  # a job paused on a full outbox may fit now
                log.warning("%d report(s) wait for the API (%s); trying again in %g s",
                            len(self._outbox), exc, backoff)
                failing = True
                self._api_answered.clear()
                self._api_answered.wait(backoff)  # a heartbeat that gets an answer cuts this short
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            backoff = FIRST_BACKOFF_S
            with self._lock:
                for _ in batch:
                    self._outbox.popleft()
                self._note_answers(batch, answer)
                if failing:
                    self.delivered_late += len(batch)
                drained = not self._outbox
                self._lock.notify_all()  # flush() and a paused job are waiting on this
            self._log_refusals(batch, answer)
            if failing and drained:
                failing = False
                log.warning("the API answers again: %d late report(s) delivered", self.delivered_late)
                self._announce()  # "0 waiting": the workers panel shows the drain at once

    def _note_answers(self, batch: list[dict], answer: dict) -> None:
        """Which runs the API refused, and which start reports it answered (under the lock)."""
        results = answer.get("results") or []
        for i, payload in enumerate(batch):
            key = (payload["task_num"], payload.get("run_id"))
            if payload.get("starting"):
                self._starts_answered[key] = None
            refusal = Refusal.from_answer(payload["task_num"], results[i]) if i < len(results) else None
            if refusal is not None and payload.get("run_id"):
                self._refused[key] = refusal
        for remembered in (self._starts_answered, self._refused):
            while len(remembered) > REMEMBERED_RUNS:
                del remembered[next(iter(remembered))]

    def refusal(self, task_num: int, run_id: str, wait_for_start: bool = False) -> Refusal | None:
        """Whether the API refused this run. `wait_for_start`: first wait for the answer to the
        run's start report — up to START_ANSWER_S, after which the job runs anyway (the API is away;
        its outbox keeps the reports, and a later refusal still stops the job at its next step)."""
        key = (task_num, run_id)
        with self._lock:
            if wait_for_start and self._pid == os.getpid():
                deadline = time.monotonic() + self._settings.start_answer_s
                while key not in self._starts_answered and not self._closed:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        log.warning("no answer to the start of task %s within %g s: running it anyway",
                                    task_num, self._settings.start_answer_s)
                        break
                    self._lock.wait(left)
                self._starts_answered.pop(key, None)
            return self._refused.get(key)

    def _deliver(self, batch: list[dict]) -> dict:
        url = self._settings.status_api_url + api_paths.STATUS_REPORTS
        try:  # ?lean=1: each result without the row (a worker only reads the outcome): half the bytes
            response = self._session_for_this_process().post(url, params=LEAN, json=batch,
                                                              timeout=self._settings.report_timeout)
        except requests.RequestException as exc:
            raise Undelivered(f"{type(exc).__name__} from {url}") from exc
        if response.status_code >= 500:
            raise Undelivered(f"{url} answered {response.status_code}")
        if response.status_code >= 400:  # answered: repeating it would get the same answer
            log.warning("%d report(s) refused as a whole: %s %s", len(batch), response.status_code,
                        response.text[:200])
        try:
            return response.json()
        except ValueError:
            return {}

    def _announce(self) -> None:
        if self.announce is not None:
            self.announce()

    @staticmethod
    def _log_refusals(batch: list[dict], answer: dict) -> None:
        for payload, result in zip(batch, answer.get("results", [])):
            if result.get("status", 200) >= 400:
                # 409 (the row has moved on) and 404 (a class reset removed it) are answers the job
                # acts on (timed_job.Refusal): said quietly; anything else is worth a warning.
                level = logging.INFO if result["status"] in (404, 409) else logging.WARNING
                log.log(level, "%s of task %s answered %s: %s", payload["task_status"],
                        payload["task_num"], result["status"], result.get("reason") or result.get("error"))

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued report was delivered; True if the outbox emptied in time.
        What is left is logged, report by report: it is lost with this process."""
        timeout = self._settings.report_flush_s if timeout is None else timeout
        deadline = time.monotonic() + timeout
        with self._lock:
            if self._pid != os.getpid():
                return True
            while self._outbox and time.monotonic() < deadline:
                self._lock.wait(min(0.1, max(0.0, deadline - time.monotonic())))
            left = list(self._outbox)
        for payload in left:
            log.error("not delivered (the API did not answer within %g s): %s of task %s",
                      timeout, payload["task_status"], payload["task_num"])
        return not left

    # -- single posts that are not kept (heartbeats, the sweep) --------------------------------

    def _session_for_this_process(self) -> requests.Session:
        if self._session is None or self._pid != os.getpid():
            session = requests.Session()
            # Straight to the API: no proxy or ~/.netrc to look up in the environment on every post
            # (the profile of a zero-second job showed those lookups among the worker's top costs).
            session.trust_env = False
            session.headers["Authorization"] = f"Bearer {self._settings.status_api_token}"
            self._session = session
        return self._session

    def post(self, path: str, payload: dict, what: str) -> dict | None:
        """One POST of JSON with the token; log, never raise. For messages that are sent again
        anyway (a heartbeat every few seconds, a sweep), so one that fails is not kept."""
        url = self._settings.status_api_url + path
        try:
            response = requests.post(url, json=payload, timeout=self._settings.report_timeout,
                                     headers={"Authorization": f"Bearer {self._settings.status_api_token}"})
        except requests.RequestException as exc:
            log.warning("could not send %s to %s: %s", what, url, exc)
            return None
        if response.status_code < 500:
            self._api_answered.set()  # the API is back: waiting reports need not sit out a backoff
        if response.status_code >= 400:
            log.warning("%s answered %s: %s", what, response.status_code, response.text[:200])
        try:
            return response.json()
        except ValueError:
            return None
