"""The rules a job's status follows, as one pure function: `decide(row, report) -> Decision`.

Workers report over HTTP, so reports can arrive late, twice, or from a worker whose attempt was
superseded by a redelivery. The README's table under "`POST /update_task_status_api/` — what it
answers" is this function, case by case. Keeping it pure (no database, no clock) lets the tests
walk every cell.

Statuses: PENDING and SCHEDULED wait to start (SCHEDULED has a due time); IN_PROGRESS runs;
RETRYING waits for its next attempt (due time); DONE and ERROR are final; LOST is what the sweeper
calls a running job whose worker went silent — any later report from it or a redelivery revives it.
Workers report PENDING, IN_PROGRESS, RETRYING, DONE and ERROR; SCHEDULED and LOST come from the API.

`Report` is also the one report contract (worker → API): its fields, its checks and its JSON both
ways (`to_json` on the worker, `from_json` in the API), used by every worker, the API and the
synchronous path alike. A new field is added here, and every side has it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

from queue_lab.fields import BadField, flag, gettext, json_object, number, one_of, text, whole

PENDING, SCHEDULED, IN_PROGRESS, RETRYING = "PENDING", "SCHEDULED", "IN_PROGRESS", "RETRYING"
DONE, ERROR, LOST = "DONE", "ERROR", "LOST"
REPORTABLE = (PENDING, IN_PROGRESS, RETRYING, DONE, ERROR)
WAITING = frozenset({PENDING, SCHEDULED})
FINAL = frozenset({DONE, ERROR})

APPLIED, DUPLICATE, REFUSED = "applied", "duplicate", "refused"
COUNTERS = ("x-death", "x-delivery-count")  # who counted a job's deliveries (Report.counted_by)
MAX_TASK_NUM = 2**63 - 1  # SQLite's INTEGER PRIMARY KEY
MAX_MESSAGE = 2000
MAX_RESULT = 2**53  # a job's result: a whole number JSON carries exactly (JavaScript's safe integers)


@dataclass(frozen=True)
class Report:
    """One worker report about one job (the job's number travels beside it: `to_json(task_num)`)."""

    task_status: str
    worker_id: str
    progress: float | None = None
    message: str | None = None
    starting: bool = False  # the first report of a run: a redelivered job starts a new attempt
    run_id: str | None = None  # one execution of the job; tells a retried report from a new run
    retry_in_s: float | None = None  # RETRYING: when the next attempt is due, relative to now
    # A start report may say who counted the deliveries so far: the broker's `x-death` (the classic
    # path's wait queue) or `x-delivery-count` (a quorum queue), and the count — shown on the row.
    delivery_count: int | None = None
    counted_by: str | None = None
    # ERROR because the broker dead-lettered the message (a quorum queue's delivery limit): the
    # message has left the work queue for good, so this ends the job whichever run it came from.
    dead_lettered: bool = False
    # DONE only: what the job computed (timed_job.job_answer), kept on the row beside who produced it.
    result: int | None = None

    def to_json(self, task_num: int) -> dict:
        """The wire shape: task_num, task_status and worker_id, then only the fields that are set."""
        body: dict[str, Any] = {"task_num": task_num, "task_status": self.task_status, "worker_id": self.worker_id}
        for name in ("progress", "message", "run_id", "retry_in_s", "delivery_count", "counted_by", "result"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        if self.message is not None:
            body["message"] = self.message[:MAX_MESSAGE]
        if self.retry_in_s is not None:
            body["retry_in_s"] = round(self.retry_in_s, 3)
        for name in ("starting", "dead_lettered"):
            if getattr(self, name):
                body[name] = True
        return body

    @classmethod
    def from_json(cls, body: Any) -> tuple[int, "Report"]:
        """A report as a stranger sent it → (task_num, Report), or BadField naming the field."""
        body = json_object(body, {"task_num", *(f.name for f in fields(cls))})
        task_num = whole(body, "task_num", 1, MAX_TASK_NUM)
        progress = number(body, "progress", 0, 100, required=False)
        retry_in_s = number(body, "retry_in_s", 0, 86400, required=False)
        task_status = one_of(body, "task_status", REPORTABLE, None)
        result = whole(body, "result", 0, MAX_RESULT, required=False)
        if result is not None and task_status != DONE:
            raise BadField("result", gettext("only a DONE report carries a result, not a %(status)s one",
                                             status=task_status))
        return task_num, cls(
            task_status=task_status,
            worker_id=text(body, "worker_id", required=True, max_len=200),
            progress=None if progress is None else float(progress),
            message=text(body, "message", required=False, max_len=MAX_MESSAGE),
            starting=flag(body, "starting"),
            run_id=text(body, "run_id", required=False, max_len=100),
            retry_in_s=None if retry_in_s is None else float(retry_in_s),
            delivery_count=whole(body, "delivery_count", 0, 2**31, required=False),
            counted_by=one_of(body, "counted_by", COUNTERS, None) if "counted_by" in body else None,
            dead_lettered=flag(body, "dead_lettered"),
            result=result,
        )


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
            "due_at": None,
            "error": None,
            "updated_at": now,
            "delivery_count": report.delivery_count,
            "counted_by": report.counted_by,
        },
    )


