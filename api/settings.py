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


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name) or default
    if value not in allowed:
        raise SystemExit(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _read_token_file() -> str:
    """STATUS_API_TOKEN_FILE: how compose shares a token generated once (api/make_token.py)."""
    path = os.environ.get("STATUS_API_TOKEN_FILE", "")
    if not path or not os.path.exists(path):
        return ""
    with open(path) as f:
        return f.read().strip()


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
    management_url: str
    management_public_url: str
    management_user: str
    management_password: str
    instructor_token: str
    worker_heartbeat_s: float
    worker_offline_s: float
    worker_forget_s: float
    max_attempts: int
    retry_delay_s: float
    lost_after_s: float
    history_max_age_s: float
    celery_ack_mode: str
    celery_prefetch_multiplier: int
    consumer_mode: str

    @classmethod
    def from_env(cls) -> "Settings":
        broker = urlsplit(os.environ.get("RABBITMQ_URL", "amqp://guest:guest@localhost:5672/"))
        management_url = os.environ.get("RABBITMQ_MANAGEMENT_URL", "http://localhost:15672").rstrip("/")
        return cls(
            rabbitmq_url=os.environ.get("RABBITMQ_URL", "amqp://guest:guest@localhost:5672/"),
            raw_queue=os.environ.get("RAW_QUEUE", "queue_lab.jobs"),
            celery_queue=os.environ.get("CELERY_QUEUE", "queue_lab.celery"),
            status_api_url=os.environ.get("STATUS_API_URL", "http://localhost:8080").rstrip("/"),
            status_api_token=os.environ.get("STATUS_API_TOKEN") or _read_token_file(),
            database_path=os.environ.get("DATABASE_PATH", "var/queue_lab.sqlite3"),
            consumer_prefetch=_int("CONSUMER_PREFETCH", 1),
            consumer_heartbeat=_int("CONSUMER_HEARTBEAT", 60),
            broker_timeout=_float("BROKER_TIMEOUT", 3.0),
            report_timeout=_float("REPORT_TIMEOUT", 2.0),
            report_retries=_int("REPORT_RETRIES", 3),
            management_url=management_url,
            # The link students click: in compose the API reaches "rmq:15672", the browser localhost.
            management_public_url=os.environ.get("RABBITMQ_MANAGEMENT_PUBLIC_URL", management_url).rstrip("/"),
            # Same user as the AMQP URL unless told otherwise: one account, as in the compose file.
            management_user=os.environ.get("RABBITMQ_MANAGEMENT_USER", broker.username or "guest"),
            management_password=os.environ.get("RABBITMQ_MANAGEMENT_PASSWORD", broker.password or "guest"),
            instructor_token=os.environ.get("INSTRUCTOR_TOKEN", ""),
            worker_heartbeat_s=_float("WORKER_HEARTBEAT_S", 5.0),
            worker_offline_s=_float("WORKER_OFFLINE_S", 30.0),
            worker_forget_s=_float("WORKER_FORGET_S", 300.0),
            # Fault lab (README "Try this"): retries, the lost-job sweeper, worker profiles.
            max_attempts=_int("MAX_ATTEMPTS", 3),
            retry_delay_s=_float("RETRY_DELAY_S", 2.0),
            lost_after_s=_float("LOST_AFTER_S", 10.0),
            history_max_age_s=_float("HISTORY_MAX_AGE_S", 7 * 24 * 3600.0),
            celery_ack_mode=_choice("CELERY_ACK_MODE", ("late", "early"), "late"),
            celery_prefetch_multiplier=_int("CELERY_PREFETCH_MULTIPLIER", 1),
            consumer_mode=_choice("CONSUMER_MODE", ("threaded", "naive"), "threaded"),
        )

    @property
    def naive_queue(self) -> str:
        """The naive consumer's own queue, so the heartbeat-starvation experiment is opt-in."""
        return self.raw_queue + ".naive"

    @property
    def consumer_queue(self) -> str:
        return self.naive_queue if self.consumer_mode == "naive" else self.raw_queue

    @property
    def celery_early_queue(self) -> str:
        """Where jobs for the early-ack Celery profile go (a worker with CELERY_ACK_MODE=early)."""
        return self.celery_queue + ".early"

    @property
    def maintenance_queue(self) -> str:
        """The sweeper's queue, consumed by the celery_beat process only: never behind a job."""
        return self.celery_queue + ".maintenance"

    @property
    def broker_hint(self) -> str:
        """The one line we show whenever RabbitMQ cannot be reached."""
        return (
            f"RabbitMQ is not reachable at {redact_url(self.rabbitmq_url)} — start it with "
            "`docker compose up -d rmq` (or `rabbitmq-server -detached`), or set RABBITMQ_URL"
        )
