"""The rules a job's status follows, as one pure function: `decide(row, report) -> Decision`.

Workers report over HTTP, so reports can arrive late, twice, or from a worker whose attempt was
superseded by a redelivery. The table in the README ("What the status API answers") is this
function, case by case. Keeping it pure (no database, no clock) lets the tests walk every cell.
"""
from __future__ import annotations

from dataclasses import dataclass, field

PENDING, IN_PROGRESS, DONE, ERROR = "PENDING", "IN_PROGRESS", "DONE", "ERROR"
STATUSES = (PENDING, IN_PROGRESS, DONE, ERROR)
FINAL = frozenset({DONE, ERROR})

APPLIED, DUPLICATE, REFUSED = "applied", "duplicate", "refused"


@dataclass(frozen=True)
class Report:
    """One worker report, already validated."""

    task_status: str
    worker_id: str
    progress: float | None = None
    message: str | None = None
    starting: bool = False  # the first report of a run: a redelivered job starts a new attempt
    run_id: str | None = None  # one execution of the job; tells a retried report from a new run


@dataclass(frozen=True)
class Decision:
    outcome: str  # APPLIED, DUPLICATE (nothing to change) or REFUSED (would move the row back)
    reason: str
    changes: dict = field(default_factory=dict)


def _refuse(reason: str) -> Decision:
    return Decision(REFUSED, reason)


def _start_attempt(row: dict, report: Report, now: float) -> Decision:
    attempt = row["attempt"] + 1
    return Decision(
        APPLIED,
        f"attempt {attempt} started by {report.worker_id}",
        {
            "task_status": IN_PROGRESS,
            "attempt": attempt,
            "worker_id": report.worker_id,
            "run_id": report.run_id,
            "progress": report.progress or 0.0,
            "started_at": now,
            "finished_at": None,
        },
    )


def _finish(row: dict, report: Report, now: float, status: str) -> Decision:
    changes = {"task_status": status, "worker_id": report.worker_id, "finished_at": now}
    if report.run_id:
        changes["run_id"] = report.run_id
    if row["started_at"] is None:  # the start report was lost or the job took no time
        changes["started_at"] = now
    if row["attempt"] == 0:
        changes["attempt"] = 1
    if status == DONE:
        changes["progress"] = 100.0
        changes["error"] = None
    else:
        changes["error"] = report.message or "the job failed (the worker gave no message)"
        if report.progress is not None:
            changes["progress"] = report.progress
    return Decision(APPLIED, f"{status} reported by {report.worker_id}", changes)


def decide(row: dict, report: Report, now: float) -> Decision:
    """What a report does to a row: the whole state machine."""
    current, wanted = row["task_status"], report.task_status

    if current in FINAL:
        if wanted == current:
            return Decision(DUPLICATE, f"already {current}; repeated report ignored")
        return _refuse(f"task is already {current}; a {wanted} report cannot reopen it")

    if wanted == PENDING:
        if current == PENDING:
            return Decision(DUPLICATE, "already PENDING")
        return _refuse(f"task is {current}; it cannot go back to PENDING")

    if wanted == DONE:
        # DONE is a fact whichever attempt reports it: the work was done.
        return _finish(row, report, now, DONE)

    # Which run is this? By run_id when the worker sends one, else by worker id.
    same_run = (
        report.run_id == row["run_id"] if report.run_id else report.worker_id == row["worker_id"]
    )
    if current == IN_PROGRESS and report.starting and report.run_id and same_run:
        return Decision(DUPLICATE, f"attempt {row['attempt']} already started")
    if current == IN_PROGRESS and not report.starting and not same_run:
        return _refuse(
            f"attempt {row['attempt']} is run by {row['worker_id']}; "
            f"this report from {report.worker_id} belongs to an earlier attempt"
        )

    if wanted == ERROR:
        return _finish(row, report, now, ERROR)

    # wanted == IN_PROGRESS
    if current == PENDING or report.starting:
        return _start_attempt(row, report, now)
    if report.progress is None or report.progress == row["progress"]:
        return Decision(DUPLICATE, f"still IN_PROGRESS at {row['progress']:g}%")
    if report.progress < row["progress"]:
        return _refuse(
            f"progress never goes back within an attempt ({row['progress']:g}% → {report.progress:g}%)"
        )
    return Decision(APPLIED, f"progress {report.progress:g}%", {"progress": report.progress})
