"""Celery's side of the comparison: thin tasks around the same timed job the consumer runs.

Retries are declared, not written: `autoretry_for` + `retry_backoff` + `retry_jitter` +
`max_retries` on the task (compare consumer/job_thread.py, which does the same by hand). Two signal
handlers tell the status table what Celery decided: `task_retry` (RETRYING, and when) and
`task_failure` for a hard time limit, which kills the pool process before the job can say anything.
"""
import collections
import datetime
import logging
import os
import socket

from celery.exceptions import TimeLimitExceeded
from celery.signals import (
    celeryd_after_setup, task_failure, task_received, task_retry, worker_process_init, worker_process_shutdown,
    worker_ready, worker_shutdown,
)
from celery.worker import state as worker_state
from celery.worker.control import control_command, ok

from celery_app import ACKS_LATE, app, settings
from queue_lab import api_paths
from queue_lab.job_states import ERROR, RETRYING
from queue_lab.settings import worker_id
from queue_lab.status_reporter import StatusReporter
from queue_lab.job_message import CELERY_ARGS, JobSpec, NotAJob
from queue_lab.timed_job import FlakyFailure, JobFailed, JobRefused, run_timed_job
from queue_lab.worker_heartbeat import WorkerHeartbeat

log = logging.getLogger("queue_lab.sweeper")
refusals = logging.getLogger("queue_lab.celery")
_reporters: dict[int, StatusReporter] = {}
_heartbeats: dict[int, WorkerHeartbeat] = {}


def _reporter() -> StatusReporter:
    """One reporter (one kept-alive HTTP session) per process; its id is `hostname-pid`."""
    pid = os.getpid()
    if pid not in _reporters:
        _reporters[pid] = StatusReporter(settings, worker_id())
    return _reporters[pid]


def _profile() -> dict:
    """What the workers panel shows about this worker's settings (api/validation.py: PROFILE_FACTS)."""
    facts = {"ack": "late" if ACKS_LATE else "early", "prefetch_multiplier": settings.celery_prefetch_multiplier,
             "results": "redis" if settings.celery_broker_kind == "redis" else "rpc://"}
    if settings.celery_broker_kind == "redis":
        facts["visibility_timeout_s"] = settings.redis_visibility_timeout_s
    return facts


def _consumed_queues() -> list[str]:
    return sorted(app.amqp.queues.consume_from or [app.conf.task_default_queue])  # -Q, if given


_node: dict = {}  # this worker's node name (celery@host), set in the main process before the pool forks


@celeryd_after_setup.connect
def remember_node(sender=None, **_):
    _node["name"] = str(sender)


@worker_process_init.connect
def announce_pool_process(**_):
    """Each pool process runs jobs under its own id, so each announces itself (workers panel), saying
    which node (worker) it is a process of."""
    consumed = _consumed_queues()
    sweeper = consumed == [settings.queues.maintenance]
    profile = {"role": "sweeper"} if sweeper else {**_profile(), "node": _node.get("name")}
    heartbeat = WorkerHeartbeat(_reporter(), "celery", ",".join(consumed), settings.worker_heartbeat_s,
                                profile, broker=settings.celery_broker_kind, prefetch=settings.celery_prefetch_multiplier)
    _heartbeats[os.getpid()] = heartbeat.start()


# ---- the worker itself (the main process): its pool, its prefetch, and what it holds (the concurrency
# lesson, docs/concurrency.md). The pool processes run jobs; the main process alone talks to the broker
# and holds every message delivered to this worker — running or waiting for a free process — unacked.

def _node_facts(consumer) -> dict:
    """The node's pool and prefetch as they are now (pool_grow/shrink and our prefetch command change them)."""
    running = len(worker_state.active_requests)
    return {"processes": consumer.pool.num_processes, "prefetch_count": int(consumer.qos.value or 0),
            "prefetch_multiplier": consumer.prefetch_multiplier, "running": running,
            "reserved": max(0, len(worker_state.reserved_requests) - running)}


@worker_ready.connect
def announce_node(sender=None, **_):
    """The node announces itself beside its pool processes (kind celery_node), with what it holds."""
    if _consumed_queues() == [settings.queues.maintenance]:
        return  # the sweeper's worker: not a student's
    heartbeat = WorkerHeartbeat(_reporter(), "celery_node", ",".join(_consumed_queues()), settings.worker_heartbeat_s,
                                {"node": _node.get("name"), **_profile()},
                                broker=settings.celery_broker_kind, prefetch=0, refresh=lambda: _node_facts(sender))
    _heartbeats[os.getpid()] = heartbeat.start()


