"""The page's API: submit jobs, read what changed (delta poll or Server-Sent Events), summary."""
from __future__ import annotations

import json
import time
import uuid

from flask import Blueprint, Response, jsonify, request, url_for
from flask_babel import gettext

from api.canvas import CanvasRefused
from api.celery_results import RESULT_BACKEND_NAMES
from api.errors import broker_error
from api.job_dispatch import run_synchronously, send_by_celery, send_by_rabbitmq, work_queue
from api.raw_publisher import BrokerUnavailable, Unroutable
from api.request_body import json_body
from api.state import lab
from api.validation import METHODS, BadField, parse_submission
from queue_lab.job_message import JobSpec
from queue_lab.settings import redact_url

bp = Blueprint("tasks", __name__)

DEFAULT_LIMIT, MAX_LIMIT = 500, 2000


@bp.post("/api/tasks")
def submit_tasks():
    """Write every job PENDING first, then send it: 202 queued, 200 when sync has finished."""
    order = parse_submission(json_body())
    state = lab()
    method, store = order.method, state.store
    detail = None if order.publish else f"registered for {method}, nothing published: waiting for your own message"
    if order.exchange and order.publish:
        detail = f"sent to exchange {state.settings.queues.exchanges[order.exchange]} with routing key {order.routing_key!r}"
    backend = RESULT_BACKEND_NAMES[method] if order.keep_result else None
    task_nums = store.create(method, order.seconds, order.fail, order.count, order.delay_s,
                             max_waiting=state.settings.max_waiting_jobs, owner=order.owner, detail=detail,
                             queue=None if method == "sync" else work_queue(order, state.settings),
                             result_backend=backend,
                             result_client=state.celery_results.client if backend == "rpc://" else None,
                             canvas=order.canvas, also_coming=int(order.canvas == "chord"),
                             routing_key=order.routing_key)
    specs = [JobSpec(num, order.seconds, order.fail, order.flaky, order.time_limit_s, order.poison)
             for num in task_nums]
    answer = {"task_nums": task_nums, "method": method}
    if not order.publish:  # the student's own producer sends them: here is what to send, and where
        return jsonify({**answer, "published": False,
                        "messages": [message_to_send(spec, order, state.settings) for spec in specs]}), 201
    try:
        if method in ("celery", "celery_redis"):
            send_by_celery(specs, order, store, state.settings, on_redis=method == "celery_redis",
                           results=state.celery_results)
        elif method == "rabbitmq":
            # [results: begin] (counted on the page: lines each method needs to get a result back)
            reply_ids = {num: f"job-{num}-{uuid.uuid4().hex[:12]}" for num in task_nums} if order.reply else None
            if reply_ids:
                store.set_reply_ids(reply_ids.items())
            # [results: end]
            send_by_rabbitmq(specs, order, store, state.publisher, reply_ids)
        else:
            run_synchronously(specs, store)
            return jsonify({**answer, "tasks": [store.get(num) for num in task_nums],
                            "epoch": store.epoch()}), 200
    except Unroutable as exc:  # no binding for the key: the rows say so, and so does a 422 naming the field
        return jsonify(error=gettext("no queue is bound to exchange %(exchange)s with a key matching %(key)s: RabbitMQ "
                                     "returned the message (312 NO_ROUTE). Start a consumer that binds it "
                                     "(CONSUMER_BINDS), or send another key", exchange=exc.exchange, key=repr(exc.key)),
                       field="routing_key", task_nums=task_nums, method=method), 422
    except BrokerUnavailable as exc:  # the senders already marked the unsent rows ERROR
        return jsonify(error=broker_error(exc), task_nums=task_nums, method=method), 503
    except CanvasRefused as exc:  # a chord on rpc://: Celery's own words, on every row and here
        store.fail_unsent(task_nums, f"Celery refused the chord: {exc}")  # a row's story is in one language
        return jsonify(error=gettext("Celery refused the chord: %(reason)s", reason=str(exc)), field="canvas",
                       task_nums=task_nums, method=method), 422
    except Exception as exc:  # the unexpected: still never leave a row PENDING with nothing queued
        store.fail_unsent(task_nums, f"not sent: {type(exc).__name__}: {exc}")
        raise
    # Where to watch these jobs (and only these): GET /api/tasks?nums=12,13,14
    location = url_for("tasks.list_tasks", nums=",".join(map(str, task_nums)))
    return jsonify(answer), 202, {"Location": location}


