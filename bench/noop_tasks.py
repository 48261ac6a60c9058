"""The Celery floor: a no-op task on Queue Lab's own Celery app and settings (`-A bench.noop_tasks`;
the floor workers on Redis start with CELERY_BROKER_KIND=redis, as ours do).

Each run appends one byte to a file, so the bench can count completions without a result backend.
The bench process itself sends to both brokers, as the API does: `NOOP_BY_BROKER`.
"""
import os

from celery_app import app, celery_app_for, settings


def _append_one_byte(tally_path: str) -> None:
    fd = os.open(tally_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, b".")
    finally:
        os.close(fd)


bench_noop = app.task(name="bench_noop")(_append_one_byte)
_other_broker = "rabbitmq" if settings.celery_broker_kind == "redis" else "redis"
NOOP_BY_BROKER = {settings.celery_broker_kind: bench_noop,
                  _other_broker: celery_app_for(_other_broker).task(name="bench_noop")(_append_one_byte)}