def _finish(row: dict, report: Report, now: float, status: str) -> Decision:
    changes = {"task_status": status, "worker_id": report.worker_id, "finished_at": now,
               "due_at": None, "updated_at": now}
    if report.run_id:
        changes["run_id"] = report.run_id
    if row["started_at"] is None:  # the start report was lost or the job took no time
        changes["started_at"] = now
    if row["attempt"] == 0:
        changes["attempt"] = 1
    # The message went to a dead-letter queue (the broker's delivery limit, out of attempts, or
    # refused as not a job): the flow diagram draws it there, from this field.
    changes["dead_lettered"] = status == ERROR and report.dead_lettered
    if status == DONE:
        changes["progress"] = 100.0
        changes["error"] = None
        changes["result"] = report.result
    else:
        changes["error"] = report.message or "the job failed (the worker gave no message)"
        if report.progress is not None:  # the bar stays where the job stopped, never further back
            changes["progress"] = max(report.progress, row["progress"])
    return Decision(APPLIED, f"{status} reported by {report.worker_id}", changes)


def _retry_later(row: dict, report: Report, now: float) -> Decision:
    due = now + (report.retry_in_s or 0.0)
    changes = {"task_status": RETRYING, "worker_id": report.worker_id, "due_at": due,
               "error": report.message or "the attempt failed; retrying", "updated_at": now}
    if report.progress is not None:
        changes["progress"] = max(report.progress, row["progress"])
    return Decision(APPLIED, f"attempt {row['attempt']} failed; next try due in "
                             f"{report.retry_in_s or 0:g} s", changes)


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

    if wanted == ERROR and report.dead_lettered:
        # So is a dead-lettering: the broker gave up on the message, no attempt can follow.
        return _finish(row, report, now, ERROR)

    if current in WAITING:  # not started yet: whatever the worker says, it has started
        if wanted == IN_PROGRESS:
            return _start_attempt(row, report, now)
        return _finish(row, report, now, ERROR) if wanted == ERROR else _retry_later(row, report, now)

    # Which run is this? By run_id when the worker sends one, else by worker id.
    same_run = (
        report.run_id == row["run_id"] if report.run_id else report.worker_id == row["worker_id"]
    )
    if report.starting and wanted == IN_PROGRESS:
        if current == IN_PROGRESS and report.run_id and same_run:
            return Decision(DUPLICATE, f"attempt {row['attempt']} already started")
        return _start_attempt(row, report, now)  # a redelivery or the next retry: a new attempt

    if not same_run:
        return _refuse(
            f"attempt {row['attempt']} is run by {row['worker_id']}; "
            f"this report from {report.worker_id} belongs to an earlier attempt"
        )

    if current == RETRYING:
        if wanted == RETRYING:
            return Decision(DUPLICATE, "already RETRYING")
        return _refuse(f"attempt {row['attempt']} already failed and is waiting to retry; "
                       f"a late {wanted} report from it changes nothing")

    # current is IN_PROGRESS or LOST, and this is its own run speaking.
    if wanted == ERROR:
        return _finish(row, report, now, ERROR)
    if wanted == RETRYING:
        return _retry_later(row, report, now)
    if report.progress is not None and report.progress < row["progress"]:
        return _refuse(
            f"progress never goes back within an attempt ({row['progress']:g}% → {report.progress:g}%)"
        )
    if current == LOST:
        return Decision(APPLIED, f"{report.worker_id} reported again: not lost after all", {
            "task_status": IN_PROGRESS, "progress": max(report.progress or 0.0, row["progress"]),
            "error": None, "updated_at": now})
    if report.progress is None or report.progress == row["progress"]:
        return Decision(DUPLICATE, f"still IN_PROGRESS at {row['progress']:g}%")
    return Decision(APPLIED, f"progress {report.progress:g}%",
                    {"progress": report.progress, "updated_at": now})
