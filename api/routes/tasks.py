"""The page's API: submit jobs, read what changed (delta poll or Server-Sent Events), summary."""
from __future__ import annotations

import json
import time
import uuid

from flask import Blueprint, Response, jsonify, request, url_for
from flask_babel import gettext

from api.errors import broker_error
from api.job_dispatch import run_synchronously, send_by_celery, send_by_rabbitmq, work_queue
from api.raw_publisher import BrokerUnavailable
from api.request_body import json_body
from api.state import lab
from api.validation import METHODS, BadField, parse_submission
from queue_lab.job_message import JobSpec
from queue_lab.settings import redact_url

bp = Blueprint("tasks", __name__)

DEFAULT_LIMIT, MAX_LIMIT = 500, 2000
# Where a Celery job that keeps its result has it (celery_app.RESULT_BACKENDS), as the rows name it.
RESULT_BACKEND_NAMES = {"celery": "rpc://", "celery_redis": "redis"}


@bp.post("/api/tasks")
def submit_tasks():
    """Write every job PENDING first, then send it: 202 queued, 200 when sync has finished."""
    order = parse_submission(json_body())
    state = lab()
    method, store = order.method, state.store
    detail = None if order.publish else f"registered for {method}, nothing published: waiting for your own message"
    backend = RESULT_BACKEND_NAMES[method] if order.keep_result else None
    task_nums = store.create(method, order.seconds, order.fail, order.count, order.delay_s,
                             max_waiting=state.settings.max_waiting_jobs, owner=order.owner, detail=detail,
                             queue=None if method == "sync" else work_queue(order, state.settings),
                             result_backend=backend,
                             result_client=state.celery_results.client if backend == "rpc://" else None)
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
            reply_ids = {num: f"job-{num}-{uuid.uuid4().hex[:12]}" for num in task_nums} if order.reply else None
            if reply_ids:
                store.set_reply_ids(reply_ids.items())
            send_by_rabbitmq(specs, order, store, state.publisher, reply_ids)
        else:
            run_synchronously(specs, store)
            return jsonify({**answer, "tasks": [store.get(num) for num in task_nums],
                            "epoch": store.epoch()}), 200
    except BrokerUnavailable as exc:  # the senders already marked the unsent rows ERROR
        return jsonify(error=broker_error(exc), task_nums=task_nums, method=method), 503
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
        return {"task_num": spec.task_num, "queue": queue, "body": spec.to_message(),
                "code": f"python3 -c 'import json, pika; pika.BlockingConnection(pika.URLParameters(\"{broker}\"))"
                        f".channel().basic_publish(\"\", \"{queue}\", json.dumps({body}))'"}
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


@bp.get("/api/tasks/<int:task_num>/celery-result")
def celery_result(task_num: int):
    """Celery's own answer for a Celery job: `AsyncResult(celery_id).state` and `.result`, read by one
    poll of its backend (never `.get()`: no web thread waits for a job). What it teaches is in
    `reason`: a fire-and-forget job has no state (PENDING means "unknown"); a rpc:// result goes back
    only to the API process that sent the task (`sent_by`), so another one (`asked`) sees PENDING;
    a Redis result is a key any process reads until it expires."""
    state = lab()
    row = state.store.get(task_num)
    if row["method"] not in RESULT_BACKEND_NAMES:
        raise BadField("task_num", gettext("job %(num)s went by %(method)s: only Celery jobs have a Celery state",
                                           num=task_num, method=row["method"]))
    answer = {"task_num": task_num, "celery_id": row["celery_id"], "backend": row["result_backend"],
              "sent_by": row["result_client"], "asked": state.celery_results.client,
              "table": {"task_status": row["task_status"], "result": row["result"]}}
    if row["celery_id"] is None:
        return jsonify({**answer, "state": None, "result": None,
                        "reason": gettext("not sent to Celery (yet): it has no Celery id")}), 200
    try:
        found = state.celery_results.read(row["celery_id"], on_redis=row["method"] == "celery_redis")
    except Exception as exc:  # the backend is away: say so, the table still holds the truth
        return jsonify({**answer, "state": None, "result": None, "error": gettext(
            "Celery's result backend did not answer: %(reason)s", reason=f"{type(exc).__name__}: {exc}")}), 503
    return jsonify({**answer, **found, "reason": _why(row, found["state"], answer)}), 200


def _why(row: dict, celery_state: str, answer: dict) -> str:
    """What Celery's answer means here, in the reader's language."""
    if row["result_backend"] is None:
        return gettext("sent fire-and-forget (task_ignore_result): Celery keeps no state, and PENDING "
                       "only means it knows nothing; the table is where this job's result is")
    if celery_state != "PENDING":
        return gettext("read from %(backend)s by %(asked)s", backend=row["result_backend"], asked=answer["asked"])
    if row["result_backend"] == "rpc://" and answer["sent_by"] != answer["asked"]:
        return gettext("rpc:// sent the result to the API process that sent the task (%(sent_by)s); "
                       "this is %(asked)s, so Celery says PENDING here: ask again and another process "
                       "may answer", sent_by=answer["sent_by"], asked=answer["asked"])
    return gettext("not finished yet, or its result has expired (result_expires)")


@bp.get("/api/tasks/<int:task_num>/reply")
def raw_reply(task_num: int):
    """RPC by hand (RabbitMQ tutorial 6): the consumer published its reply to our replies queue with
    the job's correlation_id. Whichever API process is asked takes every reply waiting (basic_get:
    a poll, never a wait), files each on the row its correlation_id names, and answers from the table
    — so, unlike rpc://, every process sees every reply."""
    state = lab()
    row = state.store.get(task_num)
    if row["reply_id"] is None:
        raise BadField("task_num", gettext("job %(num)s asked for no reply (send a RabbitMQ job with reply)",
                                           num=task_num))
    try:
        taken = state.publisher.collect_replies()
    except Exception as exc:  # the broker is away: what the table has is still true
        return jsonify(task_num=task_num, reply_id=row["reply_id"], reply=row["reply"], error=gettext(
            "could not collect the replies: %(reason)s", reason=f"{type(exc).__name__}: {exc}")), 503
    filed = state.store.file_replies((reply_id, body) for reply_id, body in (_reply_body(*t) for t in taken) if body)
    row = state.store.get(task_num)
    return jsonify(task_num=task_num, reply_id=row["reply_id"], reply=row["reply"], collected=len(taken),
                   filed=filed, reason=gettext("the consumer's reply, matched by its correlation_id")
                   if row["reply"] else gettext("no reply yet: the job has not finished, or its reply is on its way"))


def _reply_body(reply_id: str | None, body: bytes) -> tuple[str | None, str | None]:
    """A reply as we keep it: a JSON object of at most 4 KiB; anything else in our queue is dropped
    (anyone with the password can publish there too)."""
    try:
        reply = json.loads(body) if len(body) <= 4096 else None
    except ValueError:
        reply = None
    return reply_id, json.dumps(reply) if isinstance(reply, dict) else None


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
