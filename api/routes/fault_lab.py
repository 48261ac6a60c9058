"""The Experiments panel: the list of experiments, and the controls that break things on purpose
(the actions themselves are in api/fault_actions.py)."""
from __future__ import annotations

import time

import click
import kombu.exceptions
from flask import Blueprint, jsonify
from flask_babel import gettext

from api.auth import class_control
from api.experiments import experiments
from api.fault_actions import (
    CannotKill, close_broker_connections, consume_lane, kill_worker_running, limit_celery, tune_celery,
)
from api.request_body import json_body
from api.state import lab
from api.errors import broker_error
from api.queue_stats import management_failure
from api.raw_publisher import BrokerUnavailable
from api.validation import BadField
from queue_lab.management_api import ManagementError
from queue_lab.fields import flag, json_object, one_of, whole
from queue_lab.rate_limit import RateLimit

bp = Blueprint("fault_lab", __name__, cli_group=None)


@bp.get("/api/experiments")
def list_experiments():
    state = lab()
    return jsonify(experiments=experiments(state.queue_stats.version(), state.settings),
                   rabbitmq_version=state.queue_stats.version())


@bp.post("/api/experiments/kill-worker")
@class_control
def kill_worker():
    body = json_body()
    task_num = body.get("task_num") if isinstance(body, dict) else None
    if isinstance(task_num, bool) or not isinstance(task_num, int) or task_num < 1:
        raise BadField("task_num", gettext("task_num must be a task number, got %(got)s", got=repr(task_num)))
    whole = flag(body, "whole")
    try:
        return jsonify(kill_worker_running(task_num, lab().store, lab().workers, whole=whole))
    except CannotKill as exc:
        return jsonify(error=str(exc)), 409


@bp.cli.command("kill-worker")
@click.argument("task_num", type=int)
@click.option("--whole", is_flag=True, help="a Celery worker's main process too, as `docker kill` would")
def kill_worker_command(task_num: int, whole: bool):
    """SIGKILL the worker process running TASK_NUM (the fault lab's first experiment)."""
    try:
        result = kill_worker_running(task_num, lab().store, lab().workers, whole=whole)
    except CannotKill as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"killed {result['kind']} {result['worker_id']} (pid {result['killed_pid']}) "
               f"while it ran task {task_num}")


@bp.post("/api/experiments/close-connections")
@class_control
def close_connections():
    try:
        return jsonify(closed=close_broker_connections(lab().queue_stats))
    except ManagementError as exc:
        return jsonify(error=gettext("the management API could not close connections (%(reason)s); "
                                     "run `rabbitmqctl close_all_connections \"lab\"` instead",
                                     reason=management_failure(exc))), 503


@bp.post("/api/experiments/long-lane")
@class_control
def long_lane():
    """`{"consume": false}` pauses the long lane (its workers stop consuming its queue), `true`
    resumes it: the routes lesson's "no consumer on queue X", with the workers still up."""
    body = json_object(json_body(), {"consume"})
    if "consume" not in body:
        raise BadField("consume", gettext("consume is required: false pauses the long lane, true resumes it"))
    consume = flag(body, "consume")
    settings = lab().settings
    queue = settings.queues.celery_long
    from celery_app import app as celery  # here: the page works even if Celery is absent

    try:
        nodes = consume_lane(celery, queue, consume, {settings.queues.celery, settings.queues.celery_early})
    except (kombu.exceptions.OperationalError, OSError) as exc:
        raise BrokerUnavailable(settings.broker_hint, "rabbitmq") from exc
    if not nodes:
        start = gettext("start the long lane's worker: `make run` starts celery_worker_long, compose runs the "
                        "celery_worker_long service")
        why = (gettext("no paused worker of this lab is waiting for queue %(queue)s: nothing to resume — %(start)s",
                       queue=queue, start=start) if consume else
               gettext("no worker consumes queue %(queue)s: nothing to pause — %(start)s", queue=queue, start=start))
        return jsonify(error=why, queue=queue), 409
    return jsonify(queue=queue, consume=consume, workers=nodes)


RATE_WINDOW_S = 60  # the measure: jobs started in the last minute, as the limits are per minute


