"""Sending freshly written PENDING jobs on their way, one function per method.

Each returns normally when every job was handed over, or raises BrokerUnavailable after marking the
jobs it could not send as ERROR with the reason — so no row is ever left PENDING with nothing queued.
"""
from __future__ import annotations

import functools
import logging

import kombu.exceptions
import redis.exceptions

from api.canvas import send_celery_canvas, waiting_steps
from api.celery_results import CeleryResults
from api.job_store import JobStore, UnknownTask
from api.raw_publisher import BrokerUnavailable, RawPublisher
from api.validation import Submission
from queue_lab.job_states import REFUSED, Report
from queue_lab.queues import QuorumQueues, RawQueues
from queue_lab.settings import Settings, worker_id
from queue_lab.job_message import JobSpec
from queue_lab.timed_job import JobFailed, JobRefused, Refusal, run_timed_job

log = logging.getLogger("queue_lab.dispatch")


def celery_options(order: Submission, settings: Settings) -> dict:
    """apply_async options for the fault lab; none for a plain job, which goes by delay()."""
    options = {}
    if order.delay_s:
        options["countdown"] = order.delay_s  # the worker holds it, unacked, until it is due
    if order.celery_ack == "early":
        options["queue"] = settings.queues.celery_early
    if order.get_in_task:  # the trap: the task calls .get() on a result (celery_tasks.GET_IN_TASK)
        options["headers"] = {"queue_lab_get_in_task": True}
    if order.time_limit_s is not None:
        if order.time_limit_kind == "soft":  # SoftTimeLimitExceeded inside the job: it reports
            options.update(soft_time_limit=order.time_limit_s, time_limit=order.time_limit_s + 5)
        else:  # the pool process is killed at the limit; the main process reports
            options["time_limit"] = order.time_limit_s
    return options


@functools.cache
def celery_on_redis():
    """The same Celery app, every setting the same, on Redis: where "Celery · Redis" jobs go."""
    from celery_app import celery_app_for

    return celery_app_for("redis")


def celery_app(on_redis: bool):
    """The app a Celery job of this method goes by (and whose result backend keeps its result)."""
    from celery_tasks import process_task  # imported here: the page works even if Celery is absent

    return celery_on_redis() if on_redis else process_task.app


def send_by_celery(specs: list[JobSpec], order: Submission, store: JobStore,
                   settings: Settings, on_redis: bool = False, results: CeleryResults | None = None) -> None:
    """By `process_task.delay()` on RabbitMQ; on Redis, the same message by the Redis app's send_task
    (this process's task object is bound to the RabbitMQ app). A job that keeps its result is sent
    from `results`' thread, whose reply queue rpc:// sends the result back to."""
    from celery_tasks import process_long_task, process_task  # here: the page works even if Celery is absent

    # [exchanges: begin]
    # [routes: begin] The long lane: another task name, and task_routes (celery_app.py) picks its queue.
    task = process_long_task if order.lane == "long" else process_task
    # [routes: end]
    # [exchanges: end]
    options = celery_options(order, settings)
    hint = settings.redis_hint if on_redis else settings.broker_hint
    sent: list[tuple[int, str]] = []

    def send(args: list):
        if on_redis:
            return celery_on_redis().send_task(task.name, args, **options)
        # delay(*args) is apply_async(args) without options: the lesson's one-liner
        return task.apply_async(args, **options) if options else task.delay(*args)

    # Said every time: send_task (the Redis path) knows no task's default, and without it would
    # subscribe to every job's result on Redis. keep_result: this job's result goes to the backend too.
    # [results: begin] (counted on the page: lines each method needs to get a result back)
    if order.keep_result or on_redis:
        options["ignore_result"] = not order.keep_result
    # [results: end]
    try:
        if order.canvas:  # one apply_async carries the whole chain or chord (api/canvas.py)
            sent += _redis_error_unwrapped(lambda: send_celery_canvas(celery_app(on_redis), specs, order.canvas))
        for spec in specs if not order.canvas else ():
            args = spec.to_task_args()
            # [results: begin]
            result = _redis_error_unwrapped(
                lambda: results.run(lambda: send(args)) if order.keep_result and results else send(args))  # noqa: B023
            # [results: end]
            sent.append((spec.task_num, result.id))
    except (kombu.exceptions.OperationalError, OSError, redis.exceptions.RedisError) as exc:
        log.warning("celery publish failed after %d of %d jobs: %s", len(sent), len(specs), exc)
        _give_up_on_unsent(specs, {num for num, _ in sent}, store, hint)
        raise BrokerUnavailable(hint, "redis" if on_redis else "rabbitmq") from exc
    finally:
        if sent:
            store.set_celery_ids(sent)


