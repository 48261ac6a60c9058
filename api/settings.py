"""Every address, name and secret Queue Lab uses, read from the environment in one place.

The defaults work on a laptop with RabbitMQ on localhost; docker compose and `make run` set the rest.
Credentials never have a default here: the status token must come from the environment (or `.env`,
which `make run` creates with a random token the first time).
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None


def _int(name: str, default: int) -> int:
    value = _float(name, default)
    if value != int(value):
        raise SystemExit(f"{name} must be a whole number, got {value!r}")
    return int(value)


def redact_url(url: str) -> str:
    """The URL without its password, so it can be shown in errors and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def worker_id(prefix: str = "") -> str:
    """`hostname-pid`: unique per worker process, and readable in the status table."""
    return f"{prefix}{socket.gethostname()}-{os.getpid()}"


@dataclass(frozen=True)
class Settings:
    rabbitmq_url: str
    raw_queue: str
    celery_queue: str
    status_api_url: str
    status_api_token: str
    database_path: str
    consumer_prefetch: int
    consumer_heartbeat: int
    broker_timeout: float
    report_timeout: float
    report_retries: int

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            rabbitmq_url=os.environ.get("RABBITMQ_URL", "amqp://guest:guest@localhost:5672/"),
            raw_queue=os.environ.get("RAW_QUEUE", "queue_lab.jobs"),
            celery_queue=os.environ.get("CELERY_QUEUE", "queue_lab.celery"),
            status_api_url=os.environ.get("STATUS_API_URL", "http://localhost:8080").rstrip("/"),
            status_api_token=os.environ.get("STATUS_API_TOKEN", ""),
            database_path=os.environ.get("DATABASE_PATH", "var/queue_lab.sqlite3"),
            consumer_prefetch=_int("CONSUMER_PREFETCH", 1),
            consumer_heartbeat=_int("CONSUMER_HEARTBEAT", 60),
            broker_timeout=_float("BROKER_TIMEOUT", 3.0),
            report_timeout=_float("REPORT_TIMEOUT", 2.0),
            report_retries=_int("REPORT_RETRIES", 3),
        )

    @property
    def broker_hint(self) -> str:
        """The one line we show whenever RabbitMQ cannot be reached."""
        return (
            f"RabbitMQ is not reachable at {redact_url(self.rabbitmq_url)} — start it with "
            "`docker compose up -d rmq` (or `rabbitmq-server -detached`), or set RABBITMQ_URL"
        )