def message_to_send(spec: JobSpec, order, settings) -> dict:
    """What a student's own producer publishes for a registered job: the raw path's queue and body
    (the message contract, queue_lab/job_message.py), or Celery's queue, task name and arguments —
    each with the one line that does it (the broker's password left out: it is the door's key)."""
    queue, broker = work_queue(order, settings), redact_url(settings.rabbitmq_url)
    if order.method == "rabbitmq":
        # a Python dict literal in double quotes only, so the line fits in the shell's single quotes
        body = "{" + ", ".join(f'"{name}": {value!r}' for name, value in spec.to_message().items()) + "}"
        exchange, key = (queue, order.routing_key) if order.exchange else ("", queue)  # the routing lesson's, or by name
        return {"task_num": spec.task_num, "queue": queue, "body": spec.to_message(),
                **({"exchange": exchange, "routing_key": key} if order.exchange else {}),
                "code": f"python3 -c 'import json, pika; pika.BlockingConnection(pika.URLParameters(\"{broker}\"))"
                        f".channel().basic_publish(\"{exchange}\", \"{key}\", json.dumps({body}))'"}
    args = spec.to_task_args()
    broker = redact_url(settings.redis_url) if order.method == "celery_redis" else broker
    return {"task_num": spec.task_num, "queue": queue, "task": "process_task", "args": args,
            "code": f"python3 -c 'from celery import Celery; Celery(broker=\"{broker}\")"
                    f".send_task(\"process_task\", args={args!r}, queue=\"{queue}\")'"}


def _query_int(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadField(name, gettext("%(name)s must be a whole number, got %(got)s", name=name, got=repr(raw))) from None
    if not low <= value <= high:
        raise BadField(name, gettext("%(name)s must be from %(low)s to %(high)s, got %(got)s",
                                     name=name, low=low, high=high, got=value))
    return value


def _query_nums(name: str, most: int) -> list[int]:
    parts = request.args.get(name, "").split(",")
    if not all(part.strip().isdigit() for part in parts) or len(parts) > most:
        raise BadField(name, gettext("%(name)s must be up to %(most)s task numbers separated by commas, "
                                     "e.g. %(name)s=12,13,14", name=name, most=most))
    return [int(part) for part in parts]


@bp.get("/api/tasks")
def list_tasks():
    """With `nums` (12,13,14): those jobs, as a submission's `Location` names them. With `since`:
    only rows changed after that seq. Neither: the newest `limit` rows."""
    limit = _query_int("limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    if "nums" in request.args:
        rows, seq = lab().store.some(_query_nums("nums", MAX_LIMIT))
    elif "since" in request.args:
        rows, seq = lab().store.changed_since(_query_int("since", 0, 0, 2**63 - 1), limit)
    else:
        rows, seq = lab().store.newest(limit)
    # `now`: the page times rows on our clock; `epoch`: changes after a class reset.
    return jsonify(tasks=rows, seq=seq, now=time.time(), epoch=lab().store.epoch())


@bp.get("/api/tasks/<int:task_num>/history")
def task_history(task_num: int):
    """A job's story: every status it went through, with attempt, worker and reason."""
    return jsonify(task_num=task_num, history=lab().store.history(task_num))


@bp.get("/api/summary")
def summary():
    empty = {"sent": 0, "done": 0, "failed": 0, "active": 0, "mean_wait": None, "mean_run": None}
    return jsonify(methods={**{m: empty for m in METHODS}, **lab().store.summary()})


@bp.get("/api/events")
def events():
    """Server-Sent Events: one `tasks` event per batch of changes, `id:` = seq (so a reconnecting
    EventSource resumes from Last-Event-ID). Bounded per process: 503 tells the page to poll."""
    # A reconnecting EventSource repeats the original URL but sends Last-Event-ID: that one wins.
    state = lab()
    since = _query_int_header("Last-Event-ID", None)
    if since is None:
        since = _query_int("since", state.feed.seq, 0, 2**63 - 1)
    slots = state.stream_slots
    if not slots.acquire(blocking=False):
        return jsonify(error=gettext("too many live streams on this server; poll /api/tasks?since=")), 503
    feed, keepalive = state.feed, state.settings.sse_keepalive_s

    def stream(since: int):
        epoch = feed.epoch
        try:
            yield "retry: 2000\n\n"
            while True:
                rows, since = feed.wait(since, keepalive)
                if rows or feed.epoch != epoch:  # a reset is news even with no rows
                    epoch = feed.epoch
                    data = json.dumps({"tasks": rows, "seq": since, "now": time.time(), "epoch": epoch},
                                      separators=(",", ":"))
                    yield f"id: {since}\nevent: tasks\ndata: {data}\n\n"
                else:
                    yield ": keepalive\n\n"
        finally:
            slots.release()

    return Response(stream(since), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _query_int_header(name: str, default):
    raw = request.headers.get(name, "")
    return int(raw) if raw.isdigit() else default
