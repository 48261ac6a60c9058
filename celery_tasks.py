"""Celery's side of the comparison: a thin task around the same timed job the consumer runs."""
import os

from api.settings import Settings, worker_id
from api.status_reporter import StatusReporter
from api.timed_job import JobFailed, JobSpec, run_timed_job
from celery_app import app

_reporters: dict[int, StatusReporter] = {}


def _reporter() -> StatusReporter:
    """One reporter (one kept-alive HTTP session) per pool process; its id is `hostname-pid`."""
    pid = os.getpid()
    if pid not in _reporters:
        _reporters[pid] = StatusReporter(Settings.from_env(), worker_id())
    return _reporters[pid]


@app.task(name="process_task", throws=(JobFailed,))
def process_task(task_num: int, seconds: float, fail: bool = False) -> None:
    run_timed_job(JobSpec(task_num, seconds, fail), _reporter())
