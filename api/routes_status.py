"""`POST /update_task_status_api/` — where every worker reports. The rules are api/job_states.py.

One report (a JSON object) answers: 200 applied / 200 duplicate (nothing changed) / 409 refused
(would move the row back), each with the reason and the row as it now is; 400 bad field, 401 bad
token, 404 unknown task.

A batch (a JSON array of up to 500 reports, what our workers send) is applied in order in one
transaction and answers 200 with one result per report, each carrying the status a single report
would have had: {"results": [{"status": 200, "outcome": "applied", ...}, {"status": 400, ...}]}.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from api import lab
from api.auth import bearer_matches
from api.job_states import REFUSED
from api.job_store import UnknownTask
from api.request_body import json_body
from api.validation import BadField, parse_report

status_api = Blueprint("status_api", __name__)

MAX_BATCH = 500


def _answer(decision, row) -> tuple[dict, int]:
    return ({"outcome": decision.outcome, "reason": decision.reason, "task": row},
            409 if decision.outcome == REFUSED else 200)


@status_api.post("/update_task_status_api/")
def update_task_status_api():
    if not bearer_matches(lab("settings").status_api_token):
        return jsonify(error="missing or wrong token: send `Authorization: Bearer <STATUS_API_TOKEN>`",
                       field="Authorization"), 401
    body = json_body()
    if isinstance(body, list):
        return jsonify(results=apply_batch(body))
    task_num, report = parse_report(body)
    answer, status = _answer(*lab("store").advance(task_num, report))
    return jsonify(answer), status


def apply_batch(items: list) -> list[dict]:
    if len(items) > MAX_BATCH:
        raise BadField("body", f"a batch holds at most {MAX_BATCH} reports, got {len(items)}")
    results: list[dict | None] = [None] * len(items)
    valid = []
    for i, item in enumerate(items):
        try:
            valid.append((i, *parse_report(item)))
        except BadField as exc:
            results[i] = {"status": 400, "error": exc.message, "field": exc.field}
    applied = lab("store").advance_many([(num, report) for _, num, report in valid])
    for (i, num, _), outcome in zip(valid, applied):
        if isinstance(outcome, UnknownTask):
            results[i] = {"status": 404, "error": f"no task number {num}", "field": "task_num"}
        else:
            answer, status = _answer(*outcome)
            results[i] = {"status": status, **answer}
    return results
