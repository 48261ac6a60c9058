"""What workers send, each with STATUS_API_TOKEN (paths named once in queue_lab/api_paths.py).

`POST /update_task_status_api/` — every job report. The rules are queue_lab/job_states.py.
One report (a JSON object) answers: 200 applied / 200 duplicate (nothing changed) / 409 refused
(would move the row back), each with the reason and the row as it now is; 400 bad field, 401 bad
token, 404 unknown task. A batch (a JSON array of up to 500 reports, what our workers send) is
applied in order in one transaction and answers 200 with one result per report, each carrying the
status a single report would have had: {"results": [{"status": 200, "outcome": "applied", ...}]}.
With `?lean=1` (our workers) the results leave the rows out: a worker reads only the outcome, and
serialising a row per report was a good part of the API's CPU per job.

`POST /api/workers/heartbeat` — every worker process, every WORKER_HEARTBEAT_S (workers panel).

`POST /api/maintenance/sweep` — what the celery_beat schedule asks for every SWEEP_EVERY_S: running
jobs not reported on for LOST_AFTER_S, whose worker has sent no heartbeat either, become LOST (named,
not silent), and finished jobs older than HISTORY_MAX_AGE_S are forgotten. The API does it because
the API owns the database; the beat process may run in another container. Right after the API
starts it names nothing LOST for `lost_grace_s`: workers kept their reports while it was away and
are delivering them now — a row must not flash LOST for a job whose DONE is on its way.
"""
from __future__ import annotations

import time

from flask import Blueprint, jsonify, request

from api.auth import requires_token
from api.canvas import send_on
from api.job_store import UnknownTask
from api.request_body import json_body
from api.state import lab
from api.validation import BadField, parse_heartbeat
from queue_lab import api_paths
from queue_lab.job_states import APPLIED, DONE, ERROR, LOST, REFUSED, Report

bp = Blueprint("status_reports", __name__)

MAX_BATCH = 500
ENDED = (DONE, ERROR, LOST)  # what a canvas step waits for


def _answer(decision, row) -> tuple[dict, int]:
    """`task_status` is the row's status now, as a field: a worker whose start was refused because
    the job has ended learns that from it (queue_lab.timed_job.Refusal), not from the reason."""
    return ({"outcome": decision.outcome, "reason": decision.reason, "task_status": row["task_status"],
             "task": row}, 409 if decision.outcome == REFUSED else 200)


@bp.post(api_paths.STATUS_REPORTS)
@requires_token("status_api_token")
def update_task_status_api():
    body = json_body()
    if isinstance(body, list):
        results = apply_batch(body)
        if request.args.get("lean") == "1":
            for result in results:
                result.pop("task", None)
        return jsonify(results=results)
    task_num, report = Report.from_json(body)
    decision, row = lab().store.advance(task_num, report)
    _follow_up([(decision, row)])
    answer, status = _answer(decision, row)
    return jsonify(answer), status


# [canvas/rabbitmq: begin]
def _follow_up(applied: list) -> None:
    """Jobs that just ended: the canvas steps waiting for them go on, or end (api/canvas.py)."""
    ended = [row["task_num"] for decision, row in (a for a in applied if isinstance(a, tuple))
             if decision.outcome == APPLIED and row["task_status"] in ENDED]
    if ended:
        send_on(lab(), ended)
# [canvas/rabbitmq: end]


def apply_batch(items: list) -> list[dict]:
    if len(items) > MAX_BATCH:
        raise BadField("body", f"a batch holds at most {MAX_BATCH} reports, got {len(items)}")
    results: list[dict | None] = [None] * len(items)
    valid = []
    for i, item in enumerate(items):
        try:
            valid.append((i, *Report.from_json(item)))
        except BadField as exc:
            results[i] = {"status": 400, "error": exc.message, "field": exc.field}
    applied = lab().store.advance_many([(num, report) for _, num, report in valid])
    _follow_up(applied)
    for (i, num, _), outcome in zip(valid, applied):
        if isinstance(outcome, UnknownTask):
            results[i] = {"status": 404, "error": f"no task number {num}", "field": "task_num"}
        else:
            answer, status = _answer(*outcome)
            results[i] = {"status": status, **answer}
    return results


@bp.post(api_paths.WORKER_HEARTBEAT)
@requires_token("status_api_token")
def worker_heartbeat():
    lab().workers.heartbeat(**parse_heartbeat(json_body()))
    return jsonify(ok=True)


@bp.post(api_paths.SWEEP)
@requires_token("status_api_token")
def sweep():
    state = lab()
    grace = state.settings.lost_grace_s
    if time.monotonic() - state.started_at < grace:
        lost = []
    else:
        lost = state.store.sweep_lost(grace, alive=state.workers.heard_from_within(grace))
        redis_started = state.queue_stats.redis_started_at()  # a Redis that forgot its lists
        if redis_started is not None:
            lost += state.store.sweep_redis_restart(redis_started)
    send_on(state, None)  # a look round: a step whose jobs ended while no API process was there
    pruned = state.store.prune(state.settings.history_max_age_s)
    return jsonify(lost=lost, pruned=pruned)
