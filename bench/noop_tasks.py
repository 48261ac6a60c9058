"""The Celery floor: a no-op task on Queue Lab's own Celery app and settings (`-A bench.noop_tasks`).

Each run appends one byte to a file, so the bench can count completions without a result backend.
"""
import os

from celery_app import app


@app.task(name="bench_noop")
def bench_noop(tally_path: str) -> None:
    fd = os.open(tally_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, b".")
    finally:
        os.close(fd)