@worker_shutdown.connect
def node_goodbye(**_):
    heartbeat = _heartbeats.pop(os.getpid(), None)
    if heartbeat is not None:
        heartbeat.stop()


# [concurrency: begin] (counted on the page: what each knob takes)
@control_command(args=[("n", int)], signature="N")
def queue_lab_prefetch_multiplier(state, n=1, **_):
    """Celery has no remote control for worker_prefetch_multiplier; this is one (the page's control):
    prefetch_count becomes processes × n, applied at once with basic.qos."""
    consumer = state.consumer
    consumer.prefetch_multiplier = n
    consumer.initial_prefetch_count = consumer.pool.num_processes * n
    consumer.qos.value = consumer.initial_prefetch_count  # kombu's QoS keeps the value it applies...
    consumer.qos.update()  # ...and applies it now (basic.qos)
    return ok(f"prefetch_count {consumer.initial_prefetch_count}")
# [concurrency: end]


@worker_process_shutdown.connect
def say_goodbye(**_):
    _reporter().flush()  # the last reports leave before the process does
    heartbeat = _heartbeats.pop(os.getpid(), None)
    if heartbeat is not None:
        heartbeat.stop()


# Both job tasks run the same timed job with the same retries.
TASK_OPTIONS = dict(
    bind=True, throws=(JobFailed,),
    # [retries: begin] (counted on the page: lines each method needs for retries)
    autoretry_for=(FlakyFailure,),  # a flaky failure is retried by Celery...
    retry_backoff=settings.retry_delay_s,  # ...after 2 s, 4 s, 8 s... (exponential)
    retry_jitter=True,  # ...each drawn at random below that, so retries don't stampede
    max_retries=settings.max_attempts - 1)  # ...and MAX_ATTEMPTS runs in all
    # [retries: end]


@app.task(name="process_task", **TASK_OPTIONS)
def process_task(self, *args, **kwargs) -> int | None:
    """process_task(task_num, seconds, fail=False, flaky=0) → the job's result (timed_job.job_answer).
    Anyone can send it by name (`send_task("process_task", args=[...])`), so the arguments are
    checked like any message."""
    return _run_job(self, "process_task", lambda: JobSpec.from_task_args(args, kwargs), args, kwargs)


@app.task(name="process_long_task", **TASK_OPTIONS)
def process_long_task(self, *args, **kwargs) -> int | None:
    """The routes lesson's second kind of job: process_task's job under another name, which
    task_routes (celery_app.py) sends to the long lane's queue — where only the worker started with
    `-Q <CELERY_QUEUE>.long` takes it, so a long job never holds up the short ones in the default queue."""
    return _run_job(self, "process_long_task", lambda: JobSpec.from_task_args(args, kwargs), args, kwargs)


# [canvas: begin] (counted on the page: lines each method needs for a chain and a chord)
@app.task(name="process_after", **TASK_OPTIONS)
def process_after(self, previous=None, *args, **kwargs) -> int | None:
    """A canvas step (api/canvas.py): process_after(previous, task_num, seconds, …). Celery passes the
    result of the job before it first (a chain), or the list of a chord's results (its callback);
    the job adds them to its own answer. Checked like any message: anyone can send it too."""
    return _run_job(self, "process_after", lambda: JobSpec.after(previous, args, kwargs), args, kwargs)
# [canvas: end]


def _run_job(task, name: str, read_job, args: tuple, kwargs: dict) -> int | None:
    try:
        job = read_job()
    except NotAJob as exc:  # refused, not retried: it would break the same way every time
        refusals.warning(" [!] refused %s%r: %s", name, (*args, *kwargs.items()), exc.message)
        task_num = JobSpec.task_num_named_in(dict(zip(CELERY_ARGS, args)) | kwargs)
        if task_num is not None:  # its row, if there is one still waiting, says why
            _reporter()(task_num, ERROR, message=f"a message for this job was refused ({exc.message})")
        return None
    if (task.request.headers or {}).get(GET_IN_TASK):
        return _get_inside(task, job)
    attempt = task.request.retries + 1
    try:
        return run_timed_job(job, _reporter(), attempt=attempt)
    except JobRefused as exc:  # not in the table, or already ended: it never runs (again)
        refusals.warning(" [x] skipped %s #%s: %s", name, job.task_num, exc.refusal.reason)
        return None
    # [retries: begin]
    except FlakyFailure as exc:
        if task.request.retries >= task.max_retries:
            _reporter()(job.task_num, ERROR, message=f"gave up after {attempt} attempts: {exc}")
        raise  # autoretry_for turns this into a retry while attempts remain
    # [retries: end]


