"""The results lesson's endpoints: a job's result read back Celery's way and by hand, and the
results nobody has read — where they wait, and for how long.

    GET /api/tasks/<n>/celery-result   AsyncResult(celery_id): state, result, how long it is kept
    GET /api/tasks/<n>/reply           RPC by hand: the consumer's reply, filed by correlation_id
    GET /api/results/unread            this API process's unread rpc:// results, and Redis's keys

Each is one poll (basic_get, a passive declare, Redis GET/TTL/EXISTS), never `.get()`: no web
thread waits for a job.
"""
from __future__ import annotations

import json

from flask import Blueprint, jsonify
from flask_babel import gettext

from api.celery_results import RESULT_BACKEND_NAMES
from api.state import lab
from api.validation import BadField

bp = Blueprint("results", __name__)


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
    if row["task_status"] == "DONE":  # the table knows it finished: Celery has forgotten it
        return gettext("the table says DONE, Celery says PENDING: the result has expired (result_expires = "
                       "%(seconds)s s) or was lost with its reply queue; Celery cannot tell a forgotten result "
                       "from a job it never heard of", seconds=format(lab().settings.result_expires_s, "g"))
    return gettext("not finished yet: Celery says PENDING until the worker stores the result")


@bp.get("/api/results/unread")
def unread_results():
    """Results kept and not read, where they wait: for the rpc:// jobs this API process sent, the
    messages still in its reply queue; for the Redis jobs in the table, how many keys Redis holds."""
    state = lab()
    store = state.store
    rpc_sent = store.kept_results("rpc://", client=state.celery_results.client)
    redis_kept = store.kept_results("redis")
    try:
        found = state.celery_results.unread(rpc_sent, redis_kept)
    except Exception as exc:  # a broker or Redis away: say which, and why
        return jsonify(error=gettext("could not count the unread results: %(reason)s",
                                     reason=f"{type(exc).__name__}: {exc}")), 503
    return jsonify(found), 200


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
        # [results: begin]
        taken = state.publisher.collect_replies()
        # [results: end]
    except Exception as exc:  # the broker is away: what the table has is still true
        return jsonify(task_num=task_num, reply_id=row["reply_id"], reply=row["reply"], error=gettext(
            "could not collect the replies: %(reason)s", reason=f"{type(exc).__name__}: {exc}")), 503
    # [results: begin]
    filed = state.store.file_replies((reply_id, body) for reply_id, body in (_reply_body(*t) for t in taken) if body)
    # [results: end]
    row = state.store.get(task_num)
    return jsonify(task_num=task_num, reply_id=row["reply_id"], reply=row["reply"], collected=len(taken),
                   filed=filed, reason=gettext("the consumer's reply, matched by its correlation_id")
                   if row["reply"] else gettext("no reply yet: the job has not finished, or its reply is on its way"))


# [results: begin]
def _reply_body(reply_id: str | None, body: bytes) -> tuple[str | None, str | None]:
    """A reply as we keep it: a JSON object of at most 4 KiB; anything else in our queue is dropped
    (anyone with the password can publish there too)."""
    try:
        reply = json.loads(body) if len(body) <= 4096 else None
    except ValueError:
        reply = None
    return reply_id, json.dumps(reply) if isinstance(reply, dict) else None
# [results: end]
