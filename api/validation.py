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

from queue_lab.job_states import REPORTABLE, Report
from queue_lab.timed_job import MAX_SECONDS

METHODS = ("celery", "celery_redis", "rabbitmq", "sync")
CELERY_METHODS = ("celery", "celery_redis")  # the same task, on RabbitMQ and on Redis
MAX_COUNT = 500
MAX_SYNC_TOTAL_S = MAX_SECONDS  # a synchronous request holds a web thread: cap its total work
MAX_TEXT = 2000


class BadField(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _number(body: dict, name: str, low: float, high: float, required: bool = True, default=None):
    if name not in body:
        if required:
            raise BadField(name, gettext("%(name)s is required", name=name))
        return default
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise BadField(name, gettext("%(name)s must be a number from %(low)s to %(high)s, got %(got)s",
                                     name=name, low=format(low, "g"), high=format(high, "g"), got=repr(value)))
    if not low <= value <= high:
        raise BadField(name, gettext("%(name)s must be from %(low)s to %(high)s, got %(got)s",
                                     name=name, low=format(low, "g"), high=format(high, "g"), got=repr(value)))
    return value


def _whole(body: dict, name: str, low: int, high: int, required: bool = True, default=None):
    value = _number(body, name, low, high, required, default)
    if value is not None and value != int(value):
        raise BadField(name, gettext("%(name)s must be a whole number from %(low)s to %(high)s, got %(got)s",
                                     name=name, low=low, high=high, got=repr(value)))
    return None if value is None else int(value)


def _text(body: dict, name: str, required: bool, max_len: int = MAX_TEXT):
    if name not in body or body[name] is None:
        if required:
            raise BadField(name, gettext("%(name)s is required", name=name))
        return None
    value = body[name]
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadField(name, gettext("%(name)s must be a non-empty string, got %(got)s", name=name, got=repr(value)))
    if len(value) > max_len:
        raise BadField(name, gettext("%(name)s must be at most %(most)s characters", name=name, most=max_len))
    return value


def _flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BadField(name, gettext("%(name)s must be true or false, got %(got)s", name=name, got=repr(value)))
    return value


def _object(body: Any, allowed: set[str]) -> dict:
    if not isinstance(body, dict):
        raise BadField("body", gettext("the request body must be a JSON object"))
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadField(unknown[0], gettext("unknown field %(field)s; expected %(expected)s",
                                           field=repr(unknown[0]), expected=", ".join(sorted(allowed))))
    return body


MAX_FLAKY = 5
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
    consumer: str = "threaded"  # RabbitMQ only: the threaded consumer or the naive one
    queue_type: str = "classic"  # RabbitMQ only: the classic work queue, or the quorum one
    poison: bool = False  # RabbitMQ quorum only: the job crashes its worker, every delivery
    owner: str | None = None  # the student's name, if they gave one


# Which options make sense for which method; anything else is a 400 naming the field.
ONLY_FOR = {"celery_ack": ("celery",), "time_limit_kind": CELERY_METHODS, "consumer": ("rabbitmq",),
            "queue_type": ("rabbitmq",), "poison": ("rabbitmq",),
            "flaky": (*CELERY_METHODS, "rabbitmq"), "delay_s": (*CELERY_METHODS, "rabbitmq"),
            "time_limit_s": (*CELERY_METHODS, "rabbitmq")}
WHY_NOT = {"flaky": lazy_gettext("retries need a queue"),
           "delay_s": lazy_gettext("a synchronous job runs inside this request"),
           "time_limit_s": lazy_gettext("a synchronous job is limited by the request itself")}


def _one_of(body: dict, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = body.get(name, default)
    if value not in allowed:
        raise BadField(name, gettext("%(name)s must be one of %(allowed)s, got %(got)s",
                                     name=name, allowed=", ".join(allowed), got=repr(value)))
    return value


def parse_submission(body: Any) -> Submission:
    """`POST /api/tasks` → Submission."""
    body = _object(body, {"method", "seconds", "count", "fail", "owner", *ONLY_FOR})
    method = body.get("method")
    if method not in METHODS:
        raise BadField("method", gettext("%(name)s must be one of %(allowed)s, got %(got)s",
                                         name="method", allowed=", ".join(METHODS), got=repr(method)))
    for name, methods in ONLY_FOR.items():
        if name in body and body[name] is not None and method not in methods:
            only = gettext("%(name)s applies to method %(methods)s only", name=name, methods=" | ".join(methods))
            raise BadField(name, f"{only} ({WHY_NOT[name]})" if name in WHY_NOT else only)
    seconds = float(_number(body, "seconds", 0, MAX_SECONDS))
    count = _whole(body, "count", 1, MAX_COUNT, required=False, default=1)
    if method == "sync" and seconds * count > MAX_SYNC_TOTAL_S:
        raise BadField(
            "count",
            gettext("a synchronous request runs its jobs one after another inside the request: "
                    "seconds × count must be at most %(most)s, got %(got)s",
                    most=MAX_SYNC_TOTAL_S, got=format(seconds * count, "g")),
        )
    limit = _number(body, "time_limit_s", 0.1, MAX_SECONDS, required=False)
    if "time_limit_kind" in body and limit is None:
        raise BadField("time_limit_kind", gettext("time_limit_kind needs time_limit_s (the limit in seconds)"))
    queue_type = _one_of(body, "queue_type", ("classic", "quorum"), "classic")
    poison = _flag(body, "poison")
    if poison and queue_type != "quorum":
        raise BadField("poison", gettext("poison needs queue_type quorum: a classic queue counts no "
                                         "deliveries, so it would redeliver the crash forever"))
    if queue_type == "quorum":  # the quorum lesson's consumer: plain jobs and the poison one
        for name in ("flaky", "delay_s", "consumer"):
            if body.get(name) not in (None, 0, "threaded"):
                raise BadField(name, gettext("%(name)s applies to the classic queue only (the quorum "
                                             "lesson sends plain jobs and the poison one)", name=name))
    return Submission(
        method=method, seconds=seconds, count=count, fail=_flag(body, "fail"),
        flaky=_whole(body, "flaky", 0, MAX_FLAKY, required=False, default=0),
        delay_s=float(_number(body, "delay_s", 0, MAX_DELAY_S, required=False, default=0)),
        time_limit_s=None if limit is None else float(limit),
        time_limit_kind=_one_of(body, "time_limit_kind", ("soft", "hard"), "soft"),
        celery_ack=_one_of(body, "celery_ack", ("late", "early"), "late"),
        consumer=_one_of(body, "consumer", ("threaded", "naive"), "threaded"),
        queue_type=queue_type, poison=poison,
        owner=_owner(body),
    )


def parse_report(body: Any) -> tuple[int, Report]:
    """`POST /update_task_status_api/` → (task_num, Report)."""
    body = _object(body, {"task_num", "task_status", "worker_id", "progress", "message",
                          "starting", "run_id", "retry_in_s", "delivery_count", "counted_by",
                          "dead_lettered"})
    task_num = _whole(body, "task_num", 1, 2**63 - 1)
    status = body.get("task_status")
    if status not in REPORTABLE:
        raise BadField("task_status", gettext("%(name)s must be one of %(allowed)s, got %(got)s",
                                              name="task_status", allowed=", ".join(REPORTABLE), got=repr(status)))
    worker_id = _text(body, "worker_id", required=True, max_len=200)
    progress = _number(body, "progress", 0, 100, required=False)
    return task_num, Report(
        task_status=status,
        worker_id=worker_id,
        progress=None if progress is None else float(progress),
        message=_text(body, "message", required=False),
        starting=_flag(body, "starting"),
        run_id=_text(body, "run_id", required=False, max_len=100),
        retry_in_s=_number(body, "retry_in_s", 0, 86400, required=False),
        delivery_count=_whole(body, "delivery_count", 0, 2**31, required=False),
        counted_by=_one_of(body, "counted_by", COUNTERS, None) if "counted_by" in body else None,
        dead_lettered=_flag(body, "dead_lettered"),
    )


WORKER_KINDS = ("consumer", "celery")
COUNTERS = ("x-death", "x-delivery-count")  # who counted a job's deliveries (Report.counted_by)


def parse_heartbeat(body: Any) -> dict:
    """`POST /api/workers/heartbeat` → keyword arguments for WorkerRegistry.heartbeat."""
    body = _object(body, {"worker_id", "kind", "hostname", "pid", "queue", "profile", "leaving", "backlog",
                          "delivered_late"})
    kind = body.get("kind")
    if kind not in WORKER_KINDS:
        raise BadField("kind", gettext("%(name)s must be one of %(allowed)s, got %(got)s",
                                       name="kind", allowed=", ".join(WORKER_KINDS), got=repr(kind)))
    return {
        "worker_id": _text(body, "worker_id", required=True, max_len=200),
        "kind": kind,
        "hostname": _text(body, "hostname", required=True, max_len=200),
        "pid": _whole(body, "pid", 1, 2**31),
        "queue": _text(body, "queue", required=False, max_len=200),
        "profile": _text(body, "profile", required=False, max_len=200) or "",
        "leaving": _flag(body, "leaving"),
        # The worker's reports not yet delivered, and those that arrived only after an outage.
        "backlog": _whole(body, "backlog", 0, 2**31, required=False, default=0),
        "delivered_late": _whole(body, "delivered_late", 0, 2**63 - 1, required=False, default=0),
    }


MAX_RACE = 500
MAX_RACE_SECONDS = 5


def parse_race(body: Any) -> tuple[int, float, str | None]:
    """`POST /api/race` → (count, seconds, owner)."""
    body = _object(body, {"count", "seconds", "owner"})
    count = _whole(body, "count", 1, MAX_RACE)
    seconds = float(_number(body, "seconds", 0, MAX_RACE_SECONDS, required=False, default=0))
    return count, seconds, _owner(body)
