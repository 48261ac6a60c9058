"""The hand-written rate limit: how the instructor's setting reaches every raw consumer, and how
each one keeps to it — the by-hand side of the rate-limits lesson (docs/rate-limits.md).

Celery's `rate_limit` is a token bucket inside each worker, so it holds per worker: two workers,
twice the rate. Its runtime change (`app.control.rate_limit`) is a broadcast on a fanout exchange
(celery.pidbox) to the workers running at that moment. The raw path does the same by hand, as
RabbitMQ's tutorial 3 (publish/subscribe):

    Q.control        a fanout exchange: the API publishes the setting once, every consumer gets it
    (server-named)   each consumer's own exclusive queue, bound to Q.control
    Q.control.last   a durable queue bound to it too, at most one message long (x-max-length 1,
                     the oldest dropped): the latest setting, read by a consumer when it connects,
                     so a replica started later keeps the class's limit (Celery's broadcast has no
                     such memory: a new worker starts with the task's own rate_limit)

The setting is a message like any other, so anyone with the password can publish one: it is read
against its contract (`RateLimit.from_body`), and what breaks it is refused with the reason,
printed, never applied.

    {"per_minute": 12, "scope": "worker"}     12 jobs a minute on each consumer
    {"per_minute": 12, "scope": "class"}      12 a minute for the class: each consumer takes its
                                              share, 12 ÷ the consumers the broker counts on its queue
    {"per_minute": null}                      no limit
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from queue_lab.fields import BadField, json_object, one_of, whole

MAX_PER_MINUTE = 600
SCOPES = ("worker", "class")


class NotALimit(BadField):
    """A control message that breaks the contract; `.message` says why (the consumer prints it)."""


@dataclass(frozen=True)
class RateLimit:
    per_minute: int | None = None  # None: no limit
    scope: str = "worker"

    @classmethod
    def from_fields(cls, body: Any) -> "RateLimit":
        """A decoded object → RateLimit, or BadField naming the field (the API's 400 says it)."""
        body = json_object(body, {"per_minute", "scope"}, what="the rate limit")
        per_minute = None if body.get("per_minute") is None else whole(body, "per_minute", 1, MAX_PER_MINUTE)
        return cls(per_minute, one_of(body, "scope", SCOPES, "worker"))

    @classmethod
    def from_body(cls, body: bytes) -> "RateLimit":
        """Raw bytes off the control queue, from anyone: RateLimit, or NotALimit saying why not."""
        try:
            decoded = json.loads(body[:4096].decode("utf-8")) if len(body) <= 4096 else None
        except (UnicodeDecodeError, ValueError):
            raise NotALimit("body", "the control message is not UTF-8 JSON") from None
        if decoded is None:
            raise NotALimit("body", "the control message must be a JSON object of at most 4096 bytes")
        try:
            return cls.from_fields(decoded)
        except BadField as exc:
            raise NotALimit(exc.field, exc.message) from None

    def to_body(self) -> bytes:
        return json.dumps({"per_minute": self.per_minute, "scope": self.scope}).encode()

    def facts(self) -> dict:
        """For the worker's heartbeat profile: what the workers panel shows."""
        if self.per_minute is None:
            return {"rate_limit_per_min": None, "rate_limit_scope": None}
        return {"rate_limit_per_min": self.per_minute, "rate_limit_scope": self.scope}

    # [rate-limits: begin]
    def interval_s(self, consumers: int) -> float:
        """Seconds between two starts on one consumer: 60 / its share of the limit."""
        share = self.per_minute / max(consumers, 1) if self.scope == "class" else self.per_minute
        return 60.0 / share
    # [rate-limits: end]


# [rate-limits: begin]
def declare_control(channel, control_exchange: str, last_setting: str) -> None:
    """Both sides declare the same control topology (either may start first)."""
    channel.exchange_declare(control_exchange, exchange_type="fanout", durable=True)
    channel.queue_declare(last_setting, durable=True, arguments={"x-max-length": 1})  # the latest one only
    channel.queue_bind(last_setting, control_exchange)


class Limiter:
    """A token bucket of one token, as Celery's (kombu's TokenBucket, capacity 1): the first job
    starts at once, each next one `interval` after the one before. Set from the pika thread, waited
    on by the job thread; `consumers` is what the pika thread last counted on the queue."""

    def __init__(self):
        self.limit = RateLimit()
        self.consumers = 1
        self._next_start = 0.0
        self._lock = threading.Lock()

    def set(self, limit: RateLimit) -> None:
        with self._lock:
            self.limit, self._next_start = limit, 0.0  # a new setting starts with a full bucket

    def wait(self, *interrupt: threading.Event) -> float | None:
        """Wait for this job's turn; the seconds waited, or None if an event was set meanwhile."""
        waited = 0.0
        while True:
            with self._lock:
                if self.limit.per_minute is None:
                    return waited
                now = time.monotonic()
                if now >= self._next_start:
                    self._next_start = now + self.limit.interval_s(self.consumers)
                    return waited
                pause = min(self._next_start - now, 0.5)  # a new setting or a stop is seen within 0.5 s
            if interrupt:
                interrupt[0].wait(pause)
            else:
                time.sleep(pause)
            if any(event.is_set() for event in interrupt):
                return None
            waited += pause
# [rate-limits: end]
