"""`POST /update_task_status_api/` — where every worker reports. The rules are api/job_states.py.

Answers: 200 applied / 200 duplicate (nothing changed) / 409 refused (would move the row back),
each with the reason and the row as it now is; 400 bad field, 401 bad token, 404 unknown task.
"""
from __future__ import annotations

from flask import Blueprint, jsonify

from api import lab
from api.auth import bearer_matches
from api.job_states import REFUSED
from api.request_body import json_body
from api.validation import parse_report

status_api = Blueprint("status_api", __name__)


@status_api.post("/update_task_status_api/")
def update_task_status_api():
    if not bearer_matches(lab("settings").status_api_token):
        return jsonify(error="missing or wrong token: send `Authorization: Bearer <STATUS_API_TOKEN>`",
                       field="Authorization"), 401
    task_num, report = parse_report(json_body())
    decision, row = lab("store").advance(task_num, report)
    answer = {"outcome": decision.outcome, "reason": decision.reason, "task": row}
    return jsonify(answer), 409 if decision.outcome == REFUSED else 200
