"""What an instructor needs beside the jobs: workers, queues, health, and the class reset."""
from __future__ import annotations

import time

import click
from flask import Blueprint, jsonify

from api import lab
from api.auth import bearer_matches
from api.class_reset import reset_class
from api.health import health
from api.request_body import json_body
from api.validation import parse_heartbeat

classroom = Blueprint("classroom", __name__, cli_group=None)


@classroom.post("/api/workers/heartbeat")
def worker_heartbeat():
    """Every worker process, every WORKER_HEARTBEAT_S, with the status token."""
    if not bearer_matches(lab("settings").status_api_token):
        return jsonify(error="missing or wrong token: send `Authorization: Bearer <STATUS_API_TOKEN>`",
                       field="Authorization"), 401
    lab("workers").heartbeat(**parse_heartbeat(json_body()))
    return jsonify(ok=True)


@classroom.get("/api/workers")
def list_workers():
    registry = lab("workers")
    return jsonify(workers=registry.listing(), heartbeat_s=lab("settings").worker_heartbeat_s,
                   offline_after_s=registry.offline_s, forget_after_s=registry.forget_s, now=time.time())


@classroom.get("/api/queues")
def queue_depths():
    """Always 200: when the management API is unreachable, `error` says why in one line."""
    return jsonify({**lab("queue_stats").snapshot(), "now": time.time()})


@classroom.get("/healthz")
def healthz():
    report = health(lab("settings"), lab("store"), lab("workers"))
    return jsonify(report), 200 if report["ok"] else 503


@classroom.post("/api/reset")
def reset_api():
    token = lab("settings").instructor_token
    if not token:
        return jsonify(error="the reset API is off: set INSTRUCTOR_TOKEN to enable it, or run "
                             "`flask --app api reset` on the server"), 403
    if not bearer_matches(token):
        return jsonify(error="missing or wrong token: send `Authorization: Bearer <INSTRUCTOR_TOKEN>`",
                       field="Authorization"), 401
    return jsonify(reset_class(lab("settings"), lab("store"), lab("workers")))


@classroom.cli.command("reset")
def reset_command():
    """Class reset: purge Queue Lab's queues and clear the status table."""
    result = reset_class(lab("settings"), lab("store"), lab("workers"))
    for queue, count in result["purged"].items():
        click.echo(f"purged {count} message(s) from {queue}")
    click.echo(f"deleted {result['deleted_jobs']} job(s) from the table")