def _redis_error_unwrapped(call):
    """`call()`, with the RuntimeError Celery raises when its Redis result backend gave up
    reconnecting turned back into the Redis error it wraps (so it is a 503 like any broker error)."""
    try:
        return call()
    except RuntimeError as exc:
        if isinstance(exc.__cause__, (OSError, redis.exceptions.RedisError)):
            raise exc.__cause__ from exc
        raise


def raw_queues(order: Submission, settings: Settings) -> RawQueues | QuorumQueues:
    """The raw path's queue family for a submission: the quorum one, the naive one, or the default."""
    layout = settings.queues
    if order.queue_type == "quorum":
        return layout.quorum
    return layout.naive if order.consumer == "naive" else layout.raw


def work_queue(order: Submission, settings: Settings) -> str:
    """The queue a submission's jobs are published to: each row keeps it (a fact the page reads)."""
    if order.method == "rabbitmq":  # routed by an exchange: its name, the broker picks the queues
        return settings.queues.exchanges[order.exchange] if order.exchange else raw_queues(order, settings).work
    if order.lane == "long":
        return settings.queues.celery_long
    return settings.queues.celery_early if order.celery_ack == "early" else settings.queues.celery


def send_by_rabbitmq(specs: list[JobSpec], order: Submission, store: JobStore,
                     publisher: RawPublisher, reply_ids: dict[int, str] | None = None) -> None:
    queues = raw_queues(order, publisher.settings)
    waiting = waiting_steps(specs, order.canvas)  # by hand, a step is sent when its jobs are DONE
    try:
        publisher.publish_jobs([spec for spec in specs if spec.task_num not in waiting], queues=queues,
                               delay_s=order.delay_s, reply_ids=reply_ids,
                               route=(order.exchange, order.routing_key) if order.exchange else None)
    except BrokerUnavailable as exc:
        log.warning("raw publish failed after %d of %d jobs: %s", len(exc.sent), len(specs), exc)
        _give_up_on_unsent(specs, set(exc.sent), store, str(exc))
        raise


class StoreReporter:
    """The synchronous path's reporter: straight to the store, not over HTTP (a request calling its
    own server could wait on itself when every web thread is busy). Same contract as a worker's."""

    def __init__(self, store: JobStore, worker: str):
        self.store, self.worker_id = store, worker
        self._refused: dict[tuple, Refusal] = {}

    def __call__(self, task_num: int, task_status: str, **fields) -> None:
        report = Report(task_status, self.worker_id, **fields)
        try:
            decision, row = self.store.advance(task_num, report)
            result = {"status": 409 if decision.outcome == REFUSED else 200, "task_status": row["task_status"]}
        except UnknownTask:  # a class reset took the row while the job ran
            result = {"status": 404}
        refusal = Refusal.from_answer(task_num, result)
        if refusal is not None:
            self._refused[(task_num, report.run_id)] = refusal

    def refusal(self, task_num: int, run_id: str, wait_for_start: bool = False) -> Refusal | None:
        return self._refused.get((task_num, run_id))


def run_synchronously(specs: list[JobSpec], store: JobStore) -> None:
    """The same job, inside this web request, reporting through StoreReporter."""
    report = StoreReporter(store, worker_id("api-"))
    for spec in specs:
        try:
            run_timed_job(spec, report)
        except (JobFailed, JobRefused):
            pass  # already reported as ERROR, or its row is gone; the next job still runs


def _give_up_on_unsent(specs, sent: set[int], store: JobStore, reason: str) -> None:
    store.fail_unsent([spec.task_num for spec in specs if spec.task_num not in sent], reason)
