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

from queue_lab.queues import QueueLayout, QuorumQueues, RawQueues, queue_layout
from queue_lab.routing import BadRoute, Binding, parse_binds, routed_queue_name


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


def _text(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def _choice(name: str, allowed: tuple[str, ...], default: str) -> str:
    value = os.environ.get(name) or default
    if value not in allowed:
        raise SystemExit(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _binds() -> tuple[tuple[Binding, ...], str]:
    """CONSUMER_BINDS and CONSUMER_ROUTED_QUEUE (the routing lesson): the bindings and the queue's name."""
    try:
        binds = parse_binds(_text("CONSUMER_BINDS"))
        return binds, routed_queue_name(_text("CONSUMER_ROUTED_QUEUE"), binds) if binds else ""
    except BadRoute as exc:
        raise SystemExit(exc.message) from None


def _file_contents(path: str) -> str:
    """A token from a file (NAME_FILE variables): how compose shares a token generated once
    (ops/make_token.py) without anybody typing it. No path, or no file yet: empty."""
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
    report_backlog_max: int
    report_flush_s: float
    start_answer_s: float
    management_url: str
    management_public_url: str
    management_user: str
    management_password: str
    class_controls: str
    instructor_token: str
    max_waiting_jobs: int
    worker_heartbeat_s: float
    worker_offline_s: float
    worker_forget_s: float
    max_attempts: int
    retry_delay_s: float
    lost_after_s: float
    history_max_age_s: float
    celery_ack_mode: str
    celery_prefetch_multiplier: int
    celery_concurrency: int
    consumer_mode: str
    consumer_queue_type: str
    consumer_binds: tuple[Binding, ...]
    consumer_routed_queue: str
    quorum_delivery_limit: int
    celery_broker_kind: str
    redis_url: str
    redis_visibility_timeout_s: float
    result_expires_s: float
    sweep_every_s: float
    sse_max_streams: int
    sse_keepalive_s: float
    api_bind: str
    api_workers: int
    api_threads: int
    api_timeout: int
    api_access_log: str

    @classmethod
    def from_env(cls) -> "Settings":
        rabbitmq_url = _text("RABBITMQ_URL", "amqp://guest:guest@localhost:5672/")
        broker = urlsplit(rabbitmq_url)
        management_url = _text("RABBITMQ_MANAGEMENT_URL", "http://localhost:15672").rstrip("/")
        # The page's port, as for compose (which publishes it): `API_PORT=8081 make run` moves the
        # API and tells the workers where it went. API_BIND / STATUS_API_URL, when set, win.
        api_port = _int("API_PORT", 8080)
        binds, routed_queue = _binds()
        return cls(
            rabbitmq_url=rabbitmq_url,
            raw_queue=_text("RAW_QUEUE", "queue_lab.jobs"),
            celery_queue=_text("CELERY_QUEUE", "queue_lab.celery"),
            status_api_url=_text("STATUS_API_URL", f"http://localhost:{api_port}").rstrip("/"),
            status_api_token=_text("STATUS_API_TOKEN") or _file_contents(_text("STATUS_API_TOKEN_FILE")),
            database_path=_text("DATABASE_PATH", "var/queue_lab.sqlite3"),
            consumer_prefetch=_int("CONSUMER_PREFETCH", 1),
            consumer_heartbeat=_int("CONSUMER_HEARTBEAT", 60),
            broker_timeout=_float("BROKER_TIMEOUT", 3.0),
            report_timeout=_float("REPORT_TIMEOUT", 2.0),
            # Worker → API reports are kept until answered (queue_lab/status_reporter.py): how many
            # may wait before a job pauses, and how long a graceful stop waits for them to leave.
            report_backlog_max=_int("REPORT_BACKLOG_MAX", 10000),
            report_flush_s=_float("REPORT_FLUSH_S", 10.0),
            # A worker runs a job only once the API has answered its start report (the job is in
            # the table and has not finished) — or, with the API away, after this long anyway.
            start_answer_s=_float("START_ANSWER_S", 5.0),
            management_url=management_url,
            # The link students click: in compose the API reaches "rmq:15672", the browser localhost.
            management_public_url=_text("RABBITMQ_MANAGEMENT_PUBLIC_URL", management_url).rstrip("/"),
            # Same user as the AMQP URL unless told otherwise: one account, as in the compose file.
            management_user=_text("RABBITMQ_MANAGEMENT_USER", broker.username or "guest"),
            management_password=_text("RABBITMQ_MANAGEMENT_PASSWORD", broker.password or "guest"),
            # Who may kill a worker, close broker connections or reset the class: everyone (a laptop)
            # or only a browser or client that sends INSTRUCTOR_TOKEN (a class; compose's default).
            class_controls=_choice("CLASS_CONTROLS", ("everyone", "instructor"), "everyone"),
            instructor_token=_text("INSTRUCTOR_TOKEN") or _file_contents(_text("INSTRUCTOR_TOKEN_FILE")),
            # Backpressure for a shared class: jobs waiting (PENDING + SCHEDULED) before a submit is 429.
            max_waiting_jobs=_int("MAX_WAITING_JOBS", 5000),
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
            celery_concurrency=_int("CELERY_CONCURRENCY", 1),  # pool processes per Celery worker
            consumer_mode=_choice("CONSUMER_MODE", ("threaded", "naive"), "threaded"),
            # The quorum lesson: a consumer on Q.quorum, whose broker counts failed deliveries
            # (x-delivery-count) and dead-letters past the limit. Same limit in every process.
            consumer_queue_type=_choice("CONSUMER_QUEUE_TYPE", ("classic", "quorum"), "classic"),
            # The routing lesson: a consumer that binds its own queue, Q.routed.<name>, to the direct
            # and topic exchanges with these keys ("direct:email topic:*.long"; queue_lab/routing.py).
            consumer_binds=binds, consumer_routed_queue=routed_queue,
            quorum_delivery_limit=_int("QUORUM_DELIVERY_LIMIT", 3),
            # Celery on Redis beside Celery on RabbitMQ (celery_app.py): the worker profile's broker,
            # where Redis is (the API sends "Celery · Redis" jobs there), and how long a delivered,
            # unacked message stays invisible before Redis gives it to a worker again.
            celery_broker_kind=_choice("CELERY_BROKER_KIND", ("rabbitmq", "redis"), "rabbitmq"),
            redis_url=_text("REDIS_URL", "redis://127.0.0.1:6379/0"),
            redis_visibility_timeout_s=_float("REDIS_VISIBILITY_TIMEOUT_S", 30.0),
            # A kept Celery result (keep_result: the results lesson) lives this long in its backend.
            result_expires_s=_float("RESULT_EXPIRES_S", 3600.0),
            sweep_every_s=_float("SWEEP_EVERY_S", 5.0),
            # The live table: SSE streams each hold a web thread, so they are capped per process
            # (below API_THREADS); a keep-alive comment every SSE_KEEPALIVE_S keeps proxies open.
            sse_max_streams=_int("SSE_MAX_STREAMS", 112),
            sse_keepalive_s=_float("SSE_KEEPALIVE_S", 15.0),
            # gunicorn (api/gunicorn_conf.py).
            api_bind=_text("API_BIND", f"0.0.0.0:{api_port}"),
            api_workers=_int("API_WORKERS", 2),
            api_threads=_int("API_THREADS", 128),
            api_timeout=_int("API_TIMEOUT", 30),
            api_access_log=_text("API_ACCESS_LOG"),
        )

    @property
    def lost_grace_s(self) -> float:
        """How long a job *and* its worker must be silent before the sweeper calls the job LOST —
        and how long after the API starts it calls nothing LOST, while workers' kept reports and
        heartbeats arrive. Two heartbeats at least, so one late heartbeat is not a death."""
        return max(self.lost_after_s, 2 * self.worker_heartbeat_s)

    @property
    def queues(self) -> QueueLayout:
        """Every queue name, derived from RAW_QUEUE and CELERY_QUEUE (queue_lab/queues.py)."""
        return queue_layout(self.raw_queue, self.celery_queue)

    @property
    def consumer_queues(self) -> RawQueues | QuorumQueues:
        """The queues this consumer works on: the naive, the quorum and a routed consumer have their own."""
        if self.consumer_binds:
            return self.queues.routed(self.consumer_routed_queue)
        if self.consumer_queue_type == "quorum":
            return self.queues.quorum
        return self.queues.naive if self.consumer_mode == "naive" else self.queues.raw

    @property
    def redis_hint(self) -> str:
        """The one line we show whenever Redis cannot be reached (Celery · Redis)."""
        return (
            f"Redis is not reachable at {redact_url(self.redis_url)} — start it (`redis-server`, or "
            "`docker compose --profile redis up -d`), or set REDIS_URL"
        )

    @property
    def broker_hint(self) -> str:
        """The one line we show whenever RabbitMQ cannot be reached."""
        return (
            f"RabbitMQ is not reachable at {redact_url(self.rabbitmq_url)} — start it with "
            "`docker compose up -d rmq` (or `rabbitmq-server -detached`), or set RABBITMQ_URL"
        )