@bp.post("/api/experiments/rate-limit")
@class_control
def rate_limit():
    """`{"method": "celery" | "rabbitmq", "per_minute": 12 | null, "scope": "worker" | "class"}`: the
    rate-limits lesson. Celery's is per worker only (its own token bucket in each); the hand-written
    one is published to every raw consumer, per consumer or shared by the class."""
    body = json_object(json_body(), {"method", "per_minute", "scope"})
    method = one_of(body, "method", ("celery", "rabbitmq"), None)
    if "per_minute" not in body:
        raise BadField("per_minute", gettext("per_minute is required: jobs a minute, or null to lift the limit"))
    limit = RateLimit.from_fields({name: body[name] for name in ("per_minute", "scope") if name in body})
    settings = lab().settings
    answer = {"method": method, "per_minute": limit.per_minute, "scope": limit.scope}
    if method == "rabbitmq":
        try:
            lab().publisher.publish_control(limit.to_body())
        except BrokerUnavailable as exc:
            return jsonify(error=broker_error(exc)), 503
        consumers = sorted(w["worker_id"] for w in lab().workers.listing()
                           if w["kind"] == "consumer" and w["online"] and w["queue"] == settings.queues.raw.work)
        return jsonify({**answer, "exchange": settings.queues.control, "consumers": consumers})
    if limit.scope == "class":
        raise BadField("scope", gettext("Celery's rate_limit holds per worker: it has no limit for the whole class, "
                                        "so scope must be worker (divide the limit by the workers yourself)"))
    from celery_app import app as celery  # here: the page works even if Celery is absent

    try:
        nodes = limit_celery(celery, limit.per_minute, {settings.queues.celery, settings.queues.celery_early})
    except (kombu.exceptions.OperationalError, OSError) as exc:
        raise BrokerUnavailable(settings.broker_hint, "rabbitmq") from exc
    if not nodes:
        return jsonify(error=gettext("no Celery worker of this lab is running on RabbitMQ: start one (`make run`, "
                                     "or compose's celery_worker service) and set the limit again — a worker "
                                     "started later starts without it")), 409
    return jsonify({**answer, "workers": nodes})


@bp.get("/api/experiments/rate-limit")
def measured_rate():
    """What the limits let through: per path, the jobs started in the last minute, by worker."""
    starts = lab().store.starts_since(time.time() - RATE_WINDOW_S)
    return jsonify(window_s=RATE_WINDOW_S, methods={method: {"started": sum(by.values()), "workers": by}
                                                    for method, by in starts.items()
                                                    if method in ("celery", "rabbitmq")})


MAX_PROCESSES, MAX_MULTIPLIER = 8, 16  # a class on a laptop: enough to see it, not to swap


@bp.post("/api/experiments/concurrency")
@class_control
def concurrency():
    """`{"processes": 1–8, "prefetch_multiplier": 1–16}` (either or both): the concurrency lesson's knobs
    on this lab's Celery workers, live — pool processes per worker, and how many messages each
    process's share of the prefetch is. Replicas are the third knob: `--scale celery_worker=N`."""
    body = json_object(json_body(), {"processes", "prefetch_multiplier"})
    processes = whole(body, "processes", 1, MAX_PROCESSES, required=False)
    multiplier = whole(body, "prefetch_multiplier", 1, MAX_MULTIPLIER, required=False)
    if processes is None and multiplier is None:
        raise BadField("processes", gettext("give processes (1 to %(processes)s) or prefetch_multiplier (1 to "
                                            "%(multiplier)s), or both", processes=MAX_PROCESSES,
                                            multiplier=MAX_MULTIPLIER))
    settings = lab().settings
    from celery_app import app as celery  # here: the page works even if Celery is absent

    try:
        told = tune_celery(celery, processes, multiplier, {settings.queues.celery})
    except (kombu.exceptions.OperationalError, OSError) as exc:
        raise BrokerUnavailable(settings.broker_hint, "rabbitmq") from exc
    if not told:
        return jsonify(error=gettext("no Celery worker of this lab is running on RabbitMQ: start one (`make run`, "
                                     "or compose's celery_worker service) and try again")), 409
    return jsonify(processes=processes, prefetch_multiplier=multiplier, workers=told)


# What a stranger's script might publish: JSON, but not a job (no task_num, no seconds).
STRANGER_MESSAGE = b'{"hello": "I am not a job", "sent_by": "the fault lab, as any client with the password could"}'


@bp.post("/api/experiments/publish-stranger")
def publish_stranger():
    """Publish a message that is not a job to a raw work queue, as any client with the broker's
    password could: the consumer must refuse it and park it with the reason (not a class-wide
    control: it changes no one's job)."""
    body = json_object(json_body(), {"queue_type"})
    queue_type = one_of(body, "queue_type", ("classic", "quorum"), "classic")
    queues = lab().settings.queues.quorum if queue_type == "quorum" else lab().settings.queues.raw
    try:
        lab().publisher.publish_body(queues, STRANGER_MESSAGE)
    except BrokerUnavailable as exc:
        return jsonify(error=broker_error(exc)), 503
    return jsonify(queue=queues.work, parked_in=queues.refused, body=STRANGER_MESSAGE.decode())
