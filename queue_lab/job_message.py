"""The one message contract: what a job looks like on a queue (API → queue → worker).

A queue is a public door: anyone with the broker's password can publish to it (RabbitMQ's tutorials
and the management UI's "Publish message" form teach students to), so a worker reads every message
as input from a stranger, exactly as the API reads a form. `JobSpec.from_message` is that check, for
the raw consumer (a JSON body) and for the Celery task (its arguments): an object only, the fields
below only, finite numbers within the same bounds `POST /api/tasks` enforces. What breaks it raises
`NotAJob` naming the field, and never runs: the consumer parks it in its dead queue with the reason
in the `x-queue-lab-reason` header, the Celery task refuses it without a retry.

    {"task_num": 12, "seconds": 3, "fail": false, "flaky": 0, "time_limit_s": null, "poison": false}

    task_num      the job's row in the table: a whole number from 1 (the API hands them out)
    seconds       how long the job works: 0 to MAX_SECONDS
    fail          fail on purpose half-way (ERROR)                        optional, false
    flaky         fail the first N attempts half-way, then succeed        optional, 0 to MAX_FLAKY
    time_limit_s  the raw consumer's hand-written time limit              optional, 0.1 to MAX_SECONDS
    poison        crash the worker on every delivery (the quorum lesson)  optional, false
    inputs        the results of the jobs this one follows (a chain's or    optional, []
                  a chord's: docs/results.md), added to its own answer;
                  up to MAX_INPUTS whole numbers from 0 to MAX_INPUT

A message that passes can still name a job the table does not hold, or one that has finished: the
worker learns that from the API's answer to its start report (queue_lab/timed_job.py).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from queue_lab.fields import BadField, flag, json_object, number, whole
from queue_lab.job_states import MAX_TASK_NUM

MAX_SECONDS = 300
MAX_FLAKY = 5
MAX_BODY_BYTES = 64 * 1024  # a job message is ~100 bytes; anything this big is not one of ours

CELERY_ARGS = ("task_num", "seconds", "fail", "flaky")  # process_task(task_num, seconds, fail, flaky)
MAX_INPUTS = 16  # a chord's members, or one for a chain's step
MAX_INPUT = 2**48  # so a job's answer plus all its inputs stays a number JSON carries exactly


class NotAJob(BadField):
    """A message that breaks the contract; `.message` is the reason the dead queue records."""


@dataclass(frozen=True)
class JobSpec:
    task_num: int
    seconds: float
    fail: bool = False
    flaky: int = 0  # fail the first `flaky` attempts part-way, then succeed
    time_limit_s: float | None = None
    poison: bool = False  # the quorum lesson: this job crashes the worker that runs it, every time
    inputs: tuple[int, ...] = ()  # the results of the jobs it follows (canvas): added to its answer

    def to_message(self) -> dict:
        message = asdict(self)
        if self.inputs:
            message["inputs"] = list(self.inputs)
        else:
            del message["inputs"]  # a plain job's message stays as it always was
        return message

    def to_task_args(self) -> list:
        """process_task's positional arguments (Celery's message carries them, not the object)."""
        return [getattr(self, name) for name in CELERY_ARGS]

    def to_body(self) -> bytes:
        return json.dumps(self.to_message()).encode()

    @classmethod
    def from_message(cls, message: Any) -> "JobSpec":
        """A decoded message → JobSpec, or NotAJob naming the field that breaks the contract."""
        try:
            body = json_object(message, set(cls.__dataclass_fields__), what="the message")
            limit = body.get("time_limit_s")
            return cls(
                task_num=whole(body, "task_num", 1, MAX_TASK_NUM),
                seconds=float(number(body, "seconds", 0, MAX_SECONDS)),
                fail=flag(body, "fail"),
                flaky=whole(body, "flaky", 0, MAX_FLAKY, required=False, default=0),
                time_limit_s=None if limit is None else float(number(body, "time_limit_s", 0.1, MAX_SECONDS)),
                poison=flag(body, "poison"),
                inputs=job_inputs(body.get("inputs", [])),
            )
        except NotAJob:
            raise
        except BadField as exc:
            raise NotAJob(exc.field, exc.message) from None

    @classmethod
    def after(cls, previous: Any, args: Any, kwargs: Any) -> "JobSpec":
        """Celery's process_after(previous, task_num, …): a chain passes the job before's result, a
        chord's callback the list of its members' results — each checked like any input."""
        spec = cls.from_task_args(args, kwargs)
        try:
            inputs = job_inputs(previous if isinstance(previous, list) else [previous])
        except BadField as exc:
            raise NotAJob("previous", exc.message.replace("inputs", "the result passed on", 1)) from None
        return cls(**{**asdict(spec), "inputs": inputs})

    @classmethod
    def from_body(cls, body: bytes) -> "JobSpec":
        """Raw bytes off a queue: UTF-8 JSON of the contract's object, or NotAJob saying why not."""
        if len(body) > MAX_BODY_BYTES:
            raise NotAJob("body", f"the message is {len(body)} bytes; a job message is at most {MAX_BODY_BYTES}")
        try:
            decoded = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise NotAJob("body", f"the message is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
        except (ValueError, RecursionError) as exc:
            raise NotAJob("body", f"the message is not JSON ({str(exc)[:80]})") from None
        return cls.from_message(decoded)

    @staticmethod
    def task_num_named_in(message: Any) -> int | None:
        """The job number a refused message names, if it names a valid one (its row, where there
        is one, is told why the message was refused); raw bytes or already decoded."""
        try:
            if isinstance(message, (bytes, bytearray)):
                if len(message) > MAX_BODY_BYTES:
                    return None
                message = json.loads(message.decode("utf-8"))
            return whole(message, "task_num", 1, MAX_TASK_NUM) if isinstance(message, dict) else None
        except (ValueError, RecursionError, BadField):
            return None

    @classmethod
    def from_task_args(cls, args: Any, kwargs: Any) -> "JobSpec":
        """Celery's process_task(task_num, seconds, fail=False, flaky=0): its arguments, checked
        by the same contract (a `send_task("process_task", args=[...])` from anyone)."""
        if not isinstance(args, (list, tuple)) or not isinstance(kwargs, dict):
            raise NotAJob("args", "the task's args must be a list and its kwargs an object")
        if len(args) > len(CELERY_ARGS):
            raise NotAJob("args", f"process_task takes at most {len(CELERY_ARGS)} arguments "
                                  f"({', '.join(CELERY_ARGS)}), got {len(args)}")
        named = dict(zip(CELERY_ARGS, args))
        twice = sorted(set(named) & set(kwargs))
        if twice:
            raise NotAJob(twice[0], f"{twice[0]} was given both by position and by name")
        return cls.from_message({**named, **kwargs})


def job_inputs(value: Any) -> tuple[int, ...]:
    """The results a job follows: a list of at most MAX_INPUTS whole numbers from 0 to MAX_INPUT."""
    if not isinstance(value, list) or len(value) > MAX_INPUTS:
        raise NotAJob("inputs", f"inputs must be a list of at most {MAX_INPUTS} results, got {str(value)[:60]}")
    return tuple(int(whole({"inputs": item}, "inputs", 0, MAX_INPUT)) for item in value)
