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

from queue_lab.job_message import JobSpec
from queue_lab.job_states import DONE, ERROR, FINAL, IN_PROGRESS

STEP_S = 0.5  # a progress report every half second: "at least once a second", with room to spare


@dataclass(frozen=True)
class Refusal:
    """The API's word that a run must not go on: the table holds no such job (`task_status` None:
    the message was not one of the table's), or the job has already ended (its final status)."""

    task_status: str | None
    reason: str

    @property
    def unknown(self) -> bool:
        return self.task_status is None

    @classmethod
    def from_answer(cls, task_num: int, result: dict) -> "Refusal | None":
        """One result of `POST /update_task_status_api/` → a Refusal, or None: go on."""
        if result.get("status") == 404:
            return cls(None, f"no such job: the table holds no job {task_num}")
        if result.get("status") == 409 and result.get("task_status") in FINAL:
            return cls(result["task_status"], f"already {result['task_status']}")
        return None


class ReportStatus(Protocol):
    """How a job reports: `report(task_num, task_status, **fields of job_states.Report)`, and asks
    whether the API refused this run (`wait_for_start`: wait for the start report's answer)."""

    def __call__(self, task_num: int, task_status: str, **fields) -> None: ...

    def refusal(self, task_num: int, run_id: str, wait_for_start: bool = False) -> Refusal | None: ...


class JobRefused(Exception):
    """The API refused the run (`.refusal`): at its start, or part-way (the row ended elsewhere or a
    class reset removed it). The job stops and reports nothing more."""

    def __init__(self, task_num: int, refusal: Refusal):
        super().__init__(f"job {task_num}: {refusal.reason}")
        self.refusal = refusal


class JobFailed(Exception):
    """Raised part-way through a job sent with `fail: true`: the row ends ERROR with this text."""


class FlakyFailure(Exception):
    """A failure meant to be retried (the job was sent with `flaky: N`). The job does not report
    it: the caller decides whether it is RETRYING or, attempts used up, ERROR."""


class DeadlineExceeded(Exception):
    """The raw consumer's hand-written time limit: the job stops itself and reports ERROR."""


class JobInterrupted(Exception):
    """The worker is shutting down mid-job; the message goes back to the queue, nothing is reported."""


def run_timed_job(job: JobSpec, report: ReportStatus, stop: threading.Event | None = None,
                  attempt: int = 1, deadline_s: float | None = None, counted: dict | None = None,
                  on_start=None) -> int:
    """Work for `job.seconds` in steps, reporting IN_PROGRESS with a percent, then DONE with the
    job's result (job_answer), which it also returns (a Celery task's return value).

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
    # Only a job the table holds, and that has not ended, runs: the start report's answer decides.
    _go_on_unless_refused(job, report, run_id, wait_for_start=True)
    if on_start is not None:
        on_start()
    steps = max(1, math.ceil(job.seconds / STEP_S))
    progress = 0.0
    try:
        for step in range(1, steps + 1):
            if stop.wait(job.seconds / steps):
                raise JobInterrupted(f"job {job.task_num} interrupted at step {step}/{steps}")
            _go_on_unless_refused(job, report, run_id)  # ended elsewhere, or a class reset: stop
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
    except (JobInterrupted, FlakyFailure, JobRefused):
        raise
    except Exception as exc:
        report(job.task_num, ERROR, progress=progress, message=f"{type(exc).__name__}: {exc}",
               run_id=run_id)  # the bar stays where the job stopped
        raise
    answer = job_answer(job.task_num) + sum(job.inputs)  # a canvas step adds what it was passed
    report(job.task_num, DONE, progress=100.0, run_id=run_id, result=answer)
    return answer


def job_answer(task_num: int) -> int:
    """What the job computes: 1 + 2 + … + n for its number n — small, and a value a student can
    check on the row (job #12 → 78), reported with DONE beside the worker and attempt that made it."""
    return task_num * (task_num + 1) // 2


def _go_on_unless_refused(job: JobSpec, report: ReportStatus, run_id: str, wait_for_start: bool = False) -> None:
    refusal = report.refusal(job.task_num, run_id, wait_for_start=wait_for_start)
    if refusal is not None:
        raise JobRefused(job.task_num, refusal)
