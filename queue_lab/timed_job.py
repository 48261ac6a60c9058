"""The one timed job. The Celery task, the raw consumer and the synchronous path all run this
function, so the comparison between them is honest: only the delivery differs, never the work.
"""
from __future__ import annotations

import math
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Protocol

from queue_lab.job_states import DONE, ERROR, IN_PROGRESS

MAX_SECONDS = 300
STEP_S = 0.5  # a progress report every half second: "at least once a second", with room to spare


class ReportStatus(Protocol):
    def __call__(self, task_num: int, task_status: str, *, progress: float | None = None,
                 message: str | None = None, starting: bool = False,
                 run_id: str | None = None, retry_in_s: float | None = None,
                 delivery_count: int | None = None, counted_by: str | None = None) -> object: ...


class JobFailed(Exception):
    """Raised part-way through a job sent with `fail: true`: the row ends ERROR with this text."""


class FlakyFailure(Exception):
    """A failure meant to be retried (the job was sent with `flaky: N`). The job does not report
    it: the caller decides whether it is RETRYING or, attempts used up, ERROR."""


class DeadlineExceeded(Exception):
    """The raw consumer's hand-written time limit: the job stops itself and reports ERROR."""


class JobInterrupted(Exception):
    """The worker is shutting down mid-job; the message goes back to the queue, nothing is reported."""


@dataclass(frozen=True)
class JobSpec:
    task_num: int
    seconds: float
    fail: bool = False
    flaky: int = 0  # fail the first `flaky` attempts part-way, then succeed
    time_limit_s: float | None = None
    poison: bool = False  # the quorum lesson: this job crashes the worker that runs it, every time

    def to_message(self) -> dict:
        return {"task_num": self.task_num, "seconds": self.seconds, "fail": self.fail,
                "flaky": self.flaky, "time_limit_s": self.time_limit_s, "poison": self.poison}

    @classmethod
    def from_message(cls, message: dict) -> "JobSpec":
        limit = message.get("time_limit_s")
        return cls(int(message["task_num"]), float(message["seconds"]), bool(message.get("fail")),
                   int(message.get("flaky") or 0), None if limit is None else float(limit),
                   bool(message.get("poison")))


def run_timed_job(job: JobSpec, report: ReportStatus, stop: threading.Event | None = None,
                  attempt: int = 1, deadline_s: float | None = None, counted: dict | None = None,
                  on_start=None) -> None:
    """Work for `job.seconds` in steps, reporting IN_PROGRESS with a percent, then DONE.

    On failure it reports ERROR with the error text and re-raises, so Celery marks the task FAILURE
    and the consumer can log it — except FlakyFailure, which the caller turns into a retry.
    `stop`, when set, abandons the job (JobInterrupted) unreported. `deadline_s` is the raw
    consumer's hand-written time limit (Celery enforces its own limits from outside the job).
    `counted` (delivery_count, counted_by) goes with the start report: who counted this delivery.
    `on_start` runs right after the start report (the poison job crashes its worker there).
    """
    stop = stop or threading.Event()
    run_id = uuid.uuid4().hex
    started = time.monotonic()
    report(job.task_num, IN_PROGRESS, progress=0.0, starting=True, run_id=run_id, **(counted or {}))
    if on_start is not None:
        on_start()
    steps = max(1, math.ceil(job.seconds / STEP_S))
    progress = 0.0
    try:
        for step in range(1, steps + 1):
            if stop.wait(job.seconds / steps):
                raise JobInterrupted(f"job {job.task_num} interrupted at step {step}/{steps}")
            if deadline_s is not None and time.monotonic() - started > deadline_s:
                raise DeadlineExceeded(f"stopped itself after its {deadline_s:g} s time limit, "
                                       f"at {progress:g}%")
            progress = round(100.0 * step / steps, 1)
            if job.fail and progress >= 50:
                raise JobFailed(f"failed on purpose at {progress:g}% (the job was sent with fail)")
            if attempt <= job.flaky and progress >= 50:
                raise FlakyFailure(f"attempt {attempt} failed on purpose at {progress:g}% "
                                   f"(flaky: the first {job.flaky} attempts fail)")
            if step < steps:
                report(job.task_num, IN_PROGRESS, progress=progress, run_id=run_id)
    except (JobInterrupted, FlakyFailure):
        raise
    except Exception as exc:
        report(job.task_num, ERROR, progress=progress, message=f"{type(exc).__name__}: {exc}",
               run_id=run_id)  # the bar stays where the job stopped
        raise
    report(job.task_num, DONE, progress=100.0, run_id=run_id)
