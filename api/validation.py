"""Turning request JSON into checked values, or a `BadField` that names the field and what it must be.

Every 400 the API sends comes from here, so every message has the same shape:
`{"error": "seconds must be a number from 0 to 300", "field": "seconds"}`.
"""
from __future__ import annotations

from typing import Any

from api.job_states import REPORTABLE, Report
from api.timed_job import MAX_SECONDS

METHODS = ("celery", "rabbitmq", "sync")
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
            raise BadField(name, f"{name} is required")
        return default
    value = body[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise BadField(name, f"{name} must be a number from {low:g} to {high:g}, got {value!r}")
    if not low <= value <= high:
        raise BadField(name, f"{name} must be from {low:g} to {high:g}, got {value!r}")
    return value


def _whole(body: dict, name: str, low: int, high: int, required: bool = True, default=None):
    value = _number(body, name, low, high, required, default)
    if value is not None and value != int(value):
        raise BadField(name, f"{name} must be a whole number from {low} to {high}, got {value!r}")
    return None if value is None else int(value)


def _text(body: dict, name: str, required: bool, max_len: int = MAX_TEXT):
    if name not in body or body[name] is None:
        if required:
            raise BadField(name, f"{name} is required")
        return None
    value = body[name]
    if not isinstance(value, str) or (required and not value.strip()):
        raise BadField(name, f"{name} must be a non-empty string, got {value!r}")
    if len(value) > max_len:
        raise BadField(name, f"{name} must be at most {max_len} characters")
    return value


def _flag(body: dict, name: str) -> bool:
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BadField(name, f"{name} must be true or false, got {value!r}")
    return value


def _object(body: Any, allowed: set[str]) -> dict:
    if not isinstance(body, dict):
        raise BadField("body", "the request body must be a JSON object")
    unknown = sorted(set(body) - allowed)
    if unknown:
        raise BadField(unknown[0], f"unknown field {unknown[0]!r}; expected {', '.join(sorted(allowed))}")
    return body


def parse_submission(body: Any) -> tuple[str, float, int, bool]:
    """`POST /api/tasks` → (method, seconds, count, fail)."""
    body = _object(body, {"method", "seconds", "count", "fail"})
    method = body.get("method")
    if method not in METHODS:
        raise BadField("method", f"method must be one of {', '.join(METHODS)}, got {method!r}")
    seconds = float(_number(body, "seconds", 0, MAX_SECONDS))
    count = _whole(body, "count", 1, MAX_COUNT, required=False, default=1)
    fail = _flag(body, "fail")
    if method == "sync" and seconds * count > MAX_SYNC_TOTAL_S:
        raise BadField(
            "count",
            f"a synchronous request runs its jobs one after another inside the request: "
            f"seconds × count must be at most {MAX_SYNC_TOTAL_S}, got {seconds * count:g}",
        )
    return method, seconds, count, fail


def parse_report(body: Any) -> tuple[int, Report]:
    """`POST /update_task_status_api/` → (task_num, Report)."""
    body = _object(body, {"task_num", "task_status", "worker_id", "progress", "message",
                          "starting", "run_id", "retry_in_s"})
    task_num = _whole(body, "task_num", 1, 2**63 - 1)
    status = body.get("task_status")
    if status not in REPORTABLE:
        raise BadField("task_status", f"task_status must be one of {', '.join(REPORTABLE)}, got {status!r}")
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
    )


WORKER_KINDS = ("consumer", "celery")


def parse_heartbeat(body: Any) -> dict:
    """`POST /api/workers/heartbeat` → keyword arguments for WorkerRegistry.heartbeat."""
    body = _object(body, {"worker_id", "kind", "hostname", "pid", "queue", "profile", "leaving"})
    kind = body.get("kind")
    if kind not in WORKER_KINDS:
        raise BadField("kind", f"kind must be one of {', '.join(WORKER_KINDS)}, got {kind!r}")
    return {
        "worker_id": _text(body, "worker_id", required=True, max_len=200),
        "kind": kind,
        "hostname": _text(body, "hostname", required=True, max_len=200),
        "pid": _whole(body, "pid", 1, 2**31),
        "queue": _text(body, "queue", required=False, max_len=200),
        "profile": _text(body, "profile", required=False, max_len=200) or "",
        "leaving": _flag(body, "leaving"),
    }
