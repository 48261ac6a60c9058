"""Celery's side of the comparison: a thin task around the same timed job the consumer runs."""
import os

from celery.signals import worker_process_init, worker_process_shutdown

from api.settings import Settings, worker_id
from api.status_reporter import StatusReporter
from api.timed_job import JobFailed, JobSpec, run_timed_job
from api.worker_heartbeat import WorkerHeartbeat
from celery_app import app

_reporters: dict[int, StatusReporter] = {}
_heartbeats: dict[int, WorkerHeartbeat] = {}


def _reporter() -> StatusReporter:
    """One reporter (one kept-alive HTTP session) per pool process; its id is `hostname-pid`."""
    pid = os.getpid()
    if pid not in _reporters:
        _reporters[pid] = StatusReporter(Settings.from_env(), worker_id())
    return _reporters[pid]


@worker_process_init.connect
def announce_pool_process(**_):
    """Each pool process runs jobs under its own id, so each announces itself (workers panel)."""
    settings = Settings.from_env()
    heartbeat = WorkerHeartbeat(_reporter(), "celery", settings.celery_queue, settings.worker_heartbeat_s)
    _heartbeats[os.getpid()] = heartbeat.start()


@worker_process_shutdown.connect
def say_goodbye(**_):
    heartbeat = _heartbeats.pop(os.getpid(), None)
    if heartbeat is not None:
        heartbeat.stop()


@app.task(name="process_task", throws=(JobFailed,))
def process_task(task_num: int, seconds: float, fail: bool = False) -> None:
    run_timed_job(JobSpec(task_num, seconds, fail), _reporter())