GET_IN_TASK = "queue_lab_get_in_task"  # the header that asks for the trap (api/job_dispatch.py)


def _get_inside(task, job: JobSpec) -> None:
    """The fault lab's trap: wait for a result inside a task, as `.get()` on a subtask would. With one
    pool process per worker the task it waits for could never start — a deadlock — so Celery refuses
    before waiting (disable_sync_subtasks); the row says so, in Celery's words, and the job ends."""
    try:
        task.AsyncResult(task.request.id).get(timeout=1)
        message = "Celery allowed .get() inside a task (disable_sync_subtasks is off)"
    except RuntimeError as exc:
        message = f"Celery refused .get() inside a task: {exc}"
    except Exception as exc:  # noqa: BLE001 - whatever it was, the row says it
        message = f".get() inside a task failed: {type(exc).__name__}: {exc}"
    _reporter()(job.task_num, ERROR, message=message)


def _task_num(task_name: str | None, args, kwargs: dict):
    """The job number in a job task's arguments (process_after's come after what it was passed)."""
    args = list(args or [])[1:] if task_name == "process_after" else list(args or [])
    return args[0] if args else kwargs.get("task_num")


# [retries: begin]
@task_retry.connect
def report_retrying(request=None, reason=None, **_):
    """Celery scheduled the next attempt: RETRYING, with when it is due."""
    when = getattr(reason, "when", None) or 0
    if isinstance(when, datetime.datetime):
        when = (when - datetime.datetime.now(when.tzinfo)).total_seconds()
    task_num = _task_num(request.task, request.args, request.kwargs)
    _reporter()(task_num, RETRYING, retry_in_s=max(0.0, float(when)),
                message=f"attempt {request.retries + 1} failed: {reason.exc}; Celery retries in "
                        f"{float(when):.1f} s (retry_backoff with jitter)")
# [retries: end]


_received: collections.OrderedDict = collections.OrderedDict()  # main process: task id → request


@task_received.connect
def remember_request(request=None, **_):
    """Celery forgets a timed-out request before telling us about it; we keep a note of the last
    few, to know which pool process ran it."""
    _received[request.id] = request
    while len(_received) > 1000:
        _received.popitem(last=False)


@task_failure.connect
def report_hard_time_limit(sender=None, task_id=None, exception=None, args=None, kwargs=None, **_):
    """A hard time limit kills the pool process mid-job, so the worker's main process reports —
    in the name of the pool process that ran the job (the row belongs to that run)."""
    if not isinstance(exception, TimeLimitExceeded) or not args:
        return
    request = _received.pop(task_id, None)
    pool_pid = getattr(request, "worker_pid", None) or os.getpid()
    _reporter()(_task_num(getattr(sender, "name", None), args, kwargs or {}), ERROR,
                worker_id=f"{socket.gethostname()}-{pool_pid}",
                message=f"hard time limit exceeded ({exception}): Celery killed the pool process that ran it")


@app.task(name="sweep_lost_jobs")
def sweep_lost_jobs() -> None:
    """Every SWEEP_EVERY_S (celery beat): ask the API to mark silent running jobs LOST and to prune
    old history. The API owns the database; this task only knocks on its door. Quiet unless it finds
    something (the celery_beat process logs at WARNING): the workers' lines stay readable."""
    answer = _reporter().post(api_paths.SWEEP, {}, "sweep of lost jobs") or {}
    if answer.get("lost"):
        log.warning(" [!] sweeper: no report and no heartbeat for a while, now LOST: %s",
                    ", ".join(f"#{num}" for num in answer["lost"]))
    if answer.get("pruned"):
        log.warning(" [*] sweeper: forgot %d finished job(s) older than HISTORY_MAX_AGE_S", answer["pruned"])
