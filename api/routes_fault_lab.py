"""The Experiments panel's controls: the list, killing a job's worker, closing broker connections."""
from __future__ import annotations

import os
import signal
import socket
from urllib.parse import quote

import click
import requests
from flask import Blueprint, jsonify

from api import lab
from api.fault_lab import experiments
from api.job_states import IN_PROGRESS
from api.request_body import json_body
from api.validation import BadField

fault_lab = Blueprint("fault_lab", __name__, cli_group=None)


class CannotKill(Exception):
    pass


@fault_lab.get("/api/experiments")
def list_experiments():
    return jsonify(experiments=experiments())


def kill_worker_running(task_num: int) -> dict:
    """SIGKILL the worker process running `task_num`: no goodbye, no ack — a real crash."""
    row = lab("store").get(task_num)
    if row["task_status"] != IN_PROGRESS:
        raise CannotKill(f"task {task_num} is {row['task_status']}, not running: nothing to kill")
    worker = next((w for w in lab("workers").listing() if w["worker_id"] == row["worker_id"]), None)
    if worker is None:
        raise CannotKill(f"worker {row['worker_id']} has not announced itself, so its pid is unknown")
    if worker["hostname"] != socket.gethostname():
        raise CannotKill(f"{worker['worker_id']} runs on host {worker['hostname']}, not beside this "
                         f"API: use `docker kill {worker['hostname']}` (in compose the host name is "
                         "the container's id)")
    try:
        with open(f"/proc/{worker['pid']}/cmdline", "rb") as f:
            cmdline = f.read()
    except OSError:
        raise CannotKill(f"process {worker['pid']} is gone already") from None
    if b"consumer" not in cmdline and b"celery" not in cmdline:  # a reused pid: not ours to kill
        raise CannotKill(f"process {worker['pid']} is no longer a Queue Lab worker")
    os.kill(worker["pid"], signal.SIGKILL)
    return {"killed_pid": worker["pid"], "worker_id": worker["worker_id"], "kind": worker["kind"],
            "task_num": task_num}


@fault_lab.post("/api/experiments/kill-worker")
def kill_worker():
    body = json_body()
    task_num = body.get("task_num") if isinstance(body, dict) else None
    if isinstance(task_num, bool) or not isinstance(task_num, int) or task_num < 1:
        raise BadField("task_num", f"task_num must be a task number, got {task_num!r}")
    try:
        return jsonify(kill_worker_running(task_num))
    except CannotKill as exc:
        return jsonify(error=str(exc)), 409


@fault_lab.cli.command("kill-worker")
@click.argument("task_num", type=int)
def kill_worker_command(task_num: int):
    """SIGKILL the worker process running TASK_NUM (the fault lab's first experiment)."""
    try:
        result = kill_worker_running(task_num)
    except CannotKill as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"killed {result['kind']} {result['worker_id']} (pid {result['killed_pid']}) "
               f"while it ran task {task_num}")


def close_broker_connections() -> int:
    """Close every client connection in our vhost through the management API — the broker stays
    up, like `rabbitmqctl close_all_connections` but limited to Queue Lab's vhost."""
    settings, stats = lab("settings"), lab("queue_stats")
    auth = (settings.management_user, settings.management_password)
    base = settings.management_url
    listing = requests.get(f"{base}/api/vhosts/{stats.vhost}/connections", auth=auth, timeout=5)
    listing.raise_for_status()
    closed = 0
    for connection in listing.json():
        answer = requests.delete(f"{base}/api/connections/{quote(connection['name'], safe='')}",
                                 auth=auth, timeout=5,
                                 headers={"X-Reason": "Queue Lab fault lab: broker outage"})
        closed += answer.status_code in (200, 204)
    return closed


@fault_lab.post("/api/experiments/close-connections")
def close_connections():
    try:
        return jsonify(closed=close_broker_connections())
    except requests.RequestException as exc:
        return jsonify(error=f"the management API could not close connections ({exc}); "
                             "run `rabbitmqctl close_all_connections \"lab\"` instead"), 503
