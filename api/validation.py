"""Turning request JSON into checked values, or a `BadField` that names the field and what it must be.

Every 400 the API sends comes from here, so every message has the same shape:
`{"error": "seconds must be a number from 0 to 300", "field": "seconds"}`. The messages are in the
request's language (api/i18n.py); the field names are the JSON keys, so they stay as they are.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext, lazy_gettext

from queue_lab.fields import BadField, flag, json_object, number, one_of, text, whole
from queue_lab.job_message import MAX_FLAKY, MAX_SECONDS
from queue_lab.routing import EXCHANGE_KINDS, BadRoute, Binding, parse_binds, routing_key

METHODS = ("celery", "celery_redis", "rabbitmq", "sync")
CELERY_METHODS = ("celery", "celery_redis")  # the same task, on RabbitMQ and on Redis
MAX_COUNT = 500
MAX_SYNC_TOTAL_S = MAX_SECONDS  # a synchronous request holds a web thread: cap its total work


MAX_DELAY_S = 3600
MAX_OWNER = 40


def _owner(body: dict) -> str | None:
    """Whose job it is: an optional name a student gave once (the "mine" filter). Shown to the
    whole class, so it is kept short and printable; the page puts it in as text, never as HTML."""
    value = body.get("owner")
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadField("owner", gettext("owner must be a name (text), got %(got)s", got=repr(value)))
    value = " ".join(value.split())  # no line breaks or runs of spaces in a table cell
    if len(value) > MAX_OWNER:
        raise BadField("owner", gettext("%(name)s must be at most %(most)s characters", name="owner", most=MAX_OWNER))
    if any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs") for c in value):
        raise BadField("owner", gettext("owner must be printable text (no control or format characters)"))
    return value or None


@dataclass(frozen=True)
class Submission:
    """One `POST /api/tasks`: `count` identical jobs, and how the fault lab wants them sent."""

    method: str
    seconds: float
    count: int = 1
    fail: bool = False
    flaky: int = 0  # fail the first N attempts, then succeed (retries)
    delay_s: float = 0.0  # start no earlier than this (SCHEDULED)
    time_limit_s: float | None = None
    time_limit_kind: str = "soft"  # Celery only: soft (the task stops itself) or hard (killed)
    celery_ack: str = "late"  # Celery only: which worker profile's queue
    lane: str = "default"  # Celery on RabbitMQ only: "long" sends process_long_task, routed to its own queue
    consumer: str = "threaded"  # RabbitMQ only: the threaded consumer or the naive one
    queue_type: str = "classic"  # RabbitMQ only: the classic work queue, or the quorum one
    poison: bool = False  # RabbitMQ quorum only: the job crashes its worker, every delivery
    owner: str | None = None  # the student's name, if they gave one
    publish: bool = True  # False: write the rows PENDING and hand out the numbers; the student publishes
    keep_result: bool = False  # Celery only: ask for the result in Celery's backend (rpc:// or Redis)
    reply: bool = False  # RabbitMQ only: ask the consumer for a reply (reply_to + correlation_id)
    get_in_task: bool = False  # Celery only: the task calls .get() on a result (the fault lab's trap)
    canvas: str | None = None  # "chain" (each job takes the one before's result) or "chord" (+ a callback)
    exchange: str | None = None  # RabbitMQ only: "direct" or "topic" — routing by hand (queue_lab/routing.py)
    routing_key: str | None = None  # ...and the key the exchange routes it by


# Which options make sense for which method; anything else is a 400 naming the field.
ONLY_FOR = {"celery_ack": ("celery",), "lane": ("celery",), "time_limit_kind": CELERY_METHODS, "consumer": ("rabbitmq",),
            "queue_type": ("rabbitmq",), "poison": ("rabbitmq",),
            "flaky": (*CELERY_METHODS, "rabbitmq"), "delay_s": (*CELERY_METHODS, "rabbitmq"),
            "time_limit_s": (*CELERY_METHODS, "rabbitmq"), "keep_result": CELERY_METHODS,
            "reply": ("rabbitmq",), "get_in_task": CELERY_METHODS, "canvas": (*CELERY_METHODS, "rabbitmq"),
            "exchange": ("rabbitmq",), "routing_key": ("rabbitmq",)}
WHY_NOT = {"flaky": lazy_gettext("retries need a queue"),
           "delay_s": lazy_gettext("a synchronous job runs inside this request"),
           "time_limit_s": lazy_gettext("a synchronous job is limited by the request itself"),
           "keep_result": lazy_gettext("a result backend is Celery's; every job reports its result to the table"),
           "reply": lazy_gettext("Celery's way is keep_result"),
           "lane": lazy_gettext("the long lane is a Celery queue on RabbitMQ, consumed by its own worker (-Q)"),
           "get_in_task": lazy_gettext("only a Celery task can wait for a Celery result"),
           "canvas": lazy_gettext("a synchronous job has no queue to pass its result on"),
           "exchange": lazy_gettext("routing by hand is the raw path's; Celery's way is task_routes (the lane)"),
           "routing_key": lazy_gettext("routing by hand is the raw path's; Celery's way is task_routes (the lane)")}
CANVAS_SIZES = (2, 10)  # jobs in a chain, or a chord's members (its callback is one more)
# What a canvas's jobs may not ask for: each step is a plain job (seconds, count, fail), so the API
# can send a hand-written step on with what its row holds.
NOT_IN_CANVAS = {"flaky": 0, "delay_s": 0, "time_limit_s": None, "time_limit_kind": None, "keep_result": False,
                 "reply": False, "get_in_task": False, "queue_type": "classic", "consumer": "threaded",
                 "celery_ack": "late", "poison": False, "lane": "default"}


def parse_submission(body: Any) -> Submission:
    """`POST /api/tasks` → Submission."""
    body = json_object(body, {"method", "seconds", "count", "fail", "owner", "publish", *ONLY_FOR})
    method = body.get("method")
    if method not in METHODS:
        raise BadField("method", gettext("%(name)s must be one of %(allowed)s, got %(got)s",
                                         name="method", allowed=", ".join(METHODS), got=repr(method)))
    for name, methods in ONLY_FOR.items():
        if name in body and body[name] is not None and method not in methods:
            only = gettext("%(name)s applies to method %(methods)s only", name=name, methods=" | ".join(methods))
            raise BadField(name, f"{only} ({WHY_NOT[name]})" if name in WHY_NOT else only)
    seconds = float(number(body, "seconds", 0, MAX_SECONDS))
    count = whole(body, "count", 1, MAX_COUNT, required=False, default=1)
    if method == "sync" and seconds * count > MAX_SYNC_TOTAL_S:
        raise BadField(
            "count",
            gettext("a synchronous request runs its jobs one after another inside the request: "
                    "seconds × count must be at most %(most)s, got %(got)s",
                    most=MAX_SYNC_TOTAL_S, got=format(seconds * count, "g")),
        )
    limit = number(body, "time_limit_s", 0.1, MAX_SECONDS, required=False)
    if "time_limit_kind" in body and limit is None:
        raise BadField("time_limit_kind", gettext("time_limit_kind needs time_limit_s (the limit in seconds)"))
    queue_type = one_of(body, "queue_type", ("classic", "quorum"), "classic")
    poison = flag(body, "poison")
    if poison and queue_type != "quorum":
        raise BadField("poison", gettext("poison needs queue_type quorum: a classic queue counts no "
                                         "deliveries, so it would redeliver the crash forever"))
    if queue_type == "quorum":  # the quorum lesson's consumer: plain jobs and the poison one
        for name in ("flaky", "delay_s", "consumer"):
            if body.get(name) not in (None, 0, "threaded"):
                raise BadField(name, gettext("%(name)s applies to the classic queue only (the quorum "
                                             "lesson sends plain jobs and the poison one)", name=name))
    publish = flag(body, "publish") if "publish" in body else True
    if not publish and method == "sync":
        raise BadField("publish", gettext("publish false needs a queue: a synchronous job runs inside this request"))
    if not publish and body.get("delay_s"):
        raise BadField("delay_s", gettext("delay_s needs publish: the API cannot delay a message it does not send"))
    keep_result, reply, get_in_task = flag(body, "keep_result"), flag(body, "reply"), flag(body, "get_in_task")
    if get_in_task and not publish:
        raise BadField("get_in_task", gettext("get_in_task needs publish: the API asks for it in the message it sends"))
    for name, asked in (("keep_result", keep_result), ("reply", reply)):
        if asked and not publish:
            raise BadField(name, gettext("%(name)s needs publish: the result goes back to the client that sent "
                                         "the task", name=name))
    lane = one_of(body, "lane", ("default", "long"), "default")
    if lane == "long" and body.get("celery_ack") == "early":
        raise BadField("celery_ack", gettext("the long lane's worker acks late: leave celery_ack out of a lane long job "
                                             "(the early-ack profile has a queue of its own)"))
    exchange, key = _route(body)
    canvas = one_of(body, "canvas", ("chain", "chord"), None) if body.get("canvas") is not None else None
    if canvas is not None:
        for name, plain in NOT_IN_CANVAS.items():
            if body.get(name, plain) not in (None, plain):
                raise BadField(name, gettext("canvas %(canvas)s takes plain jobs (seconds, count, fail): leave %(name)s out",
                                             canvas=canvas, name=name))
        if not publish:
            raise BadField("canvas", gettext("canvas needs publish: the API sends the steps as they become due"))
        low, high = CANVAS_SIZES
        if not low <= count <= high:
            raise BadField("count", gettext("canvas %(canvas)s takes from %(low)s to %(high)s jobs (count), got %(got)s",
                                            canvas=canvas, low=low, high=high, got=count))
    return Submission(
        method=method, seconds=seconds, count=count, fail=flag(body, "fail"),
        flaky=whole(body, "flaky", 0, MAX_FLAKY, required=False, default=0),
        delay_s=float(number(body, "delay_s", 0, MAX_DELAY_S, required=False, default=0)),
        time_limit_s=None if limit is None else float(limit),
        time_limit_kind=one_of(body, "time_limit_kind", ("soft", "hard"), "soft"),
        celery_ack=one_of(body, "celery_ack", ("late", "early"), "late"), lane=lane,
        consumer=one_of(body, "consumer", ("threaded", "naive"), "threaded"),
        queue_type=queue_type, poison=poison,
        owner=_owner(body), publish=publish, keep_result=keep_result, reply=reply, get_in_task=get_in_task,
        canvas=canvas, exchange=exchange, routing_key=key,
    )


# What a job routed by an exchange may not ask for: the delay queue and the canvas send into Q itself
# (by the default exchange), and the naive and quorum consumers have queues of their own.
NOT_ROUTED = {"delay_s": 0, "canvas": None, "queue_type": "classic", "consumer": "threaded"}


def _route(body: dict) -> tuple[str | None, str | None]:
    """`exchange` and `routing_key`, both or neither (the routing lesson)."""
    if body.get("exchange") is None and body.get("routing_key") is None:
        return None, None
    if body.get("exchange") is None:
        raise BadField("exchange", gettext("routing_key needs exchange (direct or topic): the default exchange "
                                           "routes by queue name"))
    exchange = one_of(body, "exchange", EXCHANGE_KINDS, None)
    if body.get("routing_key") is None:
        raise BadField("routing_key", gettext("exchange %(exchange)s needs a routing_key", exchange=exchange))
    for name, plain in NOT_ROUTED.items():
        if body.get(name, plain) not in (None, plain):
            raise BadField(name, gettext("a job sent to the %(exchange)s exchange goes where its key is bound: "
                                         "leave %(name)s out", exchange=exchange, name=name))
    return exchange, routing_key(body)


WORKER_KINDS = ("consumer", "celery", "celery_node")  # celery: a pool process (runs jobs); celery_node: the
                                                     # worker's main process (holds the messages)


def parse_heartbeat(body: Any) -> dict:
    """`POST /api/workers/heartbeat` → keyword arguments for WorkerRegistry.heartbeat."""
    body = json_object(body, {"worker_id", "kind", "hostname", "pid", "queue", "profile", "leaving", "backlog",
                          "delivered_late", "broker", "prefetch"})
    kind = body.get("kind")
    if kind not in WORKER_KINDS:
        raise BadField("kind", gettext("%(name)s must be one of %(allowed)s, got %(got)s",
                                       name="kind", allowed=", ".join(WORKER_KINDS), got=repr(kind)))
    return {
        "worker_id": text(body, "worker_id", required=True, max_len=200),
        "kind": kind,
        "hostname": text(body, "hostname", required=True, max_len=200),
        "pid": whole(body, "pid", 1, 2**31),
        "queue": text(body, "queue", required=False, max_len=200),
        "profile": parse_profile(body.get("profile", {})),
        "leaving": flag(body, "leaving"),
        # The worker's reports not yet delivered, and those that arrived only after an outage.
        "backlog": whole(body, "backlog", 0, 2**31, required=False, default=0),
        "delivered_late": whole(body, "delivered_late", 0, 2**63 - 1, required=False, default=0),
        # Facts the page reads as fields, not out of the profile's words: the broker it consumes
        # from (its lane in the flow diagram) and how many unacked messages it may hold.
        "broker": one_of(body, "broker", ("rabbitmq", "redis"), "rabbitmq"),
        "prefetch": whole(body, "prefetch", 0, 65535, required=False),
    }


# The facts a worker's profile may hold — what the workers panel shows about it — each with what it
# may be: one of some words, a whole number up to a bound, or a number (float) up to a bound.
PROFILE_FACTS: dict[str, tuple[str, ...] | int | float | type] = {  # type: str (a name) or Binding
    "role": ("sweeper",),                # Celery beat's own worker
    "node": str,                         # Celery: the worker (node) a process belongs to, celery@host
    "processes": 1000,                   # a Celery node's pool processes now (--concurrency, pool_grow)
    "prefetch_count": 2**31 - 1,         # ...its basic.qos: processes × worker_prefetch_multiplier
    "running": 10**6,                    # ...the messages it holds unacked: running in a process,
    "reserved": 10**6,                   # and delivered but waiting for a free process
    "ack": ("late", "early"),            # Celery: task_acks_late
    "prefetch_multiplier": 65535,        # Celery: worker_prefetch_multiplier
    "results": ("rpc://", "redis"),      # Celery: its result backend (for jobs that keep_result)
    "visibility_timeout_s": 1e7,         # Celery on Redis
    "mode": ("threaded", "naive"),       # the consumer: CONSUMER_MODE
    "prefetch": 65535,                   # the consumer: basic_qos
    "heartbeat_s": 65535,                # the consumer's AMQP heartbeat
    "queue_type": ("classic", "quorum"),
    "delivery_limit": 10**6,             # a quorum queue's
    "rate_limit_per_min": 600,           # the consumer's hand-written rate limit (queue_lab/rate_limit.py)
    "rate_limit_scope": ("worker", "class"),
    "binds": Binding,                    # a routed consumer's bindings, "direct:email topic:*.long"
}


def parse_profile(body: Any) -> dict:
    """A worker's settings as facts, never its own sentence: the page says them in the reader's
    language ("late ack · prefetch ×1", "позднее подтверждение · prefetch ×1")."""
    try:
        profile = json_object(body, set(PROFILE_FACTS), what="a worker's profile")
        facts = {}
        for name, allowed in PROFILE_FACTS.items():
            if profile.get(name) is None:
                continue
            if isinstance(allowed, tuple):
                facts[name] = one_of(profile, name, allowed, None)
            elif allowed is Binding:
                facts[name] = _binds(profile, name)
            elif allowed is str:
                facts[name] = text(profile, name, required=True, max_len=200)
            elif isinstance(allowed, float):
                facts[name] = number(profile, name, 0, allowed)
            else:
                facts[name] = whole(profile, name, 0, allowed)
        return facts
    except BadField as bad:  # named as the sender wrote it: "profile", "profile.ack"
        raise BadField("profile" if bad.field == "body" else f"profile.{bad.field}", bad.message) from None


def _binds(profile: dict, name: str) -> str:
    value = profile[name]
    try:
        return " ".join(map(str, parse_binds(value if isinstance(value, str) else "?")))
    except BadRoute as bad:
        raise BadField(name, bad.message) from None


MAX_RACE = 500
MAX_RACE_SECONDS = 5


def parse_race(body: Any) -> tuple[int, float, str | None]:
    """`POST /api/race` → (count, seconds, owner)."""
    body = json_object(body, {"count", "seconds", "owner"})
    count = whole(body, "count", 1, MAX_RACE)
    seconds = float(number(body, "seconds", 0, MAX_RACE_SECONDS, required=False, default=0))
    return count, seconds, _owner(body)
